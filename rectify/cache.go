package rectify

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/redisx"
)

// ListCache is a Store that keeps the console's lists in Redis in front of
// another Store. Every write (an opening, a change) bumps a generation
// counter that the lists' keys carry, so no replica serves a list older
// than the last write it could see; ttl bounds the rest (a write whose
// bump failed). Redis is disposable: on any Redis error it reads through.
type ListCache struct {
	next Store
	rdb  redis.UniversalClient
	keys redisx.Keys
	ttl  time.Duration
	log  *slog.Logger
}

// NewListCache wraps next.
func NewListCache(next Store, rdb redis.UniversalClient, keys redisx.Keys, ttl time.Duration, log *slog.Logger) *ListCache {
	return &ListCache{next: next, rdb: rdb, keys: keys, ttl: ttl, log: log}
}

func (c *ListCache) genKey() string { return c.keys.Key("rectify", "lists", "gen") }

func (c *ListCache) bump(ctx context.Context) {
	if err := c.rdb.Incr(context.WithoutCancel(ctx), c.genKey()).Err(); err != nil {
		c.log.Warn("rectification list cache not invalidated", "err", err)
	}
}

// Insert implements Store.
func (c *ListCache) Insert(ctx context.Context, r *Rectification) (bool, error) {
	ok, err := c.next.Insert(ctx, r)
	if ok {
		c.bump(ctx)
	}
	return ok, err
}

// Get implements Store (by _id: not cached).
func (c *ListCache) Get(ctx context.Context, id string) (*Rectification, error) {
	return c.next.Get(ctx, id)
}

// Save implements Store.
func (c *ListCache) Save(ctx context.Context, r *Rectification, prevVersion int64) error {
	err := c.next.Save(ctx, r, prevVersion)
	if err == nil {
		c.bump(ctx)
	}
	return err
}

type cachedList struct {
	Rows []*Rectification `bson:"rows"`
}

// List implements Store, reading Redis first.
func (c *ListCache) List(ctx context.Context, f Filter) ([]*Rectification, error) {
	gen, err := c.rdb.Get(ctx, c.genKey()).Result()
	if err == redis.Nil {
		gen, err = "0", nil
	}
	if err != nil {
		c.log.Warn("rectification list cache unavailable; reading through", "err", err)
		return c.next.List(ctx, f)
	}
	var due string
	if !f.DueBefore.IsZero() {
		due = strconv.FormatInt(f.DueBefore.UnixMilli(), 10)
	}
	key := c.keys.Key("rectify", "lists", gen, string(f.State), due, strconv.Itoa(f.Limit))
	if b, err := c.rdb.Get(ctx, key).Bytes(); err == nil {
		var l cachedList
		if bson.Unmarshal(b, &l) == nil {
			return l.Rows, nil
		}
	} else if err != redis.Nil {
		c.log.Warn("rectification list cache read failed; reading through", "err", err)
	}
	rows, err := c.next.List(ctx, f)
	if err != nil {
		return nil, err
	}
	if b, err := bson.Marshal(cachedList{Rows: rows}); err == nil {
		if err := c.rdb.Set(ctx, key, b, c.ttl).Err(); err != nil {
			c.log.Warn("rectification list cache write failed", "err", err)
		}
	}
	return rows, nil
}
