package push

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"zwfw/sandbox/fake"
)

// env is one fake on a real HTTP server, with a clock the test steps.
type env struct {
	t     *testing.T
	s     *Server
	clock *fake.ManualClock
	srv   *httptest.Server
}

// start is 10:00:30 UTC: 30 seconds into a rate-limit window.
var start = time.Date(2026, 3, 2, 10, 0, 30, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := fake.NewManualClock(start)
	s := New(Options{Now: clock.Now})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, s: s, clock: clock, srv: srv}
}

// answer is a decoded API answer.
type answer struct {
	status int
	header http.Header
	raw    string
	SendNo string `json:"sendno"`
	MsgID  string `json:"msg_id"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (a answer) code() int {
	if a.Error == nil {
		return 0
	}
	return a.Error.Code
}

// call sends body to path with the given Authorization header ("" = none).
func (e *env) call(method, path, auth, body string) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a); err != nil {
			e.t.Fatalf("answer is not JSON: %v: %s", err, raw)
		}
	}
	return a
}

// push sends body to /v3/push with the app's credentials.
func (e *env) push(body string) answer {
	e.t.Helper()
	return e.call(http.MethodPost, "/v3/push", e.s.BasicAuth(), body)
}

// control calls a /sandbox/push/ route and decodes its JSON answer into out (when not nil).
func (e *env) control(method, path, body string, out any) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			e.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return res.StatusCode
}

func basic(key, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))
}

// toIDs is a push of a simple notification to registration ids.
func toIDs(ids ...string) string {
	b, _ := json.Marshal(map[string]any{
		"platform":     "all",
		"audience":     map[string]any{"registration_id": ids},
		"notification": map[string]any{"alert": "您的办件已受理"},
	})
	return string(b)
}
