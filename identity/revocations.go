package identity

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"zwfw/platform/redisx"
)

// RedisRevocations implements Revocations with short-lived keys: one per
// revoked session and one per merged person, each only as long as access
// tokens that need it can live.
type RedisRevocations struct {
	rdb  redis.UniversalClient
	keys redisx.Keys
}

// NewRedisRevocations stores revocation markers under keys' prefix.
func NewRedisRevocations(rdb redis.UniversalClient, keys redisx.Keys) *RedisRevocations {
	return &RedisRevocations{rdb: rdb, keys: keys}
}

// Revoke implements Revocations.
func (r *RedisRevocations) Revoke(ctx context.Context, sessionID string, ttl time.Duration) error {
	return r.rdb.Set(ctx, r.keys.Key("revoked", sessionID), 1, ttl).Err()
}

// Alias implements Revocations.
func (r *RedisRevocations) Alias(ctx context.Context, from, to string, ttl time.Duration) error {
	return r.rdb.Set(ctx, r.keys.Key("merged", from), to, ttl).Err()
}

// Check implements Revocations in one round trip (a pipeline: the two keys
// may live on different cluster nodes).
func (r *RedisRevocations) Check(ctx context.Context, sessionID, userID string) (bool, string, error) {
	pipe := r.rdb.Pipeline()
	revoked := pipe.Exists(ctx, r.keys.Key("revoked", sessionID))
	merged := pipe.Get(ctx, r.keys.Key("merged", userID))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return false, "", err
	}
	to, err := merged.Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, "", err
	}
	return revoked.Val() > 0, to, nil
}

// CheckOn queues Check's two reads on pipe, so the caller can send them in
// the round trip it already makes (the request's rate limits); the
// returned function reads their answer once pipe ran, as Check would.
func (r *RedisRevocations) CheckOn(ctx context.Context, pipe redis.Pipeliner, sessionID, userID string) func() (bool, string, error) {
	revoked := pipe.Exists(ctx, r.keys.Key("revoked", sessionID))
	merged := pipe.Get(ctx, r.keys.Key("merged", userID))
	return func() (bool, string, error) {
		if err := revoked.Err(); err != nil {
			return false, "", err
		}
		to, err := merged.Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return false, "", err
		}
		return revoked.Val() > 0, to, nil
	}
}
