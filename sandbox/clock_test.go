package sandbox_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"zwfw/sandbox"
	"zwfw/sandbox/fake"
)

// The payment clock moves forward by its control and only forward; the
// other fakes keep their own time.
func TestPaymentClockControl(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 15, 0, 0, 0, time.FixedZone("CST", 8*3600))
	base := fake.NewManualClock(t0)
	s := start(t, sandbox.Options{Now: base.Now})
	post := func(body string) (int, map[string]any) {
		t.Helper()
		res, err := http.Post(s.URL()+"/sandbox/clock", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	tests := []struct {
		body   string
		status int
		now    time.Time
	}{
		{`{"close_day":"2026-11-23"}`, 200, time.Date(2026, 11, 24, 10, 0, 0, 0, t0.Location())},
		{`{"close_day":"2026-11-22"}`, 200, time.Date(2026, 11, 24, 10, 0, 0, 0, t0.Location())}, // never back
		{`{"advance":"2h"}`, 200, time.Date(2026, 11, 24, 12, 0, 0, 0, t0.Location())},
		{`{"advance":"-2h"}`, 400, time.Date(2026, 11, 24, 12, 0, 0, 0, t0.Location())},
		{`{"close_day":"tomorrow"}`, 400, time.Date(2026, 11, 24, 12, 0, 0, 0, t0.Location())},
		{`{}`, 400, time.Date(2026, 11, 24, 12, 0, 0, 0, t0.Location())},
	}
	for _, tt := range tests {
		if code, _ := post(tt.body); code != tt.status {
			t.Fatalf("%s: %d, want %d", tt.body, code, tt.status)
		}
		if got := s.PaymentClock().Now(); !got.Equal(tt.now) {
			t.Fatalf("after %s: %v, want %v", tt.body, got, tt.now)
		}
	}
	base.Advance(time.Hour) // the base keeps running under the offset
	if got := s.PaymentClock().Now(); !got.Equal(time.Date(2026, 11, 24, 13, 0, 0, 0, t0.Location())) {
		t.Fatalf("payment clock %v", got)
	}
	req, _ := http.NewRequest("DELETE", s.URL()+"/sandbox/clock", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !s.PaymentClock().Now().Equal(base.Now()) {
		t.Fatalf("reset: %d, %v", res.StatusCode, s.PaymentClock().Now())
	}
}
