package push

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRateLimitWindow(t *testing.T) {
	e := newEnv(t)
	id := e.s.RegisterDevice(PlatformAndroid)
	if a := e.push(toIDs(id)); a.header.Get("X-Rate-Limit-Limit") != "" {
		t.Errorf("without a limit the headers are left out, got %q", a.header.Get("X-Rate-Limit-Limit"))
	}
	if err := e.s.SetFaults(Faults{RateLimitPerMinute: 2}); err != nil {
		t.Fatal(err)
	}
	// start is 30 s into its minute: the window resets in 30 s.
	for i, want := range []string{"1", "0"} {
		a := e.push(toIDs(id))
		if a.status != http.StatusOK {
			t.Fatalf("push %d: %d %s", i, a.status, a.raw)
		}
		if a.header.Get("X-Rate-Limit-Limit") != "2" || a.header.Get("X-Rate-Limit-Remaining") != want || a.header.Get("X-Rate-Limit-Reset") != "30" {
			t.Errorf("push %d headers: limit %q remaining %q reset %q", i, a.header.Get("X-Rate-Limit-Limit"),
				a.header.Get("X-Rate-Limit-Remaining"), a.header.Get("X-Rate-Limit-Reset"))
		}
	}
	e.clock.Advance(20*time.Second + 500*time.Millisecond)
	a := e.push(toIDs(id))
	if a.status != http.StatusTooManyRequests || a.code() != CodeRateLimited {
		t.Fatalf("third push: %d %s, want 429 with code 2002", a.status, a.raw)
	}
	if a.header.Get("X-Rate-Limit-Remaining") != "0" || a.header.Get("X-Rate-Limit-Reset") != "10" {
		t.Errorf("429 headers: remaining %q reset %q, want 0 and 10 (9.5 s rounded up)", a.header.Get("X-Rate-Limit-Remaining"), a.header.Get("X-Rate-Limit-Reset"))
	}
	// Refused credentials do not count against the app's window.
	if a := e.call(http.MethodPost, "/v3/push", basic(e.s.AppKey(), "wrong"), toIDs(id)); a.code() != CodeAuthFailed {
		t.Errorf("wrong secret while limited: %s", a.raw)
	}
	e.clock.Advance(10 * time.Second) // the next minute
	if a := e.push(toIDs(id)); a.status != http.StatusOK || a.header.Get("X-Rate-Limit-Remaining") != "1" {
		t.Errorf("next window: %d %s remaining %q", a.status, a.raw, a.header.Get("X-Rate-Limit-Remaining"))
	}
	if n := len(e.s.Messages(id)); n != 4 {
		t.Errorf("delivered %d, want 4 (1 before the limit, 2 within, 1 in the next window)", n)
	}
	if st := e.s.Stats(); st.RateLimited != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestDown(t *testing.T) {
	e := newEnv(t)
	id := e.s.RegisterDevice(PlatformAndroid)
	if err := e.s.SetFaults(Faults{Down: true}); err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{e.s.BasicAuth(), ""} {
		a := e.call(http.MethodPost, "/v3/push", auth, toIDs(id))
		if a.status != http.StatusServiceUnavailable || !strings.Contains(a.raw, "503 Service Temporarily Unavailable") {
			t.Errorf("down: %d %s, want the load balancer's 503 page", a.status, a.raw)
		}
	}
	e.s.ClearFaults()
	if a := e.push(toIDs(id)); a.status != http.StatusOK {
		t.Errorf("after clearing: %d %s", a.status, a.raw)
	}
	if st := e.s.Stats(); st.Down != 2 || st.Accepted != 1 || st.Requests != 3 {
		t.Errorf("stats = %+v", st)
	}
}

func TestErrorRate(t *testing.T) {
	e := newEnv(t)
	id := e.s.RegisterDevice(PlatformAndroid)
	if err := e.s.SetFaults(Faults{ErrorRate: 1}); err != nil {
		t.Fatal(err)
	}
	a := e.push(toIDs(id))
	if a.status != http.StatusInternalServerError || a.code() != CodeInternal {
		t.Fatalf("error rate 1: %d %s, want 500 with code 1000", a.status, a.raw)
	}
	if n := len(e.s.Messages(id)); n != 0 {
		t.Errorf("a failed push delivered %d messages", n)
	}

	// A fraction: draws are stubbed so the test is exact.
	draws := []float64{0.1, 0.5, 0.29, 0.3, 0.99}
	e.s.random = func() float64 { d := draws[0]; draws = draws[1:]; return d }
	if err := e.s.SetFaults(Faults{ErrorRate: 0.3}); err != nil {
		t.Fatal(err)
	}
	var failed []bool
	for range 5 {
		failed = append(failed, e.push(toIDs(id)).status == http.StatusInternalServerError)
	}
	if want := []bool{true, false, true, false, false}; !equal(failed, want) {
		t.Errorf("failed = %v, want %v (a draw below the rate fails)", failed, want)
	}
}

func equal(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFaultsValidate(t *testing.T) {
	for _, tc := range []struct {
		f  Faults
		ok bool
	}{
		{Faults{}, true},
		{Faults{Down: true, RateLimitPerMinute: 600, ErrorRate: 1}, true},
		{Faults{RateLimitPerMinute: -1}, false},
		{Faults{ErrorRate: -0.1}, false},
		{Faults{ErrorRate: 1.1}, false},
		{Faults{ErrorRate: math.NaN()}, false},
	} {
		if err := tc.f.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: err = %v, want ok=%v", tc.f, err, tc.ok)
		}
	}
	s := New(Options{})
	if err := s.SetFaults(Faults{Down: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFaults(Faults{ErrorRate: 2}); err == nil {
		t.Error("error rate 2 accepted")
	}
	if !s.Faults().Down {
		t.Error("a refused change must leave the faults as they were")
	}
}
