package province

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"zwfw/apperr"
	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type testOpt func(*Config, *Deps)

// newTestClient builds a client of f with fast retries and the shared clock.
func newTestClient(t testing.TB, f *fakeProvince, opts ...testOpt) *Client {
	t.Helper()
	cfg := Config{
		BaseURL: f.baseURL(), AppKey: testAppKey, AppSecret: testSecret,
		RetryBackoff: time.Millisecond,
	}
	deps := Deps{Now: f.clock.Now}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	c, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c
}

func withRedis(t testing.TB) testOpt {
	rdb, keys := testenv.Redis(t)
	return func(_ *Config, d *Deps) { d.Redis, d.Keys = rdb, keys }
}

func withRegistry(reg *prometheus.Registry) testOpt {
	return func(_ *Config, d *Deps) { d.Metrics = reg }
}

func withConfig(fn func(*Config)) testOpt { return func(c *Config, _ *Deps) { fn(c) } }

// wantCode fails unless err is a coded error with code.
func wantCode(t testing.TB, err error, code string) *apperr.Error {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if e.Code != code {
		t.Fatalf("want %s, got %s (%v)", code, e.Code, err)
	}
	return e
}

// metricValue sums the counter or gauge samples matching labels (0 when absent).
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metrics
				}
			}
			if m.GetCounter() != nil {
				sum += m.GetCounter().GetValue()
			} else {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// eventually polls cond until it holds or 10 s pass. It waits for
// background work to finish; it asserts nothing about speed.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
