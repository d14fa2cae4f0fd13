package booking

import (
	"context"
	"sync"
	"time"
)

// HallCache keeps hall configurations in this process's memory: every
// slot listing and every booking reads one, and they change rarely (an
// admin's edit). A change made here drops the entry at once and calls
// OnChange, which tells the other replicas (bff publishes it on Redis and
// calls Forget on each replica that hears it); an entry also lives TTL at
// most, which bounds what a lost message costs. Booking stays safe with a
// stale configuration: a slot's place is taken on its counter, whose
// capacity the configuration change rewrote.
type HallCache struct {
	// OnChange, when set, is called after this process changed hallID's
	// configuration.
	OnChange func(ctx context.Context, hallID string)

	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]hallEntry
	gen     map[string]uint64 // bumped by every change, so a read that raced one is not kept
	epoch   uint64            // bumped by Forget(""), likewise
}

type hallEntry struct {
	cfg     *HallConfig
	gen     uint64
	expires time.Time
}

// NewHallCache keeps configurations for ttl at most (5 s when ttl <= 0).
func NewHallCache(ttl time.Duration) *HallCache {
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	return &HallCache{ttl: ttl, entries: map[string]hallEntry{}, gen: map[string]uint64{}}
}

// Forget drops hallID's configuration (another replica changed it), or
// every configuration when hallID is "" (changes may have been missed).
func (c *HallCache) Forget(hallID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hallID == "" {
		c.epoch++
		clear(c.entries)
		return
	}
	delete(c.entries, hallID)
	c.gen[hallID]++
}

// get returns hallID's configuration, loading it when not kept. The
// configuration returned is shared: callers only read it.
func (c *HallCache) get(ctx context.Context, hallID string, load func(context.Context, string) (*HallConfig, error)) (*HallConfig, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[hallID]
	gen := c.gen[hallID] + c.epoch<<32
	c.mu.Unlock()
	if ok && e.gen == gen && now.Before(e.expires) {
		return e.cfg, nil
	}
	cfg, err := load(ctx, hallID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen[hallID]+c.epoch<<32 == gen {
		c.entries[hallID] = hallEntry{cfg: cfg, gen: gen, expires: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	return cfg, nil
}

// changed is called after this process changed hallID's configuration.
func (c *HallCache) changed(ctx context.Context, hallID string) {
	c.Forget(hallID)
	if c.OnChange != nil {
		c.OnChange(ctx, hallID)
	}
}
