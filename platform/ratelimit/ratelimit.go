// Package ratelimit limits request rates with counters in Redis (GCRA, via
// go-redis/redis_rate), so that every replica shares one budget per key.
//
// Redis is disposable, and losing it must not switch the limits off (a
// Redis outage would otherwise open login and SMS sends to brute force):
// while Redis fails, each process counts in memory (local.go) and says so
// with Result.Degraded. Limits that protect money or correctness (e.g. SMS
// sends per phone) are kept in MongoDB by their domain, not here.
package ratelimit

import (
	"context"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"zwfw/platform/redisx"
)

// Limit is a rate: Rate events per Period, with bursts up to Burst.
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// PerMinute allows n per minute with a burst of n.
func PerMinute(n int) Limit { return Limit{Rate: n, Period: time.Minute, Burst: n} }

// PerSecond allows n per second with a burst of n.
func PerSecond(n int) Limit { return Limit{Rate: n, Period: time.Second, Burst: n} }

// Result tells whether a request may go on and, when not, when to retry.
type Result struct {
	Allowed    bool
	Remaining  int
	RetryAfter time.Duration
	// Degraded: Redis was unreachable and this process counted alone (N
	// replicas then allow up to N times the limit between them).
	Degraded bool
}

// Limiter checks keys against limits.
type Limiter struct {
	rl    *redis_rate.Limiter
	keys  redisx.Keys
	local *local
}

// New builds a limiter on rdb; keys prefixes every counter.
func New(rdb redis.UniversalClient, keys redisx.Keys) *Limiter {
	return &Limiter{rl: redis_rate.NewLimiter(rdb), keys: keys, local: newLocal(localKeys)}
}

// Allow counts one event for key under limit.
func (l *Limiter) Allow(ctx context.Context, key string, limit Limit) Result {
	if limit.Rate <= 0 {
		return Result{Allowed: true}
	}
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	res, err := l.rl.Allow(ctx, l.keys.Key("rl", key), redis_rate.Limit{Rate: limit.Rate, Period: limit.Period, Burst: limit.Burst})
	if err != nil {
		r := l.local.allow(key, limit, time.Now())
		r.Degraded = true
		return r
	}
	return Result{Allowed: res.Allowed > 0, Remaining: res.Remaining, RetryAfter: res.RetryAfter}
}
