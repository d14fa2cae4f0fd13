package identity

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"zwfw/platform/redisx"
)

// RedisRevocations implements Revocations with one short-lived key per
// revoked session (only as long as its access tokens can live).
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

// IsRevoked implements Revocations.
func (r *RedisRevocations) IsRevoked(ctx context.Context, sessionID string) (bool, error) {
	n, err := r.rdb.Exists(ctx, r.keys.Key("revoked", sessionID)).Result()
	return n > 0, err
}
