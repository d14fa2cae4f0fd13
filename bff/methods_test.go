package bff_test

import (
	"net/http"
	"testing"
)

// A method a route is not served with answers 405 with Allow, in the
// error envelope; an unknown path stays 404.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	s := start(t)
	cases := []struct{ method, path, allow string }{
		{"DELETE", "/api/v1/me", "GET, HEAD"},
		{"GET", "/api/v1/cases/c_1/submit", "POST"},
		{"PATCH", "/api/v1/bookings", "GET, HEAD, POST"},
		{"POST", "/readyz", "GET, HEAD"},
	}
	for _, c := range cases {
		r := s.request(c.method, c.path, "", nil)
		wantError(t, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		if got := r.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	wantError(t, s.request("DELETE", "/api/v1/no-such-thing", "", nil), http.StatusNotFound, "ROUTE_NOT_FOUND")
}
