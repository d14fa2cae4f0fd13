// Package redisx holds the Redis plumbing: parsing REDIS_URL into a
// go-redis UniversalClient (single node, cluster or sentinel), the embedded
// miniredis used by the default configuration and tests, and key prefixes.
//
// Redis is disposable in zwfw: it holds caches, rate-limit counters and
// short-lived markers, never the only copy of anything.
package redisx

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// ParseURL turns REDIS_URL into UniversalOptions.
//
//	redis://[user:pass@]host:6379/0                  single node
//	redis://host1:6379,host2:6379,host3:6379         cluster (several hosts)
//	redis://host1:26379,host2:26379/0?master=mymaster sentinel (master name given)
//
// rediss:// enables TLS.
func ParseURL(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("REDIS_URL: scheme must be redis or rediss, got %q", u.Scheme)
	}
	opts := &redis.UniversalOptions{}
	for _, h := range strings.Split(u.Host, ",") {
		if h == "" {
			continue
		}
		if !strings.Contains(h, ":") {
			h += ":6379"
		}
		opts.Addrs = append(opts.Addrs, h)
	}
	if len(opts.Addrs) == 0 {
		return nil, fmt.Errorf("REDIS_URL: no host")
	}
	if u.User != nil {
		opts.Username = u.User.Username()
		opts.Password, _ = u.User.Password()
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		db, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: bad database %q", p)
		}
		opts.DB = db
	}
	q := u.Query()
	opts.MasterName = q.Get("master")
	if u.Scheme == "rediss" {
		opts.TLSConfig = tlsConfig(opts.Addrs[0])
	}
	opts.DialTimeout = time.Second
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	opts.MaxRetries = 1
	return opts, nil
}

// Open connects with REDIS_URL. It does not fail when Redis is down: zwfw
// runs degraded without Redis; callers ping to find out. A circuit breaker
// makes commands fail fast (ErrUnavailable) while Redis keeps failing.
func Open(raw string) (redis.UniversalClient, error) {
	opts, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	c := redis.NewUniversalClient(opts)
	c.AddHook(newBreakerHook("redis"))
	return c, nil
}

// Embedded is an in-process miniredis server.
type Embedded struct {
	*miniredis.Miniredis
	URL  string
	stop chan struct{}
	once sync.Once
}

// embeddedClock is how often the embedded Redis's keys age. miniredis
// moves TTLs only when told to (FastForward): without this, a key set to
// expire — an SMS code, a login lockout, a cached copy — would live forever
// on the embedded default.
const embeddedClock = time.Second

// StartEmbedded starts miniredis on a free loopback port, its keys ageing
// with the wall clock.
func StartEmbedded() (*Embedded, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, err
	}
	e := &Embedded{Miniredis: m, URL: "redis://" + m.Addr() + "/0", stop: make(chan struct{})}
	go e.age()
	return e, nil
}

func (e *Embedded) age() {
	t := time.NewTicker(embeddedClock)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-e.stop:
			return
		case now := <-t.C:
			e.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Close stops the server and its clock.
func (e *Embedded) Close() {
	e.once.Do(func() { close(e.stop) })
	e.Miniredis.Close()
}

// Ping reports whether the client reaches Redis within a short time.
func Ping(ctx context.Context, c redis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	return c.Ping(ctx).Err()
}

// Keys builds namespaced keys, so that several deployments (or parallel test
// runs) can share one Redis without touching each other's keys.
type Keys string

// Key joins the prefix and parts with ':'.
func (k Keys) Key(parts ...string) string {
	return string(k) + strings.Join(parts, ":")
}
