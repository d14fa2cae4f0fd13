package province

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"zwfw/sandbox/fake"
)

// start is 10:00 in China on a Monday.
var start = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

// env is one fake on a real HTTP server with a clock the test steps.
type env struct {
	t     *testing.T
	s     *Server
	clock *fake.ManualClock
	srv   *httptest.Server
	// signMethod of requests made with do; "" = HMAC-SM3.
	signMethod string
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	clock := fake.NewManualClock(start)
	opts.Now = clock.Now
	s := New(opts)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		s.Close()
	})
	return &env{t: t, s: s, clock: clock, srv: srv}
}

// answer is a gateway response, its signature already checked.
type answer struct {
	Status    int
	Header    http.Header
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	RequestID string          `json:"request_id"`
	Raw       []byte
}

func (a answer) want(t *testing.T, status int, code string) {
	t.Helper()
	if a.Status != status || a.Code != code {
		t.Fatalf("answer HTTP %d %s, want HTTP %d %s: %s", a.Status, a.Code, status, code, a.Raw)
	}
}

func (a answer) ok(t *testing.T) answer {
	t.Helper()
	a.want(t, http.StatusOK, CodeOK)
	return a
}

// into decodes the answer's data.
func (a answer) into(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Data, v); err != nil {
		t.Fatalf("data %s: %v", a.Data, err)
	}
}

// newRequest builds a request to the gateway path (below /province) with a
// JSON body (v may be nil, a []byte or any value to marshal).
func (e *env) newRequest(method, path string, v any) (*http.Request, []byte) {
	e.t.Helper()
	var body []byte
	switch b := v.(type) {
	case nil:
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+BasePath+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, body
}

// signed builds and signs a request with the fake's credentials.
func (e *env) signed(method, path string, v any) (*http.Request, []byte) {
	e.t.Helper()
	req, body := e.newRequest(method, path, v)
	if err := SignRequest(req, body, e.s.AppKey(), e.s.AppSecret(), e.signMethod, e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
	return req, body
}

// send sends req and checks the response signature against req's nonce
// and sign method.
func (e *env) send(req *http.Request) answer {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	method := req.Header.Get(HeaderSignMethod)
	if _, ok := hashFor(method); !ok {
		method = MethodSM3
	}
	if err := VerifyResponse(res.StatusCode, res.Header, raw, e.s.AppSecret(), method, req.Header.Get(HeaderNonce)); err != nil {
		e.t.Fatalf("%s %s: %v (HTTP %d %s)", req.Method, req.URL.Path, err, res.StatusCode, raw)
	}
	a := answer{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if err := json.Unmarshal(raw, &a); err != nil {
		e.t.Fatalf("answer is not an envelope: %s", raw)
	}
	if a.RequestID == "" {
		e.t.Fatalf("answer without request_id: %s", raw)
	}
	return a
}

// do signs and sends a request; headers are added after signing.
func (e *env) do(method, path string, v any, headers ...string) answer {
	e.t.Helper()
	req, _ := e.signed(method, path, v)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.send(req)
}

// post is a write with an Idempotency-Key.
func (e *env) post(path, key string, v any) answer {
	e.t.Helper()
	return e.do(http.MethodPost, path, v, HeaderIdempotencyKey, key)
}

// control calls a /sandbox/province/ route.
func (e *env) control(method, path string, v any) (int, []byte) {
	e.t.Helper()
	var body io.Reader
	if v != nil {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, body)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}
