package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"zwfw/platform/ratelimit"
	"zwfw/platform/redisx"
	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestLimitPerKey(t *testing.T) {
	rdb, keys := testenv.Redis(t)
	l := ratelimit.New(rdb, keys)
	ctx := context.Background()
	limit := ratelimit.PerMinute(3)
	for i := 0; i < 3; i++ {
		if r := l.Allow(ctx, "ip:1.2.3.4", limit); !r.Allowed || r.Degraded {
			t.Fatalf("request %d refused: %+v", i, r)
		}
	}
	r := l.Allow(ctx, "ip:1.2.3.4", limit)
	if r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > time.Minute {
		t.Fatalf("4th request: %+v", r)
	}
	if r := l.Allow(ctx, "ip:5.6.7.8", limit); !r.Allowed {
		t.Fatal("another key shares the budget")
	}
}

// Without Redis the limiter keeps protecting: each process counts in
// memory, says it is degraded, and goes back to Redis once Redis answers.
func TestLimiterKeepsLimitingWithoutRedis(t *testing.T) {
	srv := testenv.StartRedisServer(t)
	rdb, err := redisx.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	l := ratelimit.New(rdb, "x:")
	ctx := context.Background()
	limit := ratelimit.PerMinute(5)
	if r := l.Allow(ctx, "login:ip:1", limit); !r.Allowed || r.Degraded {
		t.Fatalf("with redis: %+v", r)
	}

	srv.Kill()
	allowed := 0
	for i := 0; i < 12; i++ {
		r := l.Allow(ctx, "login:ip:2", limit)
		if !r.Degraded {
			t.Fatalf("attempt %d: not marked degraded with redis down: %+v", i, r)
		}
		if r.Allowed {
			allowed++
		} else if r.RetryAfter <= 0 || r.RetryAfter > time.Minute {
			t.Fatalf("attempt %d refused without a sensible Retry-After: %+v", i, r)
		}
	}
	if allowed != 5 {
		t.Fatalf("redis down: %d of 12 attempts allowed, limit 5", allowed)
	}
	if r := l.Allow(ctx, "login:ip:3", limit); !r.Allowed {
		t.Fatal("another key shares the in-memory budget")
	}

	srv.Restart()
	testenv.WaitFor(t, "the limiter to use redis again", func() bool {
		return !l.Allow(ctx, "login:ip:4", limit).Degraded
	})
}

// A process that never reached Redis still limits.
func TestLimiterLimitsWhenRedisNeverAnswered(t *testing.T) {
	rdb, err := redisx.Open("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	l := ratelimit.New(rdb, "x:")
	if r := l.Allow(context.Background(), "k", ratelimit.PerMinute(1)); !r.Allowed || !r.Degraded {
		t.Fatalf("first without redis: %+v", r)
	}
	if r := l.Allow(context.Background(), "k", ratelimit.PerMinute(1)); r.Allowed {
		t.Fatalf("second without redis allowed: %+v", r)
	}
}
