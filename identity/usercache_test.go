package identity_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"zwfw/apperr"
	"zwfw/identity"
	"zwfw/platform/testenv"
)

// memUsers is a UserStore in memory that counts its reads.
type memUsers struct {
	mu    sync.Mutex
	users map[string]identity.User
	reads atomic.Int64
}

func (m *memUsers) UserByID(_ context.Context, id string) (*identity.User, error) {
	m.reads.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return nil, identity.ErrUserNotFound
	}
	return &u, nil
}

func (m *memUsers) SaveUser(_ context.Context, next *identity.User, prev int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.users[next.ID].Version != prev {
		return apperr.Conflict
	}
	m.users[next.ID] = *next
	return nil
}

func (m *memUsers) EnsureUserForKey(context.Context, string, *identity.User) (*identity.User, bool, error) {
	panic("not used")
}
func (m *memUsers) BindKey(context.Context, string, string) (string, error) { panic("not used") }
func (m *memUsers) TouchLogin(context.Context, string, time.Time) error     { return nil }

// redisTrips counts a client's round trips: a command sent alone or a
// pipeline is one.
type redisTrips struct{ n atomic.Int64 }

func (h *redisTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *redisTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !connSetup(cmd) {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *redisTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !connSetup(cmds[0]) {
			h.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// connSetup: a new connection's handshake, not a round trip of the code's.
func connSetup(cmd redis.Cmder) bool {
	switch strings.ToLower(cmd.Name()) {
	case "hello", "auth", "select", "client":
		return true
	}
	return false
}

// The cached user read ahead in another round trip serves the request's
// first read of that user without a round trip of its own, once; a write
// on the request's context drops it, so a read after the change never
// sees the old copy; a user the cache lacks is read through.
func TestUserCacheReadAhead(t *testing.T) {
	ctx := context.Background()
	rdb, keys := testenv.Redis(t)
	trips := &redisTrips{}
	rdb.AddHook(trips)
	store := &memUsers{users: map[string]identity.User{
		"u1": {ID: "u1", DisplayName: "张三", Roles: []identity.Role{identity.RoleCitizen}, Version: 1},
		"u2": {ID: "u2", DisplayName: "李四", Version: 1},
	}}
	cache := identity.NewUserCache(store, rdb, keys, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := cache.UserByID(ctx, "u1"); err != nil { // fills the cache
		t.Fatal(err)
	}
	readAhead := func(id string) context.Context {
		t.Helper()
		pipe := rdb.Pipeline()
		ahead := cache.ReadAheadOn(ctx, pipe, id)
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		return ahead(ctx)
	}
	read := func(rctx context.Context, id string) (name string, n, reads int64) {
		t.Helper()
		t0, r0 := trips.n.Load(), store.reads.Load()
		u, err := cache.UserByID(rctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u.DisplayName, trips.n.Load() - t0, store.reads.Load() - r0
	}

	rctx := readAhead("u1")
	if name, n, r := read(rctx, "u2"); name != "李四" || r != 1 {
		t.Fatalf("another user took u1's copy: %q, %d round trips, %d store reads", name, n, r)
	}
	if name, n, r := read(rctx, "u1"); name != "张三" || n != 0 || r != 0 {
		t.Fatalf("first read: %q, %d round trips, %d store reads; want the copy read ahead", name, n, r)
	}
	if name, n, r := read(rctx, "u1"); name != "张三" || n != 1 || r != 0 {
		t.Fatalf("second read: %q, %d round trips, %d store reads; want one GET", name, n, r)
	}

	// The request changes its user: its next read sees the change.
	rctx = readAhead("u1")
	u, err := cache.UserByID(ctx, "u1") // another context: leaves the copy
	if err != nil {
		t.Fatal(err)
	}
	next := *u
	next.DisplayName, next.Version = "张三丰", 2
	if err := cache.SaveUser(rctx, &next, 1); err != nil {
		t.Fatal(err)
	}
	if name, _, r := read(rctx, "u1"); name != "张三丰" || r != 1 {
		t.Fatalf("read after the request's own write: %q (%d store reads)", name, r)
	}

	// Not cached: read through without a GET of its own (only the SET that
	// fills the cache).
	cache.Invalidate(ctx, "u1")
	rctx = readAhead("u1")
	if name, n, r := read(rctx, "u1"); name != "张三丰" || n != 1 || r != 1 {
		t.Fatalf("a miss read ahead: %q, %d round trips, %d store reads; want the store and one SET", name, n, r)
	}

	// The request ended: a goroutine it left behind reads Redis.
	rctx = readAhead("u1")
	identity.EndReadAhead(rctx)
	if name, n, r := read(rctx, "u1"); name != "张三丰" || n != 1 || r != 0 {
		t.Fatalf("a read after the request: %q, %d round trips, %d store reads; want one GET", name, n, r)
	}

	// Each read gets a user of its own to change (the decoding is kept).
	for range 2 {
		u, err := cache.UserByID(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if u.DisplayName != "张三丰" || u.Roles[0] != identity.RoleCitizen {
			t.Fatalf("a read saw another read's changes: %+v", u)
		}
		u.DisplayName, u.Roles[0] = "changed", identity.RoleAdmin
	}
}
