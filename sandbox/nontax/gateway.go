package nontax

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/province"
)

// Endpoint groups, the unit of fault injection.
const (
	GroupNotices        = "notices"        // notice and receipt reads
	GroupPayments       = "payments"       // payment confirmations
	GroupRefunds        = "refunds"        // refund registrations
	GroupReconciliation = "reconciliation" // the day's confirmations
	GroupAll            = "*"
)

const (
	maxIdempotencyKeyLen = 128
	nonceLen             = 32
	responseContentType  = "application/json; charset=utf-8"
)

// envelope is every API answer: the provincial gateway's.
type envelope struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Data      any    `json:"data,omitempty"`
	RequestID string `json:"request_id"`
}

// call is one authenticated API request as a handler sees it.
type call struct {
	r    *http.Request
	body []byte
	now  time.Time
	base string // the sandbox's external base URL, for receipt links
}

// decode parses the JSON body into v, refusing unknown fields so that a
// misspelt field is an error rather than a silent default.
func (c *call) decode(v any) *Error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return invalid("请求体不能为空")
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("请求体不是合法的JSON或含有未知字段：%v", err)
	}
	return nil
}

// route is one API.
type route struct {
	group, method, path, what string
	needsKey                  bool // writes must carry Idempotency-Key
	fn                        func(c *call) (any, *Error)
}

func (s *Server) routes() []route {
	return []route{
		{group: GroupNotices, method: "GET", path: "/notices/{payment_code}", fn: s.apiNotice, what: "a payment notice (缴款通知书) by its 20-digit payment code"},
		{group: GroupNotices, method: "GET", path: "/notices", fn: s.apiNoticesOf, what: "a payer's notices: payer_id= (ID number or USCC), optional status="},
		{group: GroupNotices, method: "GET", path: "/notices/{payment_code}/receipt", fn: s.apiReceipt, what: "the e-receipt (财政电子票据) of a paid notice"},
		{group: GroupPayments, method: "POST", path: "/notices/{payment_code}/payments", fn: s.apiConfirm, needsKey: true, what: `confirm a payment {"channel","transaction_id","out_trade_no","amount","paid_at"} → receipt (Idempotency-Key)`},
		{group: GroupRefunds, method: "POST", path: "/notices/{payment_code}/refunds", fn: s.apiRefund, needsKey: true, what: `register a refund {"refund_no","amount","reason","refunded_at"} (Idempotency-Key)`},
		{group: GroupReconciliation, method: "GET", path: "/confirmations", fn: s.apiConfirmations, what: "confirmations of one day for reconciliation: date=YYYY-MM-DD (Asia/Shanghai, by paid_at)"},
	}
}

// unknownAPI answers paths below the API no route serves.
func (s *Server) unknownAPI(c *call) (any, *Error) {
	return nil, errorf(http.StatusNotFound, province.CodeAPINotFound, "接口不存在：%s %s", c.r.Method, strings.TrimPrefix(c.r.URL.Path, BasePath))
}

// gateway wraps a route with what the gateway does around every API:
// counting, authentication, injected faults, idempotency, the envelope and
// the response signature.
func (s *Server) gateway(rt route) http.HandlerFunc {
	endpoint := rt.method + " " + APIPrefix + rt.path
	if rt.method == "" {
		endpoint = "* " + rt.path
	}
	return func(w http.ResponseWriter, r *http.Request) {
		below := strings.TrimPrefix(r.URL.EscapedPath(), BasePath)
		s.count(endpoint, r.Method+" "+below+query(r), func(st *EndpointStats) { st.Calls++ })
		signMethod := r.Header.Get(province.HeaderSignMethod)
		if !knownSignMethod(signMethod) {
			signMethod = province.MethodSM3 // answer an unsupported or absent method with the default
		}
		requestID := fake.RandomString(fake.Hex, 32)
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, fake.MaxBody))
		if err != nil {
			e := invalid("请求体读取失败")
			if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
				e = errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "请求体不能超过%d字节", tooLarge.Limit)
			}
			s.reply(w, r, signMethod, requestID, nil, e)
			return
		}
		now := s.now()
		if e := s.authenticate(r, body, now); e != nil {
			s.count(endpoint, "", func(st *EndpointStats) { st.Refused++ })
			s.log.Warn("nontax request refused", "endpoint", endpoint, "code", e.Code)
			s.reply(w, r, signMethod, requestID, nil, e)
			return
		}
		var lost bool // a "lost" fault: serve, then drop the answer
		if rt.group != "" {
			if f, ok := s.takeFault(rt.group); ok {
				s.count(endpoint, "", func(st *EndpointStats) { st.Faulted++ })
				if f.Mode == FaultLost {
					lost = true
				} else if !s.injectFault(w, r, f, signMethod, requestID) {
					return
				} else {
					now = s.now() // a "slow" fault let time pass
				}
			}
		}
		c := &call{r: r, body: body, now: now, base: s.baseURL(r)}
		status, out := s.serve(rt, c, below, requestID)
		if lost {
			s.log.Warn("nontax fault injected", "group", rt.group, "mode", FaultLost, "path", r.URL.Path)
			dropConnection(w)
			return
		}
		s.send(w, r, signMethod, status, out)
	}
}

// serve runs the route, through the Idempotency-Key store for POSTs.
func (s *Server) serve(rt route, c *call, below, requestID string) (int, []byte) {
	if c.r.Method != http.MethodPost {
		data, e := rt.fn(c)
		return s.render(requestID, data, e)
	}
	key := c.r.Header.Get(province.HeaderIdempotencyKey)
	switch {
	case key == "" && rt.needsKey:
		return s.render(requestID, nil, errorf(http.StatusBadRequest, CodeIdempotencyKeyRequired, "写操作须携带 Idempotency-Key 请求头"))
	case key == "":
		data, e := rt.fn(c)
		return s.render(requestID, data, e)
	case len(key) > maxIdempotencyKeyLen:
		return s.render(requestID, nil, invalid("Idempotency-Key 不能超过%d个字符", maxIdempotencyKeyLen))
	}
	status, out, e := s.once(key, c.r.Method+" "+below, province.BodyHash(province.MethodSM3, c.body), c.now, func() (int, []byte) {
		data, e := rt.fn(c)
		return s.render(requestID, data, e)
	})
	if e != nil {
		return s.render(requestID, nil, e)
	}
	return status, out
}

// baseURL is where the sandbox is reached from outside: Options.PublicURL,
// else the scheme and Host of the request.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return strings.TrimRight(s.publicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func query(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return ""
	}
	return "?" + r.URL.RawQuery
}

// render builds the envelope bytes of an answer.
func (s *Server) render(requestID string, data any, e *Error) (int, []byte) {
	env := envelope{Code: CodeOK, Message: province.CodeSuccessMessage, Data: data, RequestID: requestID}
	status := http.StatusOK
	if e != nil {
		env = envelope{Code: e.Code, Message: e.Message, Data: e.data, RequestID: requestID}
		status = e.Status
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		s.log.Error("nontax: encode answer", "err", err)
		buf.Reset()
		buf.WriteString(`{"code":"INTERNAL_ERROR","message":"系统错误","request_id":"` + requestID + `"}` + "\n")
		status = http.StatusInternalServerError
	}
	return status, buf.Bytes()
}

// reply renders and sends an answer.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, signMethod, requestID string, data any, e *Error) {
	status, out := s.render(requestID, data, e)
	s.send(w, r, signMethod, status, out)
}

// send writes a signed answer: X-Gw-Timestamp, X-Gw-Nonce and
// X-Gw-Signature over STATUS, BODY_HASH, TIMESTAMP, NONCE and the request's
// nonce, with the request's sign method.
func (s *Server) send(w http.ResponseWriter, r *http.Request, signMethod string, status int, body []byte) {
	ts := strconv.FormatInt(s.now().UnixMilli(), 10)
	nonce := province.NewNonce()
	h := w.Header()
	h.Set("Content-Type", responseContentType)
	h.Set(province.HeaderTimestamp, ts)
	h.Set(province.HeaderNonce, nonce)
	h.Set(province.HeaderSignMethod, signMethod)
	h.Set(province.HeaderSignature, province.Sign(s.appSecret, signMethod,
		province.ResponseStringToSign(status, body, signMethod, ts, nonce, r.Header.Get(province.HeaderNonce))))
	if id := r.Header.Get(province.HeaderCorrelationID); id != "" {
		h.Set(province.HeaderCorrelationID, id)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
