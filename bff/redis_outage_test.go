package bff_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zwfw/bff"
	"zwfw/platform/testenv"
)

// A real Redis killed mid-traffic and started again: while it is down the
// login limit still holds (each process counts alone); once it is back,
// /readyz says so within 10 s and the limits count in Redis again.
func TestRedisKilledAndRestarted(t *testing.T) {
	redis := testenv.StartRedisServer(t)
	s := start(t, func(c *bff.Config) { c.RedisURL, c.RateLoginIP = redis.URL(), 5 })
	redisCheck := func() string {
		r := s.request("GET", "/readyz", "", nil)
		checks, _ := r.M(t)["checks"].(map[string]any)
		v, _ := checks["redis"].(string)
		return v
	}
	if got := redisCheck(); got != "ok" {
		t.Fatalf("redis at start: %s", got)
	}

	// Traffic that touches Redis (rate limits, the catalog cache) throughout.
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			res, err := s.http.Get(s.base + "/api/v1/halls")
			if err == nil {
				res.Body.Close()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	defer func() { stop.Store(true); wg.Wait() }()

	redis.Kill()
	testenv.WaitFor(t, "readyz to see redis down", func() bool { return redisCheck() == "down" })
	allowed, refused := 0, 0
	for i := 0; i < 12; i++ {
		r := s.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "test:outage"})
		switch r.Status {
		case 200:
			allowed++
		case 429:
			wantError(t, r, 429, "RATE_LIMITED")
			refused++
		default:
			t.Fatalf("login with redis down: %d %s", r.Status, r.Body)
		}
	}
	if allowed != 5 || refused != 7 {
		t.Fatalf("redis down: %d of 12 logins allowed, %d refused; the limit is 5", allowed, refused)
	}

	redis.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for redisCheck() != "ok" {
		if time.Now().After(deadline) {
			t.Fatal("redis is back but /readyz does not say so after 10 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The limits count in Redis again: the answer says how many are left.
	r := s.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "test:back"})
	if r.Status != 200 || r.Header.Get("X-RateLimit-Remaining") == "" {
		t.Fatalf("after redis came back the limiter does not count in it: %d %v", r.Status, r.Header)
	}
}
