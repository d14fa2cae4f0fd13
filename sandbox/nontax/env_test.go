package nontax

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/province"
)

// start is 10:00 in China on a Monday.
var start = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

// env is one fake on a real HTTP server with a clock the test steps.
type env struct {
	t     *testing.T
	s     *Server
	clock *fake.ManualClock
	srv   *httptest.Server
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	clock := fake.NewManualClock(start)
	opts.Now = clock.Now
	s := New(opts)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, s: s, clock: clock, srv: srv}
}

// answer is an API response, its signature already checked.
type answer struct {
	Status    int
	Header    http.Header
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	RequestID string          `json:"request_id"`
	Raw       []byte
}

func (a answer) want(t *testing.T, status int, code string) answer {
	t.Helper()
	if a.Status != status || a.Code != code {
		t.Fatalf("answer HTTP %d %s, want HTTP %d %s: %s", a.Status, a.Code, status, code, a.Raw)
	}
	return a
}

func (a answer) ok(t *testing.T) answer { t.Helper(); return a.want(t, http.StatusOK, CodeOK) }

func (a answer) into(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Data, v); err != nil {
		t.Fatalf("decode data: %v: %s", err, a.Data)
	}
}

// request is one API call to make; mutate edits the signed request before
// it is sent (to break a header), sign=false leaves it unsigned.
type request struct {
	method, path string // path below BasePath, with its query written canonically
	body         []byte
	key          string // Idempotency-Key
	signMethod   string
	appKey       string
	secret       string
	at           time.Time
	nonce        string
	mutate       func(*http.Request)
}

// sign signs req like a client of the contract, using the province fake's
// exported helpers.
func (e *env) sign(req *http.Request, rq request) {
	if rq.signMethod == "" {
		rq.signMethod = province.MethodSM3
	}
	if rq.appKey == "" {
		rq.appKey = e.s.AppKey()
	}
	if rq.secret == "" {
		rq.secret = e.s.AppSecret()
	}
	if rq.at.IsZero() {
		rq.at = e.clock.Now()
	}
	if rq.nonce == "" {
		rq.nonce = province.NewNonce()
	}
	path, rawQuery, _ := strings.Cut(rq.path, "?")
	ts := strconv.FormatInt(rq.at.UnixMilli(), 10)
	sts, err := province.StringToSign(rq.method, path, rawQuery, rq.body, rq.signMethod, rq.appKey, ts, rq.nonce)
	if err != nil {
		e.t.Fatal(err)
	}
	h := req.Header
	h.Set(province.HeaderAppKey, rq.appKey)
	h.Set(province.HeaderTimestamp, ts)
	h.Set(province.HeaderNonce, rq.nonce)
	h.Set(province.HeaderSignMethod, rq.signMethod)
	h.Set(province.HeaderSignature, province.Sign(rq.secret, rq.signMethod, sts))
}

// do sends rq and checks the answer's signature.
func (e *env) do(rq request) answer {
	e.t.Helper()
	req, err := http.NewRequest(rq.method, e.srv.URL+BasePath+rq.path, bytes.NewReader(rq.body))
	if err != nil {
		e.t.Fatal(err)
	}
	if rq.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.key != "" {
		req.Header.Set(province.HeaderIdempotencyKey, rq.key)
	}
	e.sign(req, rq)
	if rq.mutate != nil {
		rq.mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := province.VerifyResponse(resp.StatusCode, resp.Header, raw, e.s.AppSecret(), resp.Header.Get(province.HeaderSignMethod), req.Header.Get(province.HeaderNonce)); err != nil {
		e.t.Fatalf("%s %s: %v (HTTP %d %s)", rq.method, rq.path, err, resp.StatusCode, raw)
	}
	a := answer{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, &a); err != nil {
		e.t.Fatalf("answer is not the envelope: %s", raw)
	}
	return a
}

func (e *env) get(path string) answer { e.t.Helper(); return e.do(request{method: "GET", path: path}) }

func (e *env) post(path, key string, body any) answer {
	e.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(request{method: "POST", path: path, body: b, key: key})
}

// control calls a /sandbox/nontax/ route and decodes its JSON answer into v.
func (e *env) control(method, path string, body any, v any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if v != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, v); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// issue issues a notice for 张三 with the given items.
func (e *env) issue(items ...IssueItem) Notice {
	e.t.Helper()
	n, err := e.s.Issue(IssueRequest{PayerID: province.DemoPeople[0].IDNumber, PayerName: province.DemoPeople[0].Name, Items: items})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// payment is a confirmation body.
func payment(txid string, amount int64, paidAt time.Time) map[string]any {
	return map[string]any{"channel": "wechat_jsapi", "transaction_id": txid, "out_trade_no": "ZW" + txid, "amount": amount, "paid_at": paidAt.Format(time.RFC3339)}
}

func refund(no string, amount int64, at time.Time) map[string]any {
	return map[string]any{"refund_no": no, "amount": amount, "reason": "申请人撤回申请", "refunded_at": at.Format(time.RFC3339)}
}

const apiNotices = APIPrefix + "/notices/"
