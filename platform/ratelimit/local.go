package ratelimit

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// localKeys bounds the in-memory fallback: the keys used most recently keep
// their buckets. An evicted bucket was idle, so it had refilled anyway.
const localKeys = 100_000

// local is the fallback used while Redis fails: a token bucket per key and
// limit in this process's memory (golang.org/x/time/rate), the same budget
// the Redis limiter grants.
type local struct {
	buckets *lru.Cache[bucketID, *rate.Limiter]
}

// bucketID names one key's bucket under one limit (a key may be counted
// under several limits).
type bucketID struct {
	key   string
	limit Limit
}

func newLocal(size int) *local {
	c, err := lru.New[bucketID, *rate.Limiter](size)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return &local{buckets: c}
}

func (l *local) allow(key string, limit Limit, now time.Time) Result {
	id := bucketID{key: key, limit: limit}
	b, ok := l.buckets.Get(id)
	if !ok {
		burst := max(limit.Burst, 1)
		b = rate.NewLimiter(rate.Every(limit.Period/time.Duration(limit.Rate)), burst)
		if prev, found, _ := l.buckets.PeekOrAdd(id, b); found {
			b = prev // another request added it first
		}
	}
	r := b.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return Result{Allowed: false, Remaining: 0, RetryAfter: delay}
	}
	return Result{Allowed: true, Remaining: max(int(b.TokensAt(now)), 0)}
}
