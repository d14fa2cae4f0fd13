package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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

// Several limits and another command go in one pipeline; each limit
// counts its own key, and the other command's answer is there afterwards.
func TestAllowAllInOneRoundTrip(t *testing.T) {
	rdb, keys := testenv.Redis(t)
	l := ratelimit.New(rdb, keys)
	ctx := context.Background()
	if err := rdb.Set(ctx, keys.Key("marker"), "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	checks := []ratelimit.Check{
		{Key: "ip:1", Limit: ratelimit.PerMinute(2)},
		{Key: "user:1", Limit: ratelimit.PerMinute(1)},
		{Key: "off", Limit: ratelimit.Limit{}},
	}
	out := make([]ratelimit.Result, len(checks))
	for round, want := range [][]bool{{true, true, true}, {true, false, true}, {false, false, true}} {
		var marker *redis.StringCmd
		l.AllowAll(ctx, checks, out, func(p redis.Pipeliner) { marker = p.Get(ctx, keys.Key("marker")) })
		for i, r := range out {
			if r.Allowed != want[i] || r.Degraded {
				t.Fatalf("round %d check %d: %+v, want allowed=%v", round, i, r, want[i])
			}
		}
		if v, err := marker.Result(); err != nil || v != "x" {
			t.Fatalf("round %d: the command sent along answered %q, %v", round, v, err)
		}
	}
}

// The script is loaded again when Redis lost it (a restart, SCRIPT FLUSH).
func TestLimiterSurvivesScriptFlush(t *testing.T) {
	rdb, keys := testenv.Redis(t)
	l := ratelimit.New(rdb, keys)
	ctx := context.Background()
	if r := l.Allow(ctx, "flush", ratelimit.PerMinute(2)); !r.Allowed || r.Degraded {
		t.Fatalf("first: %+v", r)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if r := l.Allow(ctx, "flush", ratelimit.PerMinute(2)); !r.Allowed || r.Degraded {
		t.Fatalf("after SCRIPT FLUSH: %+v", r)
	}
	if r := l.Allow(ctx, "flush", ratelimit.PerMinute(2)); r.Allowed || r.Degraded {
		t.Fatalf("third of 2: %+v", r)
	}
}

// In process: the same budget, counted without Redis (the commands sent
// along still go to Redis).
func TestInProcessLimiter(t *testing.T) {
	rdb, keys := testenv.Redis(t)
	l := ratelimit.NewInProcess(rdb)
	ctx := context.Background()
	limit := ratelimit.PerMinute(3)
	for i := 0; i < 3; i++ {
		if r := l.Allow(ctx, "k", limit); !r.Allowed || r.Degraded {
			t.Fatalf("request %d refused: %+v", i, r)
		}
	}
	if r := l.Allow(ctx, "k", limit); r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > time.Minute {
		t.Fatalf("4th request: %+v", r)
	}
	if n, err := rdb.Exists(ctx, "rate:"+keys.Key("rl", "k")).Result(); err != nil || n != 0 {
		t.Fatalf("in-process limiter wrote to redis: %d %v", n, err)
	}
	out := make([]ratelimit.Result, 1)
	var ping *redis.StatusCmd
	l.AllowAll(ctx, []ratelimit.Check{{Key: "k2", Limit: limit}}, out, func(p redis.Pipeliner) { ping = p.Ping(ctx) })
	if !out[0].Allowed || ping.Err() != nil {
		t.Fatalf("in process with a command along: %+v %v", out[0], ping.Err())
	}
}
