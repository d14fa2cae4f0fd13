package province

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Freshness says where a catalog answer came from. It is embedded in the
// catalog result types.
type Freshness struct {
	// Stale is true when the answer is an older cached copy: the cache was
	// past its fresh age (a refresh is running in the background) or the
	// province could not be reached. Handlers may tell the user the data may
	// be out of date.
	Stale bool `json:"-"`
	// FetchedAt is when the answer was fetched from the province.
	FetchedAt time.Time `json:"-"`
}

// cacheEntry is the Redis value of a cached catalog answer: the envelope's
// data as the province sent it, and when it was fetched.
type cacheEntry struct {
	At   int64           `json:"at"` // unix ms
	Data json.RawMessage `json:"data"`
}

// redisPause is how long Redis is skipped after an error, so that a dead
// Redis does not add a timeout to every call.
const redisPause = 5 * time.Second

// cachedGet serves a catalog GET with stale-while-revalidate:
//
//   - fresh copy: served from Redis;
//   - stale copy (older than Fresh, younger than MaxStale): served at once,
//     marked stale, and refreshed in the background (one refresh per key);
//     this is also what callers get while the province is down;
//   - no copy, or Redis unavailable: fetched from the province (coalesced
//     with identical concurrent fetches) and stored.
func (c *Client) cachedGet(ctx context.Context, r request) (json.RawMessage, Freshness, error) {
	if !c.redisUsable() {
		c.m.cache.WithLabelValues("bypass").Inc()
		data, err := c.do(ctx, r)
		return data, Freshness{FetchedAt: c.now()}, err
	}
	key := c.keys.Key("province", "catalog", r.path+"?"+canonicalQuery(r.query))
	if e, ok := c.cacheLoad(ctx, key); ok {
		at := time.UnixMilli(e.At)
		age := c.now().Sub(at)
		switch {
		case age < c.cacheCfg.Fresh:
			c.m.cache.WithLabelValues("fresh").Inc()
			return e.Data, Freshness{FetchedAt: at}, nil
		case age < c.cacheCfg.MaxStale:
			c.m.cache.WithLabelValues("stale").Inc()
			c.refreshAsync(ctx, key, r)
			return e.Data, Freshness{Stale: true, FetchedAt: at}, nil
		}
	}
	c.m.cache.WithLabelValues("miss").Inc()
	return c.fill(ctx, key, r)
}

type filled struct {
	data json.RawMessage
	at   time.Time
}

// fill fetches r and stores the answer under key. Identical concurrent
// fills share one fetch, and the store happens before any of them returns,
// so a caller arriving just after finds the fresh copy.
func (c *Client) fill(ctx context.Context, key string, r request) (json.RawMessage, Freshness, error) {
	ch := c.sf.DoChan("fill:"+key, func() (any, error) {
		sctx, cancel := c.detach(ctx)
		defer cancel()
		data, err := c.do(sctx, r)
		if err != nil {
			return nil, err
		}
		at := time.UnixMilli(c.now().UnixMilli()) // as stored, so a later hit reports the same time
		c.cacheStore(sctx, key, cacheEntry{At: at.UnixMilli(), Data: data})
		return filled{data: data, at: at}, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, Freshness{}, res.Err
		}
		f := res.Val.(filled)
		return f.data, Freshness{FetchedAt: f.at}, nil
	case <-ctx.Done():
		return nil, Freshness{}, ErrTimeout.WithCause(ctx.Err())
	}
}

// refreshAsync refreshes key in the background unless a refresh of it is
// already running. A refresh that finds the item gone drops the copy; one
// that fails keeps it (it stays servable until MaxStale).
func (c *Client) refreshAsync(ctx context.Context, key string, r request) {
	if _, running := c.refreshing.LoadOrStore(key, struct{}{}); running {
		return
	}
	c.bgMu.Lock()
	if c.bgClosed {
		c.bgMu.Unlock()
		c.refreshing.Delete(key)
		return
	}
	c.bg.Add(1)
	c.bgMu.Unlock()
	go func() {
		defer c.bg.Done()
		defer c.refreshing.Delete(key)
		rctx := WithCaller(WithCorrelationID(c.life, correlationFrom(ctx)), CallerSystem)
		_, _, err := c.fill(rctx, key, r)
		if errors.Is(err, ErrItemNotFound) {
			c.cacheDelete(rctx, key)
		}
	}()
}

// redisUsable reports whether there is a Redis and it has not failed in the
// last redisPause.
func (c *Client) redisUsable() bool {
	return c.rdb != nil && time.Now().UnixNano() >= c.redisDownTill.Load()
}

// redisFailed notes a Redis error: the cache is bypassed for redisPause.
func (c *Client) redisFailed(op string, err error) {
	if c.redisDownTill.Swap(time.Now().Add(redisPause).UnixNano()) < time.Now().UnixNano() {
		c.log.Warn("redis unavailable; province catalog cache bypassed", "op", op, "err", err, "pause", redisPause)
	}
}

func (c *Client) cacheLoad(ctx context.Context, key string) (cacheEntry, bool) {
	rctx, cancel := context.WithTimeout(ctx, c.cacheCfg.OpTimeout)
	defer cancel()
	b, err := c.rdb.Get(rctx, key).Bytes()
	if err != nil {
		if !errors.Is(err, redis.Nil) && ctx.Err() == nil {
			c.redisFailed("get", err)
		}
		return cacheEntry{}, false
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || len(e.Data) == 0 {
		return cacheEntry{}, false
	}
	return e, true
}

func (c *Client) cacheStore(ctx context.Context, key string, e cacheEntry) {
	if !c.redisUsable() {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, c.cacheCfg.OpTimeout)
	defer cancel()
	if err := c.rdb.Set(rctx, key, b, c.cacheCfg.MaxStale).Err(); err != nil && ctx.Err() == nil {
		c.redisFailed("set", err)
	}
}

func (c *Client) cacheDelete(ctx context.Context, key string) {
	if !c.redisUsable() {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, c.cacheCfg.OpTimeout)
	defer cancel()
	if err := c.rdb.Del(rctx, key).Err(); err != nil && ctx.Err() == nil {
		c.redisFailed("del", err)
	}
}
