package wxapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/cache"

	"zwfw/platform/redisx"
)

// RedisCache implements the SDK's cache.ContextCache on go-redis v9, so all
// replicas share one access token (WeChat invalidates the previous token when
// a new one is fetched, so per-replica tokens would keep knocking each other out).
type RedisCache struct {
	rdb  redis.UniversalClient
	keys redisx.Keys
}

var _ cache.ContextCache = (*RedisCache)(nil)

// NewRedisCache stores SDK values under keys' prefix.
func NewRedisCache(rdb redis.UniversalClient, keys redisx.Keys) *RedisCache {
	return &RedisCache{rdb: rdb, keys: keys}
}

func (c *RedisCache) k(key string) string { return c.keys.Key("wechat", key) }

// GetContext returns the stored string, or nil when absent (the SDK then fetches a new value).
func (c *RedisCache) GetContext(ctx context.Context, key string) interface{} {
	v, err := c.rdb.Get(ctx, c.k(key)).Result()
	if err != nil {
		return nil
	}
	return v
}

// SetContext stores strings as they are and anything else as JSON.
func (c *RedisCache) SetContext(ctx context.Context, key string, val interface{}, timeout time.Duration) error {
	var s string
	switch v := val.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		s = string(b)
	}
	return c.rdb.Set(ctx, c.k(key), s, timeout).Err()
}

// IsExistContext reports whether key is stored.
func (c *RedisCache) IsExistContext(ctx context.Context, key string) bool {
	n, err := c.rdb.Exists(ctx, c.k(key)).Result()
	return err == nil && n > 0
}

// DeleteContext removes key.
func (c *RedisCache) DeleteContext(ctx context.Context, key string) error {
	return c.rdb.Del(ctx, c.k(key)).Err()
}

// Get implements cache.Cache.
func (c *RedisCache) Get(key string) interface{} { return c.GetContext(context.Background(), key) }

// Set implements cache.Cache.
func (c *RedisCache) Set(key string, val interface{}, timeout time.Duration) error {
	return c.SetContext(context.Background(), key, val, timeout)
}

// IsExist implements cache.Cache.
func (c *RedisCache) IsExist(key string) bool { return c.IsExistContext(context.Background(), key) }

// Delete implements cache.Cache.
func (c *RedisCache) Delete(key string) error { return c.DeleteContext(context.Background(), key) }
