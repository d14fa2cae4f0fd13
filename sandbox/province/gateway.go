package province

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"zwfw/sandbox/gwserver"
)

// Endpoint groups, the unit of fault injection.
const (
	GroupCatalog  = "catalog"
	GroupIdentity = "identity"
	GroupLicenses = "licenses"
	GroupCases    = "cases"
	GroupAll      = "*"
)

// Gateway error codes (HTTP 401).
const (
	CodeAppKeyUnknown    = gwserver.CodeAppKeyUnknown
	CodeSignatureMissing = gwserver.CodeSignatureMissing
	CodeSignatureInvalid = gwserver.CodeSignatureInvalid
	CodeTimestampSkew    = gwserver.CodeTimestampSkew
	CodeNonceReplayed    = gwserver.CodeNonceReplayed
	// CodeAPINotFound: no API at that method and path (404).
	CodeAPINotFound = gwserver.CodeAPINotFound
)

// Service error codes.
const (
	CodeOK                     = gwserver.CodeOK
	CodeParamInvalid           = gwserver.CodeParamInvalid           // 400
	CodePageTokenInvalid       = "PAGE_TOKEN_INVALID"                // 400
	CodeItemNotFound           = "ITEM_NOT_FOUND"                    // 404
	CodeIDNumberInvalid        = "ID_NUMBER_INVALID"                 // 400
	CodeUSCCInvalid            = "USCC_INVALID"                      // 400
	CodeCompanyNotFound        = "COMPANY_NOT_FOUND"                 // 404
	CodeLicenseNotFound        = "LICENSE_NOT_FOUND"                 // 404
	CodeLicenseNotValid        = "LICENSE_NOT_VALID"                 // 409
	CodeItemNotOnline          = "ITEM_NOT_ONLINE"                   // 409
	CodeFormInvalid            = "FORM_INVALID"                      // 400
	CodeDeliveryNotSupported   = "DELIVERY_NOT_SUPPORTED"            // 400
	CodeCaseNotFound           = "CASE_NOT_FOUND"                    // 404
	CodeCaseStateConflict      = "CASE_STATE_CONFLICT"               // 409
	CodeSupplementIncomplete   = "SUPPLEMENT_INCOMPLETE"             // 400
	CodeEvaluationInvalid      = "EVALUATION_INVALID"                // 400
	CodeEvaluationExists       = "EVALUATION_EXISTS"                 // 409
	CodeIdempotencyKeyRequired = gwserver.CodeIdempotencyKeyRequired // 400
	CodeIdempotencyKeyConflict = gwserver.CodeIdempotencyKeyConflict // 409
	CodeBodyTooLarge           = gwserver.CodeBodyTooLarge           // 413
	CodeRateLimited            = gwserver.CodeRateLimited            // 429 (injected)
	CodeInternalError          = gwserver.CodeInternalError          // 500 (injected)
	CodeBadGateway             = gwserver.CodeBadGateway             // 502 (injected)
	CodeServiceUnavailable     = gwserver.CodeServiceUnavailable     // 503 (injected)
	CodeGatewayTimeout         = gwserver.CodeGatewayTimeout         // 504 (injected)
	CodeUpstreamError          = gwserver.CodeUpstreamError          // other injected 5xx
	CodeSandboxInjectedFailure = gwserver.CodeSandboxInjectedFailure // other injected 4xx
)

const (
	// CodeSuccessMessage is the message of code "0".
	CodeSuccessMessage = gwserver.MessageOK
)

// apiError is a coded error answer, as the shared gateway mechanics
// render it.
type apiError = gwserver.Refusal

// errorf is gwserver.Refuse.
func errorf(status int, code, format string, args ...any) *apiError {
	return gwserver.Refuse(status, code, format, args...)
}

// call is one authenticated gateway request as a handler sees it.
type call struct {
	r    *http.Request
	body []byte
	now  time.Time
}

// decode parses the JSON body into v.
func (c *call) decode(v any) *apiError {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return errorf(http.StatusBadRequest, CodeParamInvalid, "请求体不能为空")
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errorf(http.StatusBadRequest, CodeParamInvalid, "请求体不是合法的JSON：%v", err)
	}
	return nil
}

// route is one gateway API.
type route struct {
	group, method, path, what string
	// idempotent writes must carry Idempotency-Key.
	needsKey bool
	fn       func(c *call) (any, *apiError)
}

func (s *Server) routes() []route {
	return []route{
		{group: GroupCatalog, method: "GET", path: "/api/catalog/items", fn: s.searchItems, what: "search the item catalog: q, audience, dept, page_token, page_size"},
		{group: GroupCatalog, method: "GET", path: "/api/catalog/items/{code}", fn: s.getGuide, what: "an item's guide (办事指南)"},
		{group: GroupCatalog, method: "GET", path: "/api/catalog/halls", fn: s.getHalls, what: "halls, all or those handling item_code"},
		{group: GroupCatalog, method: "GET", path: "/api/catalog/departments", fn: s.getDepartments, what: "the departments that implement items (code: the items search's dept filter)"},
		{group: GroupIdentity, method: "POST", path: "/api/identity/realname/verify", fn: s.realnameVerify, what: `real-name check {"name","id_number"}`},
		{group: GroupIdentity, method: "POST", path: "/api/identity/company/verify", fn: s.companyVerify, what: `company operator check {"uscc","operator_name","operator_id_number"}`},
		{group: GroupLicenses, method: "POST", path: "/api/licenses/query", fn: s.queryLicenses, what: `a holder's e-licences {"holder_type","holder_id"}`},
		{group: GroupLicenses, method: "POST", path: "/api/licenses/{id}/verify-code", fn: s.issueVerifyCode, what: `5-minute verify code for showing a licence {"holder_id"}`},
		{group: GroupLicenses, method: "GET", path: "/api/licenses/verify", fn: s.checkVerifyCode, what: "a clerk checks a verify code: code="},
		{group: GroupCases, method: "POST", path: "/api/cases", fn: s.submitCase, needsKey: true, what: `submit an application {"item_code","applicant","form","materials","delivery"} (Idempotency-Key)`},
		{group: GroupCases, method: "GET", path: "/api/cases/{case_number}", fn: s.getCaseAPI, what: "a case with its history; optional query_password="},
		{group: GroupCases, method: "POST", path: "/api/cases/{case_number}/supplement", fn: s.supplementCase, needsKey: true, what: `upload the requested materials {"materials","note"} (Idempotency-Key)`},
		{group: GroupCases, method: "POST", path: "/api/cases/{case_number}/withdraw", fn: s.withdrawCase, needsKey: true, what: `withdraw before completion {"reason"} (Idempotency-Key)`},
		{group: GroupCases, method: "POST", path: "/api/cases/{case_number}/evaluation", fn: s.evaluateCase, needsKey: true, what: `好差评 {"level":1-5,"comment","tags"} (Idempotency-Key)`},
	}
}

// unknownAPI answers paths below BasePath no route serves.
func (s *Server) unknownAPI(c *call) (any, *apiError) {
	return nil, errorf(http.StatusNotFound, CodeAPINotFound, "接口不存在：%s %s", c.r.Method, strings.TrimPrefix(c.r.URL.Path, BasePath))
}

// gateway wraps a route with what the real gateway does around every API
// (gwserver): counting, authentication, injected faults, idempotency, the
// envelope and the response signature. Refusals under an Idempotency-Key
// are stored and replayed like successes (Options.ReplayRefusals).
func (s *Server) gateway(rt route) http.HandlerFunc {
	endpoint := rt.method + " " + rt.path
	if rt.method == "" {
		endpoint = "* " + rt.path
	}
	return func(w http.ResponseWriter, r *http.Request) {
		below := strings.TrimPrefix(r.URL.EscapedPath(), BasePath)
		req, ok := s.gw.Admit(w, r, endpoint, below)
		if !ok {
			return
		}
		now := req.Now
		var lost bool   // a "lost" fault: serve, then drop the answer
		var late *Fault // a "late" fault: serve, then hold the answer
		if rt.group != "" {
			if f, ok := s.gw.TakeFault(rt.group, endpoint); ok {
				if f.Mode == FaultLost {
					lost = true
				} else if f.Mode == FaultLate {
					late = &f
				} else if !s.gw.Inject(w, r, f, req.SignMethod, req.RequestID) {
					return
				} else {
					now = s.now() // a "slow" fault let time pass
				}
			}
		}
		if lost {
			// Served in full (Once stores the answer for the retry), never delivered.
			w = &lostAnswer{ResponseWriter: w}
			defer func() {
				s.log.Warn("province fault injected", "group", rt.group, "mode", FaultLost, "path", r.URL.Path)
				gwserver.DropConnection(w.(*lostAnswer).ResponseWriter)
			}()
		}
		if late != nil {
			// Served in full now (Once stores the answer for a retry), sent later.
			held := &heldAnswer{ResponseWriter: w, header: http.Header{}}
			w = held
			defer func() {
				s.log.Warn("province fault injected", "group", rt.group, "mode", FaultLate, "path", r.URL.Path, "delay_ms", late.DelayMS)
				if gwserver.HoldAnswer(r, *late) {
					held.deliver()
				}
			}()
		}
		c := &call{r: r, body: req.Body, now: now}
		reply := func(data any, e *apiError) {
			s.gw.Reply(w, r, req.SignMethod, req.RequestID, data, e)
		}
		if r.Method != http.MethodPost {
			reply(rt.fn(c))
			return
		}
		key := r.Header.Get(HeaderIdempotencyKey)
		switch {
		case key == "" && rt.needsKey:
			reply(nil, errorf(http.StatusBadRequest, CodeIdempotencyKeyRequired, "写操作须携带 Idempotency-Key 请求头"))
		case key == "":
			reply(rt.fn(c))
		case len(key) > gwserver.MaxIdempotencyKeyLen:
			reply(nil, errorf(http.StatusBadRequest, CodeParamInvalid, "Idempotency-Key 不能超过%d个字符", gwserver.MaxIdempotencyKeyLen))
		default:
			status, out, rf := s.gw.Once(key, r.Method+" "+below, BodyHash(MethodSM3, req.Body), now, func() (int, []byte) {
				data, e := rt.fn(c)
				return s.gw.Render(req.RequestID, data, e)
			})
			if rf != nil {
				reply(nil, rf)
				return
			}
			s.gw.Send(w, r, req.SignMethod, status, out)
		}
	}
}

// lostAnswer swallows an answer the "lost" fault will not deliver.
type lostAnswer struct {
	http.ResponseWriter
	header http.Header
}

func (l *lostAnswer) Header() http.Header {
	if l.header == nil {
		l.header = http.Header{}
	}
	return l.header
}
func (l *lostAnswer) Write(b []byte) (int, error) { return len(b), nil }
func (l *lostAnswer) WriteHeader(int)             {}

// heldAnswer keeps an answer the "late" fault sends after its delay.
type heldAnswer struct {
	http.ResponseWriter
	header http.Header
	status int
	body   []byte
}

func (h *heldAnswer) Header() http.Header { return h.header }
func (h *heldAnswer) Write(b []byte) (int, error) {
	h.body = append(h.body, b...)
	return len(b), nil
}
func (h *heldAnswer) WriteHeader(status int) { h.status = status }

// deliver sends the held answer.
func (h *heldAnswer) deliver() {
	for k, v := range h.header {
		h.ResponseWriter.Header()[k] = v
	}
	if h.status != 0 {
		h.ResponseWriter.WriteHeader(h.status)
	}
	_, _ = h.ResponseWriter.Write(h.body)
}
