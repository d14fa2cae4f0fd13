package redisx_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"zwfw/platform/redisx"
	"zwfw/platform/testenv"
)

// A real redis-server killed under traffic and started again is used again
// within seconds: the breaker opens while it is down, then lets a probe
// through, and the probe's fresh connection is not refused by the breaker
// it is probing for.
func TestClientUsesRedisAgainAfterItCameBack(t *testing.T) {
	srv := testenv.StartRedisServer(t)
	c, err := redisx.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	// Traffic as zwfw makes it: many short commands with their own deadlines.
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			_ = c.Incr(cctx, "traffic").Err()
			cancel()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	defer func() { stop.Store(true); <-done }()

	testenv.WaitFor(t, "traffic to reach redis", func() bool { return c.Get(ctx, "traffic").Val() != "" })
	srv.Kill()
	testenv.WaitFor(t, "the breaker to open", func() bool {
		return errors.Is(redisx.Ping(ctx, c), redisx.ErrUnavailable)
	})
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for redisx.Ping(ctx, c) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis is back but the client still fails: %v", redisx.Ping(ctx, c))
		}
		time.Sleep(50 * time.Millisecond)
	}
	testenv.WaitFor(t, "traffic to reach the restarted redis", func() bool { return c.Get(ctx, "traffic").Val() != "" })
}
