package notify_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zwfw/notify"
)

// BenchmarkDispatch measures events through the whole engine (HandleEvent,
// the durable job, dedup insert, lease, rate counters, a push send on a
// fake channel) with two runners. "burst" appends events as fast as it can
// (throughput; latency then includes queueing); "paced" waits for each send
// before the next event (the event-to-send latency of an idle engine).
func BenchmarkDispatch(b *testing.B) {
	b.Run("burst", func(b *testing.B) { benchDispatch(b, false) })
	b.Run("paced", func(b *testing.B) { benchDispatch(b, true) })
}

func benchDispatch(b *testing.B, paced bool) {
	e := newEnv(b, day0)
	e.ppl["bench"] = notify.Recipient{}
	big := 1 << 30
	limits := notify.Limits{PerUserPerDay: big, PerChannelPerDay: map[notify.Channel]int{notify.ChannelPush: big}}
	var mu sync.Mutex
	started := map[string]time.Time{}
	var lat []time.Duration
	// Sends are counted, never queued: a burst of thousands must not block
	// the runners on a full channel (the benchmark once never finished).
	var sentCount atomic.Int64
	wake := make(chan struct{}, 1)
	e.ch.onSend = func(s sent) {
		body := s.Data["body"]
		code, _, _ := strings.Cut(strings.TrimPrefix(body, "缴款码"), "已缴费")
		mu.Lock()
		if t0, ok := started[code]; ok {
			lat = append(lat, time.Since(t0))
		}
		mu.Unlock()
		sentCount.Add(1)
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	waitSent := func(target int64) {
		deadline := time.After(60 * time.Second)
		for sentCount.Load() < target {
			select {
			case <-wake:
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				b.Fatalf("sends did not arrive: %d of %d", sentCount.Load(), target)
			}
		}
	}
	mk := func(owner string) *notify.Service {
		return notify.NewService(notify.Deps{Store: e.store, Queue: e.queue, Push: pushFake{e.ch}, Recipients: e.ppl,
			Lookups: e.world, Now: e.clock.Now, Limits: limits, Owner: owner})
	}
	s1, s2 := mk("b1"), mk("b2")
	e.runner(s1, "b1")
	e.runner(s2, "b2")
	if _, err := s1.RegisterDevice(context.Background(), "bench", "1a0018970a8d2c5e3f1", "android"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	t0 := time.Now()
	n := 0
	for b.Loop() {
		code := fmt.Sprintf("B%08d", n)
		n++
		ev := e.event("payment.succeeded", "payment:"+code, "system", map[string]any{
			"payment_code": code, "amount_fen": int64(100), "user_id": "bench"})
		mu.Lock()
		started[code] = time.Now()
		mu.Unlock()
		if err := s1.HandleEvent(ctx, ev); err != nil {
			b.Fatal(err)
		}
		if paced {
			waitSent(int64(n))
		}
	}
	waitSent(int64(n))
	elapsed := time.Since(t0)
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no latencies")
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99_ms")
}
