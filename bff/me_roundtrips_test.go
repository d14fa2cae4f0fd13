package bff_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"zwfw/bff"
	sbprovince "zwfw/sandbox/province"
)

// redisTrips records a client's round trips (a command sent alone, or a
// pipeline: a cluster's reaches its nodes in parallel) by their commands.
type redisTrips struct {
	mu    sync.Mutex
	on    bool
	trips []string
}

func (h *redisTrips) record(cmds []redis.Cmder) {
	names := make([]string, 0, len(cmds))
	for _, c := range cmds {
		switch n := strings.ToLower(c.Name()); n {
		case "hello", "auth", "select", "client": // a new connection's handshake
		case "get", "exists":
			key, _ := c.Args()[1].(string)
			names = append(names, n+" "+key)
		default:
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.on {
		h.trips = append(h.trips, strings.Join(names, "; "))
	}
}

// take starts (or ends) recording and returns what was recorded.
func (h *redisTrips) take(on bool) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.trips
	h.trips, h.on = nil, on
	return t
}

func (h *redisTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *redisTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.record([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}
func (h *redisTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.record(cmds)
		return next(ctx, cmds)
	}
}

// GET /api/v1/me costs one Redis round trip on a shared Redis (a cluster
// under make test-redis-cluster): the rate limits, the revocation check and
// the cached user go in one pipeline. On the embedded Redis it costs none:
// the limits count in memory and the reads are answered from the
// miniredis's memory. A change to the user is seen by the next request at
// once, and a logout refuses it.
func TestMeInOneRedisRoundTrip(t *testing.T) {
	for _, embedded := range []bool{false, true} {
		name := map[bool]string{false: "shared redis", true: "embedded redis"}[embedded]
		t.Run(name, func(t *testing.T) {
			s := start(t, func(c *bff.Config) {
				if embedded {
					c.RedisURL = ""
				}
			})
			trips := &redisTrips{}
			s.app.RedisClient().AddHook(trips)
			me := s.loginWeChat("one-trip")
			get := func() map[string]any {
				t.Helper()
				r := s.request("GET", "/api/v1/me", me.Access, nil)
				if r.Status != 200 {
					t.Fatalf("GET /me: %d %s", r.Status, r.Body)
				}
				return r.M(t)
			}
			get() // fills the user cache (and loads the limit script)
			const n = 5
			trips.take(true)
			for range n {
				if u := get(); u["id"] != me.UserID {
					t.Fatalf("GET /me = %v", u)
				}
			}
			got := trips.take(false)
			want := n // one each
			if embedded {
				want = 0 // this process's Redis: read in memory (redisx.DirectReads)
			}
			if len(got) != want {
				t.Fatalf("%d GET /me made %d Redis round trips, want %d: %q", n, len(got), want, got)
			}
			for _, trip := range got {
				if !strings.Contains(trip, "exists ") || !strings.Contains(trip, "get ") || !strings.Contains(trip, ":user:"+me.UserID) {
					t.Fatalf("a round trip without the revocation check and the user read: %q", got)
				}
			}

			// Real-name verification changes the user; the next /me shows it.
			zhang := sbprovince.DemoPeople[0]
			if r := s.request("POST", "/api/v1/me/realname", me.Access, map[string]string{"name": zhang.Name, "id_number": zhang.IDNumber}); r.Status != 200 {
				t.Fatalf("realname: %d %s", r.Status, r.Body)
			}
			if u := get(); u["real_name_verified"] != true {
				t.Fatalf("GET /me after real-name verification: %v", u)
			}
			if r := s.request("POST", "/api/v1/auth/logout", me.Access, nil, "Idempotency-Key", "one-trip-logout"); r.Status/100 != 2 {
				t.Fatalf("logout: %d %s", r.Status, r.Body)
			}
			wantError(t, s.request("GET", "/api/v1/me", me.Access, nil), 401, "AUTH_SESSION_REVOKED")
		})
	}
}
