package province

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// 5xx, timeouts and transport errors open a group's breaker; business
// errors (404, 400) and bad responses do not.
func TestBreakerCountsOnlyProvinceFailures(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		setup    func(f *fakeProvince)
		call     func(c *Client) error
		wantOpen bool
	}{
		{"503", func(f *fakeProvince) { f.down = true },
			func(c *Client) error { _, err := c.VerifyRealName(ctx, testName, testIDNumber); return err }, true},
		{"timeout", func(f *fakeProvince) { f.hangNext = 99 },
			func(c *Client) error { _, err := c.VerifyRealName(ctx, testName, testIDNumber); return err }, true},
		{"transport error", func(f *fakeProvince) { f.srv.Close() },
			func(c *Client) error { _, err := c.VerifyRealName(ctx, testName, testIDNumber); return err }, true},
		{"404 business error", nil,
			func(c *Client) error {
				_, err := c.VerifyCompany(ctx, validUSCC("91350100MA0000002"), testName, testIDNumber)
				return err
			}, false},
		{"400 business error", nil,
			func(c *Client) error { _, err := c.VerifyRealName(ctx, testName, provinceRejectedID); return err }, false},
		{"bad response", func(f *fakeProvince) { f.mode = "unsigned" },
			func(c *Client) error { _, err := c.VerifyRealName(ctx, testName, testIDNumber); return err }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeProvince(t, &testClock{})
			if tc.setup != nil {
				f.set(tc.setup)
			}
			c := newTestClient(t, f, withConfig(func(c *Config) {
				c.Timeouts.Identity = 100 * time.Millisecond
				c.Breaker = BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: time.Hour}
			}))
			for range 6 {
				if tc.call(c) == nil {
					t.Fatal("call succeeded")
				}
			}
			open := c.breakers[groupIdentity].state() == gobreaker.StateOpen
			if open != tc.wantOpen {
				t.Fatalf("breaker open = %v, want %v", open, tc.wantOpen)
			}
			if c.breakers[groupCatalog].state() != gobreaker.StateClosed {
				t.Fatal("another group's breaker moved")
			}
		})
	}
}

// The breaker opens after the configured consecutive failures, then fails
// fast without touching the province, half-opens after its timeout and
// closes when the trial call succeeds.
func TestBreakerOpensHalfOpensCloses(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	f.set(func(f *fakeProvince) { f.down = true })
	reg := prometheus.NewRegistry()
	c := newTestClient(t, f, withRegistry(reg), withConfig(func(c *Config) {
		c.Breaker = BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: 100 * time.Millisecond}
	}))
	ctx := context.Background()
	gauge := func() float64 {
		return metricValue(t, reg, "zwfw_province_breaker_state", map[string]string{"group": "identity"})
	}
	verify := func() error { _, err := c.VerifyRealName(ctx, testName, testIDNumber); return err }

	for range 3 {
		wantCode(t, verify(), "PROVINCE_UNAVAILABLE")
	}
	if f.totalHits() != 3 || gauge() != 2 {
		t.Fatalf("after 3 failures: %d hits, gauge %v", f.totalHits(), gauge())
	}
	for range 5 {
		e := wantCode(t, verify(), "PROVINCE_UNAVAILABLE")
		if e.Details["retry_after"] == nil {
			t.Fatalf("fail-fast error without retry_after: %+v", e)
		}
	}
	if n := f.totalHits(); n != 3 {
		t.Fatalf("open breaker let %d calls through", n-3)
	}
	if got := metricValue(t, reg, "zwfw_province_calls_total", map[string]string{"result": ResultBreakerOpen}); got != 5 {
		t.Fatalf("breaker_open calls %v", got)
	}

	// Half-open: one failing trial reopens it.
	eventually(t, "half-open", func() bool { return c.breakers[groupIdentity].state() == gobreaker.StateHalfOpen })
	if gauge() != 1 {
		t.Fatalf("gauge %v, want 1 (half-open)", gauge())
	}
	wantCode(t, verify(), "PROVINCE_UNAVAILABLE")
	if f.totalHits() != 4 || c.breakers[groupIdentity].state() != gobreaker.StateOpen {
		t.Fatalf("failed trial: %d hits, state %s", f.totalHits(), c.breakers[groupIdentity].state())
	}

	// Province back: the next trial succeeds and closes it.
	f.set(func(f *fakeProvince) { f.down = false })
	eventually(t, "half-open again", func() bool { return c.breakers[groupIdentity].state() == gobreaker.StateHalfOpen })
	if err := verify(); err != nil {
		t.Fatal(err)
	}
	if c.breakers[groupIdentity].state() != gobreaker.StateClosed || gauge() != 0 {
		t.Fatalf("after success: state %s, gauge %v", c.breakers[groupIdentity].state(), gauge())
	}
	for range 3 {
		if err := verify(); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.totalHits(); n != 8 {
		t.Fatalf("%d hits, want 8", n)
	}
}

// The ratio rule: at least MinRequests calls, at least half of them failed.
func TestBreakerFailureRatio(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	c := newTestClient(t, f, withConfig(func(c *Config) {
		c.Breaker = BreakerSettings{ConsecutiveFailures: 100, MinRequests: 10, FailureRatio: 0.5, OpenTimeout: time.Hour}
	}))
	ctx := context.Background()
	for i := range 10 {
		f.set(func(f *fakeProvince) { f.down = i%2 == 1 })
		_, _ = c.VerifyRealName(ctx, testName, testIDNumber)
		if i < 9 && c.breakers[groupIdentity].state() != gobreaker.StateClosed {
			t.Fatalf("opened after %d calls", i+1)
		}
	}
	if c.breakers[groupIdentity].state() != gobreaker.StateOpen {
		t.Fatal("5 failures in 10 calls did not open the breaker")
	}
}
