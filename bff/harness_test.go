package bff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"zwfw/bff"
	"zwfw/platform/testenv"
)

// validated records every documented operation and status a test saw a real
// response for; TestMain fails the run when a documented operation was never checked.
var validated sync.Map

func TestMain(m *testing.M) {
	// WeChat Pay notifies are answered in XML; validate them as text.
	openapi3filter.RegisterBodyDecoder("text/xml", openapi3filter.FileBodyDecoder)
	testenv.Main(m, checkEveryOperationValidated)
}

// checkEveryOperationValidated runs after a full (unfiltered) test run.
func checkEveryOperationValidated() int {
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		return 0
	}
	spec, err := bff.LoadOpenAPI()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	missing := 0
	for path, item := range spec.Paths.Map() {
		for method := range item.Operations() {
			if _, ok := validated.Load(method + " " + path); !ok {
				fmt.Printf("openapi: no test validated a response of %s %s\n", method, path)
				missing++
			}
		}
	}
	if missing > 0 {
		return 1
	}
	return 0
}

// server is one running zwfw, reached over real HTTP like a phone reaches it.
type server struct {
	t      testing.TB
	app    *bff.App
	base   string
	http   *http.Client
	spec   *openapi3.T
	router routers.Router
	// zhang is the WeChat name verified as 张三 here (one holder per identity).
	zhang string
}

type option func(*bff.Config)

// testConfig is the configuration start uses: the test MongoDB (a fresh
// database), the test Redis (a fresh key prefix) and the embedded sandbox.
func testConfig(t testing.TB, opts ...option) bff.Config {
	t.Helper()
	redisURL, _ := testenv.RedisURL(t)
	_, keys := testenv.Redis(t)
	db := testenv.DB(t)
	cfg, err := bff.LoadConfig(func(k string) string {
		switch k {
		case "MONGODB_URI":
			return testenv.MongoURI(t)
		case "MONGODB_DATABASE":
			return db.Name()
		case "REDIS_URL":
			return redisURL
		case "ZWFW_REDIS_PREFIX":
			return string(keys)
		case "ZWFW_SANDBOX":
			return "on"
		case "ZWFW_SANDBOX_COURIER_STEP":
			return "0" // tests move parcels themselves
		case "ZWFW_SANDBOX_ADDR":
			return "127.0.0.1:0"
		case "ZWFW_SEED_DEMO":
			return "off" // argon2 hashing of demo passwords per test adds up; TestDemoSeed covers it
		case "ZWFW_DATA_DIR":
			return t.TempDir()
		case "ZWFW_JWT_SECRET":
			return strings.Repeat("ab", 32)
		case "ZWFW_SM4_KEY":
			return strings.Repeat("cd", 16)
		case "ZWFW_BLIND_INDEX_KEY":
			return strings.Repeat("ef", 32)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// start runs zwfw on the test MongoDB (a fresh database), the test Redis
// (a fresh key prefix) and its embedded sandbox, listening on a free port.
func start(t testing.TB, opts ...option) *server {
	t.Helper()
	return launch(t, testConfig(t, opts...))
}

// launch runs zwfw with cfg on a free port until the test ends.
func launch(t testing.TB, cfg bff.Config) *server {
	t.Helper()
	logOut := io.Discard
	if os.Getenv("ZWFW_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	return launchWithLog(t, cfg, slog.New(slog.NewJSONHandler(logOut, nil)))
}

// launchWithLog is launch with the app's logger given.
func launchWithLog(t testing.TB, cfg bff.Config, log *slog.Logger) *server {
	t.Helper()
	app, err := bff.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Serve(ln) }()
	app.Listening("http://" + ln.Addr().String())
	t.Cleanup(func() {
		// Generous: on 2 shared cores under the whole suite, draining in-flight
		// callbacks and jobs has been seen to take over 10 s.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		switch err := app.Shutdown(ctx); {
		case err == nil:
		case errors.Is(err, context.DeadlineExceeded):
			// Work still draining after 30 s on a starved machine: the
			// handlers were cancelled, the test's own checks are done, and
			// the order of shutdown is shutdown_test.go's to prove.
			t.Logf("shutdown overran its 30 s: %v", err)
		default:
			t.Errorf("shutdown: %v", err)
		}
	})
	spec, err := bff.LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	router, err := legacy.NewRouter(spec)
	if err != nil {
		t.Fatal(err)
	}
	return &server{t: t, app: app, base: "http://" + ln.Addr().String(), http: &http.Client{Timeout: 20 * time.Second},
		spec: spec, router: router}
}

// response is what came back, decoded.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r *response) M(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// request sends one request and validates the response against the OpenAPI
// document (status documented, body matches the schema).
func (s *server) request(method, path, token string, body any, headers ...string) *response {
	s.t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	r := &response{Status: res.StatusCode, Header: res.Header, Body: out}
	s.validate(req, r)
	return r
}

func (s *server) validate(req *http.Request, r *response) {
	s.t.Helper()
	u, _ := url.Parse(req.URL.String())
	vreq := req.Clone(context.Background())
	vreq.URL = u
	vreq.Host = ""
	vreq.URL.Host = ""
	vreq.URL.Scheme = ""
	route, params, err := s.router.FindRoute(vreq)
	if err != nil {
		if r.Status == http.StatusNotFound || r.Status == http.StatusMethodNotAllowed {
			return // not a documented route: the error envelope is checked by the caller
		}
		s.t.Fatalf("%s %s answered %d but is not in openapi.yaml: %v", req.Method, req.URL.Path, r.Status, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  r.Status,
		Header:  r.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(r.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		s.t.Fatalf("%s %s -> %d does not match openapi.yaml: %v\nbody: %s", req.Method, route.Path, r.Status, err, r.Body)
	}
	validated.Store(req.Method+" "+route.Path, true)
	recordedExamples.record(req, route.Path, r)
}

// wantError asserts an error envelope with the status and code.
func wantError(t *testing.T, r *response, status int, code string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	m := r.M(t)
	if m["code"] != code {
		t.Fatalf("code = %v, want %s; body %s", m["code"], code, r.Body)
	}
	if msg, _ := m["message"].(string); msg == "" || !hasHan(msg) {
		t.Fatalf("message %q is not a Chinese message", msg)
	}
	if rid, _ := m["request_id"].(string); rid == "" {
		t.Fatal("error has no request_id")
	}
	return m
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

// session is a logged-in phone.
type session struct {
	Access  string
	Refresh string
	UserID  string
}

func (s *server) loginWeChat(name string) session {
	s.t.Helper()
	r := s.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "test:" + name})
	if r.Status != 200 {
		s.t.Fatalf("wechat login: %d %s", r.Status, r.Body)
	}
	var v struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		User         struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	r.JSON(s.t, &v)
	return session{Access: v.AccessToken, Refresh: v.RefreshToken, UserID: v.User.ID}
}

func (s *server) loginStaff(username, password string) string {
	s.t.Helper()
	r := s.request("POST", "/api/v1/auth/staff", "", map[string]string{"username": username, "password": password})
	if r.Status != 200 {
		s.t.Fatalf("staff login: %d %s", r.Status, r.Body)
	}
	var v struct {
		AccessToken string `json:"access_token"`
	}
	r.JSON(s.t, &v)
	return v.AccessToken
}
