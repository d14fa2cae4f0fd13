package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/redis/go-redis/v9"

	"zwfw/platform/redisx"
)

// UserCache is a UserStore that keeps users in Redis in front of another
// UserStore. Redis is disposable: on any Redis error it reads through, so a
// Redis outage costs speed, never correctness.
type UserCache struct {
	next UserStore
	rdb  redis.UniversalClient
	keys redisx.Keys
	ttl  time.Duration
	log  *slog.Logger
	// decoded keeps the last decoding of each hot user's cached bytes, used
	// only when Redis answers exactly those bytes again: it spares the JSON
	// decoding (about as costly as the rest of a GET /me) and can never be
	// staler than Redis, whose answer it is.
	decoded *lru.Cache[string, decodedUser]
}

type decodedUser struct {
	raw []byte
	u   *User
}

// decodedUsers bounds the decodings kept (a few kilobytes each).
const decodedUsers = 4096

// NewUserCache wraps next. ttl bounds how long a change made elsewhere (e.g. a
// role granted by another replica that failed to invalidate) can stay unseen.
func NewUserCache(next UserStore, rdb redis.UniversalClient, keys redisx.Keys, ttl time.Duration, log *slog.Logger) *UserCache {
	decoded, _ := lru.New[string, decodedUser](decodedUsers) // fails only for a size <= 0
	return &UserCache{next: next, rdb: rdb, keys: keys, ttl: ttl, log: log, decoded: decoded}
}

func (c *UserCache) key(id string) string { return c.keys.Key("user", id) }

// UserByID implements UserStore, reading Redis first: the answer read
// ahead for this request (ReadAheadOn) when there is one for id, else a GET.
func (c *UserCache) UserByID(ctx context.Context, id string) (*User, error) {
	if b, hit, ok := takeAhead(ctx, id); ok {
		if hit {
			if u, ok := c.decode(id, b); ok {
				return u, nil
			}
		}
		// Not cached (or unreadable): read through, as after a GET's miss.
		return c.readThrough(ctx, id)
	}
	if b, err := c.rdb.Get(ctx, c.key(id)).Bytes(); err == nil {
		if u, ok := c.decode(id, b); ok {
			return u, nil
		}
	} else if err != redis.Nil {
		c.log.Warn("user cache read failed; reading through", "err", err)
	}
	return c.readThrough(ctx, id)
}

// decode decodes a cached user's bytes (b is the caller's to give away),
// or copies the decoding kept for the same bytes. Every caller gets a user
// of its own: they change what they read before saving it.
func (c *UserCache) decode(id string, b []byte) (*User, bool) {
	if d, ok := c.decoded.Get(id); ok && bytes.Equal(d.raw, b) {
		return cloneUser(d.u), true
	}
	var u User
	if json.Unmarshal(b, &u) != nil {
		return nil, false
	}
	// id may alias a request buffer (a path parameter) that is reused.
	c.decoded.Add(strings.Clone(id), decodedUser{raw: b, u: cloneUser(&u)})
	return &u, true
}

// cloneUser copies u and everything it points to (TestCloneUserSharesNothing
// fails when a field is added that this misses).
func cloneUser(u *User) *User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.Companies = slices.Clone(u.Companies)
	c.Halls = slices.Clone(u.Halls)
	c.Logins = slices.Clone(u.Logins)
	if u.RealNameVerifiedAt != nil {
		at := *u.RealNameVerifiedAt
		c.RealNameVerifiedAt = &at
	}
	return &c
}

func (c *UserCache) readThrough(ctx context.Context, id string) (*User, error) {
	u, err := c.next.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	c.put(ctx, u)
	return u, nil
}

func (c *UserCache) put(ctx context.Context, u *User) {
	b, err := json.Marshal(u)
	if err != nil {
		return
	}
	if err := c.rdb.Set(ctx, c.key(u.ID), b, c.ttl).Err(); err != nil {
		c.log.Warn("user cache write failed", "err", err)
	}
}

// Invalidate drops a cached user after it changed (and the copy read ahead
// for this request: a read after the change must see it).
func (c *UserCache) Invalidate(ctx context.Context, id string) {
	dropAhead(ctx)
	if err := c.rdb.Del(ctx, c.key(id)).Err(); err != nil {
		c.log.Warn("user cache invalidate failed", "err", err)
	}
}

// EnsureUserForKey implements UserStore.
func (c *UserCache) EnsureUserForKey(ctx context.Context, key string, candidate *User) (*User, bool, error) {
	return c.next.EnsureUserForKey(ctx, key, candidate)
}

// BindKey implements UserStore.
func (c *UserCache) BindKey(ctx context.Context, key, userID string) (string, error) {
	return c.next.BindKey(ctx, key, userID)
}

// SaveUser implements UserStore and drops the cached copy.
func (c *UserCache) SaveUser(ctx context.Context, next *User, prevVersion int64) error {
	dropAhead(ctx) // no read of this request takes the old copy from here on
	err := c.next.SaveUser(ctx, next, prevVersion)
	c.Invalidate(ctx, next.ID)
	return err
}

// TouchLogin implements UserStore. The login time is not part of the cached
// view's contract, so it does not invalidate.
func (c *UserCache) TouchLogin(ctx context.Context, id string, at time.Time) error {
	return c.next.TouchLogin(ctx, id, at)
}

// ReadAheadOn queues the GET of id's cached copy on pipe, a round trip the
// caller makes anyway (the signed-in gate's rate limits and revocation
// check), so the request's read of its caller costs none of its own. Once
// pipe ran, the returned function puts the answer on ctx; the request's
// first UserByID(id) takes it instead of a GET, later ones GET again.
//
// Why this is never staler than the cache: the GET is the same read
// UserByID would make, only earlier in the same request (after the token
// was checked, before the handler ran), so it sees every change whose
// SaveUser (Mongo, then DEL) finished before the request got that far —
// profile, real-name, roles, merges; a logout is the revocation check in
// the same pipeline. It serves one read, so a read after the request's
// own write goes to Redis again, and SaveUser and Invalidate drop it when
// they run on the request's context. It lives as long as the request:
// the caller ends it with EndReadAhead, so no goroutine the request leaves
// behind reads it later. A failed pipeline (Redis away) puts nothing, and
// the read goes its usual way.
func (c *UserCache) ReadAheadOn(ctx context.Context, pipe redis.Pipeliner, id string) func(context.Context) context.Context {
	cmd := pipe.Get(ctx, c.key(id))
	return func(ctx context.Context) context.Context {
		b, err := cmd.Bytes()
		switch {
		case err == nil:
			return withAhead(ctx, &aheadUser{id: id, b: b, hit: true})
		case errors.Is(err, redis.Nil):
			return withAhead(ctx, &aheadUser{id: id})
		default:
			return ctx
		}
	}
}

// ReadUserAheadOn queues the read of userID's cached record on pipe, a
// round trip the caller makes anyway, when the users store is a cache that
// can (UserCache.ReadAheadOn); once pipe ran, the returned function hands
// the answer to the request's context. It returns nil when the store
// cannot.
func (s *Service) ReadUserAheadOn(ctx context.Context, pipe redis.Pipeliner, userID string) func(context.Context) context.Context {
	c, ok := s.users.(*UserCache)
	if !ok {
		return nil
	}
	return c.ReadAheadOn(ctx, pipe, userID)
}

// aheadUser is a cached user's GET answer read ahead: its bytes, or that
// the cache had none (hit false).
type aheadUser struct {
	id  string
	b   []byte
	hit bool
}

type aheadKey struct{}

// aheadSlot holds the answer until one read takes it; a request's reads
// may run in parallel (the first screen's sources).
type aheadSlot struct{ p atomic.Pointer[aheadUser] }

func withAhead(ctx context.Context, a *aheadUser) context.Context {
	s := &aheadSlot{}
	s.p.Store(a)
	return context.WithValue(ctx, aheadKey{}, s)
}

// takeAhead takes the answer read ahead for id, once; ok says there was
// one.
func takeAhead(ctx context.Context, id string) (b []byte, hit, ok bool) {
	s, _ := ctx.Value(aheadKey{}).(*aheadSlot)
	if s == nil {
		return nil, false, false
	}
	a := s.p.Load()
	if a == nil || a.id != id || !s.p.CompareAndSwap(a, nil) {
		return nil, false, false
	}
	return a.b, a.hit, true
}

// EndReadAhead drops what ReadAheadOn put on ctx and no read took, when
// the request it was read for ends.
func EndReadAhead(ctx context.Context) { dropAhead(ctx) }

func dropAhead(ctx context.Context) {
	if s, _ := ctx.Value(aheadKey{}).(*aheadSlot); s != nil {
		s.p.Store(nil)
	}
}
