package province

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"zwfw/sandbox/fake"
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
	CodeAppKeyUnknown    = "GW_APP_KEY_UNKNOWN"
	CodeSignatureMissing = "GW_SIGNATURE_MISSING"
	CodeSignatureInvalid = "GW_SIGNATURE_INVALID"
	CodeTimestampSkew    = "GW_TIMESTAMP_SKEW"
	CodeNonceReplayed    = "GW_NONCE_REPLAYED"
	// CodeAPINotFound: no API at that method and path (404).
	CodeAPINotFound = "GW_API_NOT_FOUND"
)

// Service error codes.
const (
	CodeOK                     = "0"
	CodeParamInvalid           = "PARAM_INVALID"            // 400
	CodePageTokenInvalid       = "PAGE_TOKEN_INVALID"       // 400
	CodeItemNotFound           = "ITEM_NOT_FOUND"           // 404
	CodeIDNumberInvalid        = "ID_NUMBER_INVALID"        // 400
	CodeUSCCInvalid            = "USCC_INVALID"             // 400
	CodeCompanyNotFound        = "COMPANY_NOT_FOUND"        // 404
	CodeLicenseNotFound        = "LICENSE_NOT_FOUND"        // 404
	CodeLicenseNotValid        = "LICENSE_NOT_VALID"        // 409
	CodeItemNotOnline          = "ITEM_NOT_ONLINE"          // 409
	CodeFormInvalid            = "FORM_INVALID"             // 400
	CodeDeliveryNotSupported   = "DELIVERY_NOT_SUPPORTED"   // 400
	CodeCaseNotFound           = "CASE_NOT_FOUND"           // 404
	CodeCaseStateConflict      = "CASE_STATE_CONFLICT"      // 409
	CodeSupplementIncomplete   = "SUPPLEMENT_INCOMPLETE"    // 400
	CodeEvaluationInvalid      = "EVALUATION_INVALID"       // 400
	CodeEvaluationExists       = "EVALUATION_EXISTS"        // 409
	CodeIdempotencyKeyRequired = "IDEMPOTENCY_KEY_REQUIRED" // 400
	CodeIdempotencyKeyConflict = "IDEMPOTENCY_KEY_CONFLICT" // 409
	CodeBodyTooLarge           = "BODY_TOO_LARGE"           // 413
	CodeRateLimited            = "RATE_LIMITED"             // 429 (injected)
	CodeInternalError          = "INTERNAL_ERROR"           // 500 (injected)
	CodeBadGateway             = "BAD_GATEWAY"              // 502 (injected)
	CodeServiceUnavailable     = "SERVICE_UNAVAILABLE"      // 503 (injected)
	CodeGatewayTimeout         = "GATEWAY_TIMEOUT"          // 504 (injected)
	CodeUpstreamError          = "UPSTREAM_ERROR"           // other injected 5xx
	CodeSandboxInjectedFailure = "SANDBOX_INJECTED_FAILURE" // other injected 4xx
)

const (
	// CodeSuccessMessage is the message of code "0".
	CodeSuccessMessage   = "成功"
	maxIdempotencyKeyLen = 128              // longer keys are refused as PARAM_INVALID
	defaultTimeoutWait   = 30 * time.Second // "timeout" fault: longest hold when delay_ms is 0
	defaultSlowDelay     = 2 * time.Second  // "slow" fault: delay when delay_ms is 0
	nonceLen             = 32               // X-Gw-Nonce: lower-case hex characters
	responseContentType  = "application/json; charset=utf-8"
)

// apiError is a coded error answer.
type apiError struct {
	status int
	code   string
	msg    string
	data   any
}

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// envelope is every gateway answer.
type envelope struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Data      any    `json:"data,omitempty"`
	RequestID string `json:"request_id"`
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

// gateway wraps a route with what the real gateway does around every API:
// counting, authentication, injected faults, idempotency, the envelope and
// the response signature.
func (s *Server) gateway(rt route) http.HandlerFunc {
	endpoint := rt.method + " " + rt.path
	if rt.method == "" {
		endpoint = "* " + rt.path
	}
	return func(w http.ResponseWriter, r *http.Request) {
		below := strings.TrimPrefix(r.URL.EscapedPath(), BasePath)
		s.count(endpoint, r.Method+" "+below+query(r), func(st *EndpointStats) { st.Calls++ })
		signMethod := r.Header.Get(HeaderSignMethod)
		if _, ok := hashFor(signMethod); !ok {
			signMethod = MethodSM3 // answer an unsupported or absent method with the default
		}
		requestID := fake.RandomString(fake.Hex, 32)
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, fake.MaxBody))
		if err != nil {
			e := errorf(http.StatusBadRequest, CodeParamInvalid, "请求体读取失败")
			if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
				e = errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "请求体不能超过%d字节", tooLarge.Limit)
			}
			s.reply(w, r, signMethod, requestID, nil, e)
			return
		}
		now := s.now()
		if e := s.authenticate(r, body, now); e != nil {
			s.count(endpoint, "", func(st *EndpointStats) { st.Refused++ })
			s.log.Warn("province request refused", "endpoint", endpoint, "code", e.code)
			s.reply(w, r, signMethod, requestID, nil, e)
			return
		}
		if rt.group != "" {
			if f, ok := s.takeFault(rt.group); ok {
				s.count(endpoint, "", func(st *EndpointStats) { st.Faulted++ })
				if !s.injectFault(w, r, f, signMethod, requestID) {
					return
				}
				now = s.now() // a "slow" fault let time pass
			}
		}
		c := &call{r: r, body: body, now: now}
		if r.Method != http.MethodPost {
			data, e := rt.fn(c)
			s.reply(w, r, signMethod, requestID, data, e)
			return
		}
		key := r.Header.Get(HeaderIdempotencyKey)
		switch {
		case key == "" && rt.needsKey:
			s.reply(w, r, signMethod, requestID, nil, errorf(http.StatusBadRequest, CodeIdempotencyKeyRequired, "写操作须携带 Idempotency-Key 请求头"))
		case key == "":
			data, e := rt.fn(c)
			s.reply(w, r, signMethod, requestID, data, e)
		case len(key) > maxIdempotencyKeyLen:
			s.reply(w, r, signMethod, requestID, nil, errorf(http.StatusBadRequest, CodeParamInvalid, "Idempotency-Key 不能超过%d个字符", maxIdempotencyKeyLen))
		default:
			status, out, e := s.once(key, r.Method+" "+below, BodyHash(MethodSM3, body), now, func() (int, []byte) {
				data, e := rt.fn(c)
				return s.render(requestID, data, e)
			})
			if e != nil {
				s.reply(w, r, signMethod, requestID, nil, e)
				return
			}
			s.send(w, r, signMethod, status, out)
		}
	}
}

func query(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return ""
	}
	return "?" + r.URL.RawQuery
}

// authenticate checks a request the way the gateway does, in this order:
// headers present, app key, sign method and header formats, timestamp,
// signature, then nonce (recorded only for correctly signed requests, so a
// forgery cannot burn a client's nonce).
func (s *Server) authenticate(r *http.Request, body []byte, now time.Time) *apiError {
	h := r.Header
	for _, name := range []string{HeaderAppKey, HeaderTimestamp, HeaderNonce, HeaderSignature} {
		if h.Get(name) == "" {
			return errorf(http.StatusUnauthorized, CodeSignatureMissing, "缺少签名请求头 %s", name)
		}
	}
	appKey := h.Get(HeaderAppKey)
	if !signatureEqual(appKey, s.appKey) {
		return errorf(http.StatusUnauthorized, CodeAppKeyUnknown, "应用标识不存在")
	}
	method := h.Get(HeaderSignMethod)
	if method == "" {
		method = MethodSM3
	}
	if _, ok := hashFor(method); !ok {
		return errorf(http.StatusUnauthorized, CodeSignatureInvalid, "不支持的签名方法 %q，应为 %s 或 %s", method, MethodSM3, MethodSHA256)
	}
	tsHeader := h.Get(HeaderTimestamp)
	ms, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return errorf(http.StatusUnauthorized, CodeSignatureInvalid, "X-Gw-Timestamp 应为毫秒级 Unix 时间戳")
	}
	nonce := h.Get(HeaderNonce)
	if !isLowerHex(nonce, nonceLen) {
		return errorf(http.StatusUnauthorized, CodeSignatureInvalid, "X-Gw-Nonce 应为32位小写十六进制字符")
	}
	if d := now.Sub(time.UnixMilli(ms)); d > MaxSkew || d < -MaxSkew {
		return errorf(http.StatusUnauthorized, CodeTimestampSkew, "请求时间戳与网关时间相差超过%d秒", int(MaxSkew.Seconds()))
	}
	path := strings.TrimPrefix(r.URL.EscapedPath(), BasePath)
	sts, err := StringToSign(r.Method, path, r.URL.RawQuery, body, method, appKey, tsHeader, nonce)
	if err != nil {
		return errorf(http.StatusUnauthorized, CodeSignatureInvalid, "查询参数无法解析：%v", err)
	}
	if !signatureEqual(h.Get(HeaderSignature), Sign(s.appSecret, method, sts)) {
		// Like Aliyun, show the string to sign so a client developer can find the bug.
		e := errorf(http.StatusUnauthorized, CodeSignatureInvalid, "签名不正确")
		e.data = map[string]string{"string_to_sign": sts}
		return e
	}
	if !s.useNonce(nonce, now) {
		return errorf(http.StatusUnauthorized, CodeNonceReplayed, "请求随机数已使用（重放）")
	}
	return nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// useNonce records a nonce; false when it was used within NonceWindow.
func (s *Server) useNonce(nonce string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.nonceLog) > 0 && now.Sub(s.nonceLog[0].at) > NonceWindow {
		if s.nonces[s.nonceLog[0].nonce] == s.nonceLog[0].at {
			delete(s.nonces, s.nonceLog[0].nonce)
		}
		s.nonceLog = s.nonceLog[1:]
	}
	if at, used := s.nonces[nonce]; used && now.Sub(at) <= NonceWindow {
		return false
	}
	s.nonces[nonce] = now
	s.nonceLog = append(s.nonceLog, nonceEntry{nonce, now})
	return true
}

// idemEntry is the stored result of a write under one Idempotency-Key.
type idemEntry struct {
	request string // method and path
	body    string // body hash
	at      time.Time
	done    chan struct{}
	status  int
	out     []byte
}

// once runs fn the first time key is seen and stores its answer; a repeat
// of the same request gets that answer (waiting if the first is still
// running); a different request under the same key is a conflict.
func (s *Server) once(key, request, bodyHash string, now time.Time, fn func() (int, []byte)) (int, []byte, *apiError) {
	s.mu.Lock()
	for k, e := range s.idem {
		if now.Sub(e.at) > IdempotencyTTL {
			select {
			case <-e.done:
				delete(s.idem, k)
			default:
			}
		}
	}
	e, seen := s.idem[key]
	if !seen {
		e = &idemEntry{request: request, body: bodyHash, at: now, done: make(chan struct{})}
		s.idem[key] = e
	}
	s.mu.Unlock()
	if seen {
		if e.request != request || e.body != bodyHash {
			return 0, nil, errorf(http.StatusConflict, CodeIdempotencyKeyConflict, "Idempotency-Key 已用于另一个请求")
		}
		<-e.done
		return e.status, e.out, nil
	}
	status, out := fn()
	s.mu.Lock()
	e.status, e.out = status, out
	s.mu.Unlock()
	close(e.done)
	return status, out, nil
}

// render builds the envelope bytes of an answer.
func (s *Server) render(requestID string, data any, e *apiError) (int, []byte) {
	env := envelope{Code: CodeOK, Message: CodeSuccessMessage, Data: data, RequestID: requestID}
	status := http.StatusOK
	if e != nil {
		env = envelope{Code: e.code, Message: e.msg, Data: e.data, RequestID: requestID}
		status = e.status
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		s.log.Error("province: encode answer", "err", err)
		buf.Reset()
		buf.WriteString(`{"code":"INTERNAL_ERROR","message":"系统错误","request_id":"` + requestID + `"}` + "\n")
		status = http.StatusInternalServerError
	}
	return status, buf.Bytes()
}

// reply renders and sends an answer.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, signMethod, requestID string, data any, e *apiError) {
	status, out := s.render(requestID, data, e)
	s.send(w, r, signMethod, status, out)
}

// send writes a signed answer: X-Gw-Timestamp, X-Gw-Nonce and
// X-Gw-Signature over STATUS, BODY_HASH, TIMESTAMP, NONCE and the request's
// nonce, with the request's sign method.
func (s *Server) send(w http.ResponseWriter, r *http.Request, signMethod string, status int, body []byte) {
	ts := strconv.FormatInt(s.now().UnixMilli(), 10)
	nonce := NewNonce()
	h := w.Header()
	h.Set("Content-Type", responseContentType)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderNonce, nonce)
	h.Set(HeaderSignMethod, signMethod)
	h.Set(HeaderSignature, Sign(s.appSecret, signMethod, ResponseStringToSign(status, body, signMethod, ts, nonce, r.Header.Get(HeaderNonce))))
	if id := r.Header.Get(HeaderCorrelationID); id != "" {
		h.Set(HeaderCorrelationID, id)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
