package bff_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"zwfw/bff"
	"zwfw/identity"
)

// The demo journey of the foundation: log in from the mini-program, read
// the profile, refresh, log out.
func TestWeChatLoginJourney(t *testing.T) {
	// No grace for a concurrent copy of a refresh: the replay below is theft at once.
	s := start(t, func(c *bff.Config) { c.RefreshReuseGrace = -1 })
	me := s.loginWeChat("zhangsan")

	r := s.request("GET", "/api/v1/me", me.Access, nil)
	if r.Status != 200 {
		t.Fatalf("GET /me: %d %s", r.Status, r.Body)
	}
	user := r.M(t)
	if user["id"] != me.UserID || user["wechat_bound"] != true {
		t.Fatalf("GET /me = %s", r.Body)
	}
	if _, leaked := user["session_key"]; leaked {
		t.Fatal("session_key leaked to the client")
	}

	again := s.loginWeChat("zhangsan")
	if again.UserID != me.UserID {
		t.Fatalf("second login gave user %s, first %s", again.UserID, me.UserID)
	}

	r = s.request("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": me.Refresh})
	if r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	var rotated struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	r.JSON(t, &rotated)

	// The old refresh token replayed: the whole family is revoked.
	r = s.request("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": me.Refresh})
	wantError(t, r, 401, "AUTH_REFRESH_REUSED")
	r = s.request("GET", "/api/v1/me", rotated.AccessToken, nil)
	wantError(t, r, 401, "AUTH_SESSION_REVOKED")

	// The other session (second login) is untouched, and logs out cleanly.
	r = s.request("POST", "/api/v1/auth/logout", again.Access, nil)
	if r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	r = s.request("GET", "/api/v1/me", again.Access, nil)
	wantError(t, r, 401, "AUTH_SESSION_REVOKED")
	r = s.request("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": again.Refresh})
	wantError(t, r, 401, "AUTH_SESSION_REVOKED")
}

func TestWeChatLoginErrors(t *testing.T) {
	s := start(t)
	r := s.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "no-such-code"})
	wantError(t, r, 401, "AUTH_WECHAT_CODE_INVALID")
	r = s.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "x&appid=evil"})
	wantError(t, r, 401, "AUTH_WECHAT_CODE_INVALID")
	r = s.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": ""})
	wantError(t, r, 400, "REQUEST_INVALID")
}

// SMS login as the app does it: the code is read back from the sandbox's message log.
func TestSMSLoginJourney(t *testing.T) {
	s := start(t)
	phone := "13800138000"
	r := s.request("POST", "/api/v1/auth/sms/send", "", map[string]string{"phone": phone})
	if r.Status != 202 {
		t.Fatalf("sms send: %d %s", r.Status, r.Body)
	}
	r = s.request("POST", "/api/v1/auth/sms/send", "", map[string]string{"phone": phone})
	m := wantError(t, r, 429, "AUTH_SMS_TOO_FREQUENT")
	if r.Header.Get("Retry-After") == "" || m["details"] == nil {
		t.Fatalf("too-frequent answer lacks Retry-After: %v %s", r.Header, r.Body)
	}

	code := s.lastSMSCode(phone)
	r = s.request("POST", "/api/v1/auth/sms/verify", "", map[string]string{"phone": phone, "code": wrongCode(code)})
	wantError(t, r, 401, "AUTH_SMS_CODE_INVALID")
	r = s.request("POST", "/api/v1/auth/sms/verify", "", map[string]string{"phone": phone, "code": code})
	if r.Status != 200 {
		t.Fatalf("sms verify: %d %s", r.Status, r.Body)
	}
	var sess struct {
		AccessToken string `json:"access_token"`
		User        struct {
			Phone string `json:"phone"`
		} `json:"user"`
	}
	r.JSON(t, &sess)
	if sess.User.Phone != "138****8000" {
		t.Fatalf("phone shown as %q, want it masked", sess.User.Phone)
	}
	if strings.Contains(string(r.Body), phone) {
		t.Fatal("response carries the phone number in clear")
	}
	r = s.request("POST", "/api/v1/auth/sms/verify", "", map[string]string{"phone": phone, "code": code})
	wantError(t, r, 401, "AUTH_SMS_CODE_INVALID")

	r = s.request("POST", "/api/v1/auth/sms/send", "", map[string]string{"phone": "2345"})
	wantError(t, r, 400, "AUTH_PHONE_INVALID")
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// lastSMSCode reads the code the sandbox SMS gateway received for phone.
func (s *server) lastSMSCode(phone string) string {
	s.t.Helper()
	res, err := s.http.Get(s.app.Sandbox().URL() + "/sandbox/sms/messages?phone=" + phone)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var msgs []map[string]any
	if err := json.NewDecoder(res.Body).Decode(&msgs); err != nil {
		s.t.Fatal(err)
	}
	if len(msgs) == 0 {
		s.t.Fatalf("sandbox has no SMS for %s", phone)
	}
	last := msgs[len(msgs)-1]
	params, _ := last["params"].(map[string]any)
	code, _ := params["code"].(string)
	if len(code) != 6 {
		s.t.Fatalf("sandbox message has no 6-digit code: %v", last)
	}
	return code
}

func TestStaffLoginAndRoles(t *testing.T) {
	s := start(t)
	ctx := t.Context()
	if _, err := s.app.Identity().CreateStaff(ctx, "hotline09", "坐席九", "Hotline-pass-2026", []identity.Role{identity.RoleHotline}); err != nil {
		t.Fatal(err)
	}
	r := s.request("POST", "/api/v1/auth/staff", "", map[string]string{"username": "hotline09", "password": "Hotline-pass-2026"})
	if r.Status != 200 {
		t.Fatalf("staff login: %d %s", r.Status, r.Body)
	}
	var sess struct {
		AccessToken string `json:"access_token"`
		User        struct {
			Roles []string `json:"roles"`
			Kind  string   `json:"kind"`
		} `json:"user"`
	}
	r.JSON(t, &sess)
	if sess.User.Kind != "staff" || len(sess.User.Roles) != 1 || sess.User.Roles[0] != "hotline" {
		t.Fatalf("staff session user = %+v", sess.User)
	}
	r = s.request("GET", "/api/v1/me", sess.AccessToken, nil)
	if r.Status != 200 {
		t.Fatalf("staff /me: %d", r.Status)
	}
	r = s.request("POST", "/api/v1/auth/staff", "", map[string]string{"username": "hotline09", "password": "wrong-wrong-1"})
	wantError(t, r, 401, "AUTH_STAFF_INVALID_CREDENTIALS")
}

// Hostile and broken requests: each gets its precise code and a 4xx, never a 500.
func TestBadInput(t *testing.T) {
	s := start(t)
	me := s.loginWeChat("lisi")
	big := `{"code":"` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		name   string
		method string
		path   string
		token  string
		body   string
		status int
		code   string
	}{
		{"malformed json", "POST", "/api/v1/auth/wechat", "", `{"code":`, 400, "REQUEST_MALFORMED_JSON"},
		{"not an object", "POST", "/api/v1/auth/wechat", "", `["test:a"]`, 400, "REQUEST_WRONG_TYPE"},
		{"wrong type", "POST", "/api/v1/auth/wechat", "", `{"code":123}`, 400, "REQUEST_WRONG_TYPE"},
		{"operator injection", "POST", "/api/v1/auth/wechat", "", `{"code":{"$ne":""}}`, 400, "REQUEST_WRONG_TYPE"},
		{"injection in sms verify", "POST", "/api/v1/auth/sms/verify", "", `{"phone":"13800138000","code":{"$gt":""}}`, 400, "REQUEST_WRONG_TYPE"},
		{"unknown field", "POST", "/api/v1/auth/wechat", "", `{"code":"test:a","admin":true}`, 400, "REQUEST_UNKNOWN_FIELD"},
		{"two objects", "POST", "/api/v1/auth/wechat", "", `{"code":"test:a"}{"code":"test:b"}`, 400, "REQUEST_MALFORMED_JSON"},
		{"body over the json limit", "POST", "/api/v1/auth/wechat", "", big, 413, "REQUEST_BODY_TOO_LARGE"},
		{"no token", "GET", "/api/v1/me", "", "", 401, "AUTH_TOKEN_MISSING"},
		{"garbage token", "GET", "/api/v1/me", "garbage", "", 401, "AUTH_TOKEN_INVALID"},
		{"tampered token", "GET", "/api/v1/me", me.Access[:len(me.Access)-3] + "abc", "", 401, "AUTH_TOKEN_INVALID"},
		{"alg none token", "GET", "/api/v1/me", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "", 401, "AUTH_TOKEN_INVALID"},
		{"bad refresh token", "POST", "/api/v1/auth/refresh", "", `{"refresh_token":"nope"}`, 401, "AUTH_REFRESH_INVALID"},
		{"unknown route", "GET", "/api/v1/nothing-here", "", "", 404, "ROUTE_NOT_FOUND"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.request(c.method, c.path, c.token, c.body)
			body := wantError(t, r, c.status, c.code)
			for _, leak := range []string{"mongo", "goroutine", "panic", ".go:"} {
				if strings.Contains(strings.ToLower(string(r.Body)), leak) {
					t.Fatalf("error body leaks %q: %v", leak, body)
				}
			}
		})
	}
	// Nothing above changed the user.
	r := s.request("GET", "/api/v1/me", me.Access, nil)
	if r.Status != 200 {
		t.Fatalf("/me after hostile input: %d", r.Status)
	}
}

func TestExpiredTokenIsRefused(t *testing.T) {
	s := start(t)
	me := s.loginWeChat("expiry")
	tok := forgeExpired(t, me.Access)
	r := s.request("GET", "/api/v1/me", tok, nil)
	wantError(t, r, 401, "AUTH_TOKEN_EXPIRED")
}

func TestRateLimitPerIP(t *testing.T) {
	s := start(t, func(c *bff.Config) { c.RateLoginIP = 3 })
	for i := 0; i < 3; i++ {
		r := s.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "test:rate"})
		if r.Status != 200 {
			t.Fatalf("login %d: %d", i, r.Status)
		}
	}
	r := s.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "test:rate"})
	wantError(t, r, 429, "RATE_LIMITED")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

func TestHealthAndMetrics(t *testing.T) {
	s := start(t)
	r := s.request("GET", "/livez", "", nil)
	if r.Status != 200 {
		t.Fatalf("livez %d", r.Status)
	}
	r = s.request("GET", "/readyz", "", nil)
	if r.Status != 200 || r.M(t)["status"] != "ready" {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	s.loginWeChat("metrics")
	r = s.request("GET", "/metrics", "", nil)
	if r.Status != 200 {
		t.Fatalf("metrics %d", r.Status)
	}
	text := string(r.Body)
	for _, want := range []string{
		`zwfw_http_request_duration_seconds_bucket{method="POST",route="/api/v1/auth/wechat"`,
		`zwfw_http_requests_total{method="POST",route="/api/v1/auth/wechat",status="200"}`,
	} {
		if !strings.Contains(text, want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
	r = s.request("GET", "/api/v1/openapi.json", "", nil)
	if r.Status != 200 || r.M(t)["openapi"] != "3.0.3" {
		t.Fatalf("openapi.json %d", r.Status)
	}
	if r.Header.Get("X-Request-ID") == "" {
		t.Fatal("no X-Request-ID on responses")
	}
	_ = http.StatusOK
	_ = time.Second
}

// MongoDB is the truth and Redis is disposable: after a restart with Redis
// emptied, the same person is the same user and their refresh token still works.
func TestRestartWithRedisFlushedKeepsUsersAndSessions(t *testing.T) {
	first := start(t)
	before := first.loginWeChat("restart")
	dbName := first.app.DB().Name()
	ctx := t.Context()
	if err := first.app.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	second := start(t, func(c *bff.Config) {
		c.MongoDatabase = dbName
		c.RedisPrefix += "after-restart:" // a fresh, empty keyspace: everything cached is gone
	})
	after := second.loginWeChat("restart")
	if after.UserID != before.UserID {
		t.Fatalf("user %s became %s across a restart", before.UserID, after.UserID)
	}
	r := second.request("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": before.Refresh})
	if r.Status != 200 {
		t.Fatalf("refresh token from before the restart: %d %s", r.Status, r.Body)
	}
}

// With Redis down zwfw is degraded, not broken: ready, and logins and
// profile reads still work (rate limits fail open, caches read through).
func TestRedisDownIsDegradedNotBroken(t *testing.T) {
	s := start(t, func(c *bff.Config) { c.RedisURL = "redis://127.0.0.1:1/0" })
	r := s.request("GET", "/readyz", "", nil)
	if r.Status != 200 || r.M(t)["status"] != "degraded" {
		t.Fatalf("readyz without redis: %d %s", r.Status, r.Body)
	}
	me := s.loginWeChat("noredis")
	r = s.request("GET", "/api/v1/me", me.Access, nil)
	if r.Status != 200 {
		t.Fatalf("/me without redis: %d %s", r.Status, r.Body)
	}
	r = s.request("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": me.Refresh})
	if r.Status != 200 {
		t.Fatalf("refresh without redis: %d %s", r.Status, r.Body)
	}
}
