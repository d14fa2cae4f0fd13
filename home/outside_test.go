package home_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"zwfw/home"
	"zwfw/payments"
)

// countingPayments counts the questions to the non-tax platform.
type countingPayments struct {
	fakePayments
	asked *atomic.Int32
}

func (c countingPayments) Discover(ctx context.Context, u string) ([]payments.Payment, error) {
	c.asked.Add(1)
	return c.fakePayments.Discover(ctx, u)
}

// A person opening the first screen again and again asks the province for
// their e-licences and the non-tax platform for their notices once per
// freshness window, and sees the same screen each time; after the window
// both are asked again; an answer that failed is not kept.
func TestOutsidePlatformsAskedOncePerFreshness(t *testing.T) {
	d := world()
	clock := now
	d.Now = func() time.Time { return clock }
	var licenseCalls, noticeCalls atomic.Int32
	held := d.Licenses
	failNext := false
	d.Licenses = licensesFunc(func(ctx context.Context) ([]home.License, error) {
		licenseCalls.Add(1)
		if failNext {
			failNext = false
			return nil, errors.New("province down")
		}
		return held.Held(ctx, "u1")
	})
	d.Payments = countingPayments{d.Payments.(fakePayments), &noticeCalls}
	d.Rules.LicensesFresh, d.Rules.NoticesFresh = 5*time.Minute, time.Minute
	svc := home.New(d)
	screen := func() *home.Screen { return svc.Screen(context.Background(), home.Viewer{UserID: "u1"}) }

	first := screen()
	for i := 0; i < 3; i++ {
		clock = clock.Add(10 * time.Second)
		sc := screen()
		if len(sc.Todos.Items) != len(first.Todos.Items) || len(sc.Licenses.Items) != len(first.Licenses.Items) || sc.Degraded() {
			t.Fatalf("screen %d: %d to-dos, %d licences (first %d, %d), degraded %v", i+2,
				len(sc.Todos.Items), len(sc.Licenses.Items), len(first.Todos.Items), len(first.Licenses.Items), sc.Degraded())
		}
	}
	if licenseCalls.Load() != 1 || noticeCalls.Load() != 1 {
		t.Fatalf("4 screens within the window asked the province %d times, the non-tax platform %d times", licenseCalls.Load(), noticeCalls.Load())
	}
	clock = clock.Add(time.Minute)
	screen()
	if noticeCalls.Load() != 2 || licenseCalls.Load() != 1 {
		t.Fatalf("after the notices' window: non-tax platform %d, province %d", noticeCalls.Load(), licenseCalls.Load())
	}
	clock = clock.Add(5 * time.Minute)
	failNext = true
	if sc := screen(); sc.Licenses.Status() != home.StatusUnavailable {
		t.Fatalf("a failing province: licences %s", sc.Licenses.Status())
	}
	screen()
	if licenseCalls.Load() != 3 {
		t.Fatalf("a failed answer was kept: %d calls", licenseCalls.Load())
	}
}
