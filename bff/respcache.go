package bff

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/redis/go-redis/v9"

	"zwfw/platform/redisx"
)

// respCache keeps the ready response bytes (and their ETag) of hot public
// GETs — the catalog, guides, a hall's slot weeks — in this process's
// memory, in front of the Redis caches: a hit costs neither a round trip
// nor a JSON decode and encode.
//
// Entries belong to a scope ("hall:fz-gl", "catalog"). A change bumps its
// scope's version here and publishes the scope on a Redis channel, so every
// replica bumps it too; an entry of an older version is a miss. An entry
// also lives ttl at most, which bounds what a missed message (Redis down)
// can cost; and when the subscription starts again (Redis back) every entry
// is dropped, as messages may have been missed meanwhile.
type respCache struct {
	entries  *lru.Cache[string, *cachedResponse]
	versions sync.Map // scope -> *atomic.Uint64
	epoch    atomic.Uint64
	rdb      redis.UniversalClient
	channel  string
	log      *slog.Logger
	now      func() time.Time
	// hooks are told of the other replicas' invalidations of scopes under
	// a prefix (registered before listen starts).
	hooks []scopeHook
}

type scopeHook struct {
	prefix string
	forget func(rest string)
}

// onScope calls forget with the rest of every scope under prefix that
// another replica invalidates (e.g. "hallcfg:" -> booking.HallCache.Forget),
// and with "" when messages may have been missed (everything is stale).
func (rc *respCache) onScope(prefix string, forget func(rest string)) {
	rc.hooks = append(rc.hooks, scopeHook{prefix: prefix, forget: forget})
}

type cachedResponse struct {
	body        []byte
	contentType string
	etag        string
	version     uint64
	epoch       uint64
	expires     time.Time
}

// respCacheEntries bounds the memory: the busiest few thousand answers of
// a few kilobytes each.
const respCacheEntries = 4096

func newRespCache(rdb redis.UniversalClient, keys redisx.Keys, log *slog.Logger) *respCache {
	c, err := lru.New[string, *cachedResponse](respCacheEntries)
	if err != nil {
		panic(err)
	}
	return &respCache{entries: c, rdb: rdb, channel: keys.Key("respcache", "invalidate"), log: log, now: time.Now}
}

func (rc *respCache) version(scope string) *atomic.Uint64 {
	if v, ok := rc.versions.Load(scope); ok {
		return v.(*atomic.Uint64)
	}
	v, _ := rc.versions.LoadOrStore(scope, new(atomic.Uint64))
	return v.(*atomic.Uint64)
}

// Invalidate drops scope's entries here and, through Redis, on every
// replica. A lost message costs at most the entries' ttl.
func (rc *respCache) Invalidate(ctx context.Context, scope string) {
	rc.version(scope).Add(1)
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := rc.rdb.Publish(ctx, rc.channel, scope).Err(); err != nil {
		rc.log.Debug("response cache: publish", "scope", scope, "err", err)
	}
}

// listen applies the other replicas' invalidations until ctx ends.
func (rc *respCache) listen(ctx context.Context) {
	ps := rc.rdb.Subscribe(ctx, rc.channel)
	defer ps.Close()
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			select { // Redis away: go-redis reconnects on the next Receive
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			// (Re)subscribed: what was published meanwhile is lost.
			rc.epoch.Add(1)
			for _, h := range rc.hooks {
				h.forget("")
			}
		case *redis.Message:
			rc.version(m.Payload).Add(1)
			for _, h := range rc.hooks {
				if rest, ok := strings.CutPrefix(m.Payload, h.prefix); ok {
					h.forget(rest)
				}
			}
		}
	}
}

// cachedRoute says how one route's answers are cached.
type cachedRoute struct {
	scope func(c *fiber.Ctx) string
	// key names the answer (the path and query string by default; add
	// whatever else the answer depends on).
	key func(c *fiber.Ctx) string
	// ttl bounds an entry's life; 0 switches the cache off for the route.
	ttl time.Duration
	// etag: the answer carries an ETag (the route is conditional).
	etag bool
}

// wrap serves h's 200 answers from memory while they are current. It goes
// last in a route's chain, after the rate limits and the request checks;
// an answer marked stale (X-Data-Stale) is not kept.
func (rc *respCache) wrap(r cachedRoute, h fiber.Handler) fiber.Handler {
	if r.ttl <= 0 {
		return h
	}
	return func(c *fiber.Ctx) error {
		if c.Method() != fiber.MethodGet {
			return h(c)
		}
		key := string(c.Request().URI().RequestURI())
		if r.key != nil {
			key = r.key(c)
		}
		ver := rc.version(r.scope(c))
		v, epoch := ver.Load(), rc.epoch.Load()
		if e, ok := rc.entries.Get(key); ok && e.version == v && e.epoch == epoch && rc.now().Before(e.expires) {
			c.Response().Header.SetContentType(e.contentType)
			if e.etag != "" {
				c.Set(fiber.HeaderETag, e.etag)
			}
			c.Response().SetBodyRaw(e.body)
			return nil
		}
		if err := h(c); err != nil {
			return err
		}
		res := c.Response()
		if res.StatusCode() != fiber.StatusOK || len(res.Header.Peek("X-Data-Stale")) > 0 {
			return nil
		}
		e := &cachedResponse{body: append([]byte(nil), res.Body()...), contentType: string(res.Header.ContentType()),
			version: v, epoch: epoch, expires: rc.now().Add(r.ttl)}
		if r.etag {
			e.etag = etagOf(e.body)
			c.Set(fiber.HeaderETag, e.etag)
		}
		rc.entries.Add(key, e)
		return nil
	}
}

// etagOf is the strong ETag of a body: a digest of its bytes.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}
