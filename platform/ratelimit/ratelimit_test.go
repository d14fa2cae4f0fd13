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

// Without Redis the limiter lets requests through and says it is degraded:
// losing Redis costs protection, never availability.
func TestLimiterFailsOpenWithoutRedis(t *testing.T) {
	rdb, err := redisx.Open("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	r := ratelimit.New(rdb, "x:").Allow(context.Background(), "k", ratelimit.PerMinute(1))
	if !r.Allowed || !r.Degraded {
		t.Fatalf("without redis: %+v", r)
	}
}
