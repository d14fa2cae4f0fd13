package booking

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"zwfw/platform/redisx"
	"zwfw/platform/workdays"
)

// RedisCache is an AvailabilityCache in Redis. Entries live TTL at most and
// are keyed by the hall's generation number; Invalidate bumps the generation,
// so every cached range of the hall is dropped at once. Redis errors are
// logged and count as misses: losing Redis costs speed, never correctness
// (Book always decides on the MongoDB counter).
type RedisCache struct {
	rdb  redis.UniversalClient
	keys redisx.Keys
	ttl  time.Duration
	log  *slog.Logger
}

// NewRedisCache caches under keys (e.g. "zwfw:booking:") for ttl (default 5 s).
func NewRedisCache(rdb redis.UniversalClient, keys redisx.Keys, ttl time.Duration, logger *slog.Logger) *RedisCache {
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &RedisCache{rdb: rdb, keys: keys, ttl: ttl, log: logger}
}

func (c *RedisCache) genKey(hallID string) string { return c.keys.Key("avail", hallID, "gen") }

func (c *RedisCache) entryKey(ctx context.Context, hallID, itemCode string, from workdays.Date, days int) (string, bool) {
	gen, err := c.rdb.Get(ctx, c.genKey(hallID)).Int64()
	if err != nil && err != redis.Nil {
		c.log.Warn("booking cache: read generation", "err", err)
		return "", false
	}
	return c.keys.Key("avail", hallID, strconv.FormatInt(gen, 10), itemCode, from.String(), strconv.Itoa(days)), true
}

// Get implements AvailabilityCache.
func (c *RedisCache) Get(ctx context.Context, hallID, itemCode string, from workdays.Date, days int) ([]SlotView, bool) {
	key, ok := c.entryKey(ctx, hallID, itemCode, from, days)
	if !ok {
		return nil, false
	}
	b, err := c.rdb.Get(ctx, key).Bytes()
	if err != nil {
		if err != redis.Nil {
			c.log.Warn("booking cache: get", "err", err)
		}
		return nil, false
	}
	var views []SlotView
	if err := json.Unmarshal(b, &views); err != nil {
		return nil, false
	}
	return views, true
}

// Put implements AvailabilityCache.
func (c *RedisCache) Put(ctx context.Context, hallID, itemCode string, from workdays.Date, days int, views []SlotView) {
	key, ok := c.entryKey(ctx, hallID, itemCode, from, days)
	if !ok {
		return
	}
	b, err := json.Marshal(views)
	if err == nil {
		err = c.rdb.Set(ctx, key, b, c.ttl).Err()
	}
	if err != nil {
		c.log.Warn("booking cache: put", "err", err)
	}
}

// Invalidate implements AvailabilityCache.
func (c *RedisCache) Invalidate(ctx context.Context, hallID string) {
	if err := c.rdb.Incr(ctx, c.genKey(hallID)).Err(); err != nil {
		c.log.Warn("booking cache: invalidate", "err", err)
	}
}
