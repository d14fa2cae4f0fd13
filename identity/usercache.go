package identity

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

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
}

// NewUserCache wraps next. ttl bounds how long a change made elsewhere (e.g. a
// role granted by another replica that failed to invalidate) can stay unseen.
func NewUserCache(next UserStore, rdb redis.UniversalClient, keys redisx.Keys, ttl time.Duration, log *slog.Logger) *UserCache {
	return &UserCache{next: next, rdb: rdb, keys: keys, ttl: ttl, log: log}
}

func (c *UserCache) key(id string) string { return c.keys.Key("user", id) }

// UserByID implements UserStore, reading Redis first.
func (c *UserCache) UserByID(ctx context.Context, id string) (*User, error) {
	if b, err := c.rdb.Get(ctx, c.key(id)).Bytes(); err == nil {
		var u User
		if json.Unmarshal(b, &u) == nil {
			return &u, nil
		}
	} else if err != redis.Nil {
		c.log.Warn("user cache read failed; reading through", "err", err)
	}
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

// Invalidate drops a cached user after it changed.
func (c *UserCache) Invalidate(ctx context.Context, id string) {
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
	err := c.next.SaveUser(ctx, next, prevVersion)
	c.Invalidate(ctx, next.ID)
	return err
}

// TouchLogin implements UserStore. The login time is not part of the cached
// view's contract, so it does not invalidate.
func (c *UserCache) TouchLogin(ctx context.Context, id string, at time.Time) error {
	return c.next.TouchLogin(ctx, id, at)
}
