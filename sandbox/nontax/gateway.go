package nontax

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"zwfw/sandbox/gwserver"
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

// gateway wraps a route with what the gateway does around every API
// (gwserver): counting, authentication, injected faults, idempotency, the
// envelope and the response signature.
func (s *Server) gateway(rt route) http.HandlerFunc {
	endpoint := rt.method + " " + APIPrefix + rt.path
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
		var lost bool // a "lost" fault: serve, then drop the answer
		if rt.group != "" {
			if f, ok := s.gw.TakeFault(rt.group, endpoint); ok {
				if f.Mode == FaultLost {
					lost = true
				} else if !s.gw.Inject(w, r, f, req.SignMethod, req.RequestID) {
					return
				} else {
					now = s.now() // a "slow" fault let time pass
				}
			}
		}
		c := &call{r: r, body: req.Body, now: now, base: s.baseURL(r)}
		status, out := s.serve(rt, c, below, req.RequestID)
		if lost {
			s.log.Warn("nontax fault injected", "group", rt.group, "mode", FaultLost, "path", r.URL.Path)
			gwserver.DropConnection(w)
			return
		}
		s.gw.Send(w, r, req.SignMethod, status, out)
	}
}

// serve runs the route, through the Idempotency-Key store for POSTs. The
// store keeps successes only (Options.ReplayRefusals false, unlike the
// provincial gateway, which replays refusals): a refusal changed nothing,
// and a client whose keys are derived from the request must be able to
// retry once the state allows it (a refund refused as NOTICE_NOT_PAID
// succeeds after the payment is confirmed). Refusals by the gateway and
// injected faults happen before the store and are not stored either.
func (s *Server) serve(rt route, c *call, below, requestID string) (int, []byte) {
	render := func(data any, e *Error) (int, []byte) { return s.gw.Render(requestID, data, e.refusal()) }
	if c.r.Method != http.MethodPost {
		return render(rt.fn(c))
	}
	key := c.r.Header.Get(province.HeaderIdempotencyKey)
	switch {
	case key == "" && rt.needsKey:
		return render(nil, errorf(http.StatusBadRequest, CodeIdempotencyKeyRequired, "写操作须携带 Idempotency-Key 请求头"))
	case key == "":
		return render(rt.fn(c))
	case len(key) > gwserver.MaxIdempotencyKeyLen:
		return render(nil, invalid("Idempotency-Key 不能超过%d个字符", gwserver.MaxIdempotencyKeyLen))
	}
	status, out, rf := s.gw.Once(key, c.r.Method+" "+below, province.BodyHash(province.MethodSM3, c.body), c.now, func() (int, []byte) {
		return render(rt.fn(c))
	})
	if rf != nil {
		return s.gw.Render(requestID, nil, rf)
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
