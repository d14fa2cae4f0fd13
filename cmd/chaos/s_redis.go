package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// runRedis kills the real redis-server under traffic (bookings, catalog
// reads, logins) and starts it again, empty. While it is down the login
// limit must still hold (in-process limiters) and every write still
// lands (MongoDB is the truth); once it is back zwfw must use it again
// within seconds, its limits counting in Redis, and nothing acknowledged
// may be missing: bookings, their events and reminders, sessions.
func runRedis(ctx context.Context, d *deployment, short bool) []*scenario {
	s := newScenario("2 Redis killed and restarted under traffic", d, short)
	t0 := time.Now()
	if err := redisOutage(ctx, s); err != nil {
		s.err = err
	}
	s.took = time.Since(t0)
	return []*scenario{s}
}

func redisOutage(ctx context.Context, s *scenario) error {
	d := s.d
	bookers, outage := 5, 6*time.Second
	if s.short {
		bookers, outage = 3, 3*time.Second
	}
	admin, err := d.admin(ctx, s.t)
	if err != nil {
		return err
	}
	hall, err := d.setupHall(ctx, admin, 50)
	if err != nil {
		return err
	}
	var people []*person
	for i := 0; i < bookers; i++ {
		p, err := d.citizen(ctx, s.t, "redis")
		if err != nil {
			return err
		}
		people = append(people, p)
	}

	// Traffic throughout: bookings and cancellations, catalog reads, and
	// new people logging in (each from its own address).
	stop := make(chan struct{})
	var wg sync.WaitGroup
	books := newBookLedger()
	for _, p := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			books.bookAndCancel(ctx, p, hall, stop)
		}()
	}
	var logins sync.Map // *person -> phase
	var phase atomic.Value
	phase.Store("before")
	var readErrs atomic.Int64
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if r := admin.api(ctx, "GET", "/items/"+hall.item, nil, ""); r.status != 200 {
				readErrs.Add(1)
			}
			if r := admin.api(ctx, "GET", "/halls?item_code="+hall.item, nil, ""); r.status != 200 {
				readErrs.Add(1)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			p := &person{d: d, t: s.t, name: fmt.Sprintf("redis-login-%d", personSeq.Add(1)), ip: newAddress()}
			if p.login(ctx) == nil {
				logins.Store(p, phase.Load())
			}
		}
	}()
	time.Sleep(2 * time.Second)

	d.redis.kill()
	phase.Store("during")
	killed := time.Now()
	if err := waitUntil(ctx, 20*time.Second, "/readyz to see Redis down", func() (bool, error) {
		return d.redisCheck(ctx) == "down", nil
	}); err != nil {
		return err
	}
	d.progress("redis-server killed; /readyz says down after %.1fs", time.Since(killed).Seconds())
	held, text := d.loginProbe(ctx, s.t, loginLimit+4)
	s.guarantee("login limit with Redis down", held, "%s", text)
	time.Sleep(time.Until(killed.Add(outage)))

	if err := d.redis.restart(); err != nil {
		return err
	}
	phase.Store("after")
	back := time.Now()
	readyErr := waitUntil(ctx, 30*time.Second, "/readyz to see Redis ok", func() (bool, error) {
		return d.redisCheck(ctx) == "ok", nil
	})
	if readyErr == nil {
		s.recovered = time.Since(back)
	}
	s.guarantee("/readyz reports Redis ok within 10 s of its return", readyErr == nil && s.recovered <= 10*time.Second,
		"after %.1fs (Redis was down %.1fs)", time.Since(back).Seconds(), back.Sub(killed).Seconds())
	d.progress("redis-server back; /readyz says ok after %.1fs", s.recovered.Seconds())
	held, text = d.loginProbe(ctx, s.t, loginLimit+4)
	counted := d.countedInRedis(ctx, s.t)
	s.guarantee("login limit with Redis back, counted in Redis", held && counted, "%s; a login's answer says how many are left: %v", text, counted)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	keys, err := redis.NewClient(&redis.Options{Addr: d.redis.addr()}).DBSize(ctx).Result()
	if err != nil {
		return err
	}
	s.note("zwfw wrote %d keys to the restarted Redis; catalog and hall reads failed %d times", keys, readErrs.Load())
	s.guarantee("catalog and hall reads served throughout", readErrs.Load() == 0, "%d failed reads", readErrs.Load())

	if err := d.settle(ctx, 60*time.Second, true); err != nil {
		s.note("%v", err)
	}
	// Sessions made before, during and after the outage still work.
	perPhase, lostSessions := map[string]int{}, map[string]int{}
	logins.Range(func(k, v any) bool {
		p := k.(*person)
		perPhase[v.(string)]++
		ok := 0
		if r := p.api(ctx, "GET", "/me", nil, ""); r.status == 200 {
			ok = 1
		}
		lostSessions[p.name] = ok
		return true
	})
	exactlyOnce(s, "sessions that still work", lostSessions)
	s.note("logins before/during/after the outage: %d/%d/%d", perPhase["before"], perPhase["during"], perPhase["after"])
	log := auditLog(ctx, s)
	books.count(ctx, s, eventCount(log), people)
	auditReminders(ctx, s, books.reminders())
	return nil
}

// redisCheck is what /readyz says about Redis.
func (d *deployment) redisCheck(ctx context.Context) string {
	var v struct {
		Checks map[string]string `json:"checks"`
	}
	r := d.do(ctx, request{method: "GET", url: d.base + "/readyz"})
	if r.err != nil || r.json(&v) != nil {
		return ""
	}
	return v.Checks["redis"]
}

// loginProbe sends n logins at once from one new address and says
// whether the login limit held: at most the limit (plus what the bucket
// refilled while the probe ran) allowed, the rest refused RATE_LIMITED.
func (d *deployment) loginProbe(ctx context.Context, t *tally, n int) (held bool, text string) {
	ip := newAddress()
	var reqs []request
	for i := 0; i < n; i++ {
		p := &person{d: d, t: t, name: fmt.Sprintf("probe-%d", personSeq.Add(1)), ip: ip}
		reqs = append(reqs, p.req("POST", "/auth/wechat", map[string]string{"code": "test:" + p.name}, ""))
	}
	t0 := time.Now()
	answers := d.volley(ctx, t, reqs)
	took := time.Since(t0)
	allowed, refused := 0, 0
	for _, r := range answers {
		switch {
		case r.status == 200:
			allowed++
		case r.status == 429 && r.code() == "RATE_LIMITED":
			refused++
		}
	}
	refill := int(took.Seconds() * loginLimit / 60)
	held = allowed+refused == n && allowed >= loginLimit && allowed <= loginLimit+refill
	return held, fmt.Sprintf("%d logins from one address at once: %d allowed, %d refused RATE_LIMITED; the limit is %d a minute (+%d refilled in %.1fs)",
		n, allowed, refused, loginLimit, refill, took.Seconds())
}

// countedInRedis: a login's answer says how many are left, which zwfw
// tells only when the limit was counted in Redis.
func (d *deployment) countedInRedis(ctx context.Context, t *tally) bool {
	p := &person{d: d, t: t, name: fmt.Sprintf("probe-%d", personSeq.Add(1)), ip: newAddress()}
	r := p.api(ctx, "POST", "/auth/wechat", map[string]string{"code": "test:" + p.name}, "")
	return r.status == 200 && r.header.Get("X-RateLimit-Remaining") != ""
}
