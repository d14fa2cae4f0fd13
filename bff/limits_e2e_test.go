package bff_test

import (
	"testing"

	"zwfw/bff"
)

// Every limit of a request holds, on a shared Redis and on the embedded one
// (counted in memory): per IP before the token is looked at, per user on
// signed-in routes only, and a logged-out token is refused in the same
// round trip.
func TestLimitsOfASignedInRequest(t *testing.T) {
	for _, embedded := range []bool{false, true} {
		name := map[bool]string{false: "shared redis", true: "embedded redis"}[embedded]
		t.Run(name, func(t *testing.T) {
			s := start(t, func(c *bff.Config) {
				c.RatePerUser, c.RatePerIP, c.RateLoginIP = 3, 1000, 1000
				if embedded {
					c.RedisURL = ""
				}
			})
			me := s.loginWeChat("limits")
			other := s.loginWeChat("limits-other")
			for i := 0; i < 3; i++ {
				if r := s.request("GET", "/api/v1/me", me.Access, nil); r.Status != 200 || r.Header.Get("X-RateLimit-Remaining") == "" {
					t.Fatalf("request %d: %d %s %v", i, r.Status, r.Body, r.Header)
				}
			}
			r := s.request("GET", "/api/v1/me", me.Access, nil)
			wantError(t, r, 429, "RATE_LIMITED")
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			// Another user from the same address has a budget of its own,
			// and a public route does not spend the user's.
			if r := s.request("GET", "/api/v1/me", other.Access, nil); r.Status != 200 {
				t.Fatalf("another user: %d %s", r.Status, r.Body)
			}
			if r := s.request("GET", "/api/v1/evaluation-reasons", me.Access, nil); r.Status != 200 {
				t.Fatalf("a public route with the limited user's token: %d %s", r.Status, r.Body)
			}
			// A logged-out session is refused.
			if r := s.request("POST", "/api/v1/auth/logout", other.Access, nil, "Idempotency-Key", "limits-logout-1"); r.Status/100 != 2 {
				t.Fatalf("logout: %d %s", r.Status, r.Body)
			}
			wantError(t, s.request("GET", "/api/v1/me", other.Access, nil), 401, "AUTH_SESSION_REVOKED")
		})
	}
}

// The per-IP limit counts requests with and without a token, on public
// and signed-in routes, and answers before the token is checked.
func TestPerIPLimitCountsEveryRoute(t *testing.T) {
	s := start(t, func(c *bff.Config) { c.RatePerIP, c.RateLoginIP = 4, 1000; c.RedisURL = "" })
	me := s.loginWeChat("per-ip") // 1
	for i, r := range []*response{
		s.request("GET", "/api/v1/me", me.Access, nil),                 // 2
		s.request("GET", "/api/v1/evaluation-reasons", "", nil),        // 3
		s.request("GET", "/api/v1/evaluation-reasons", me.Access, nil), // 4
	} {
		if r.Status != 200 {
			t.Fatalf("request %d: %d %s", i, r.Status, r.Body)
		}
	}
	wantError(t, s.request("GET", "/api/v1/me", "not-a-token", nil), 429, "RATE_LIMITED")
	wantError(t, s.request("GET", "/api/v1/evaluation-reasons", "", nil), 429, "RATE_LIMITED")
}
