package console

import (
	"context"
	"sync"
	"time"
)

// nameCache keeps item names a while: a hall's screen names the same few
// items on every refresh, and names change rarely.
type nameCache struct {
	src Catalog
	ttl time.Duration // on the wall clock

	mu sync.Mutex
	m  map[string]cachedName
}

type cachedName struct {
	name string
	at   time.Time
}

func newNameCache(src Catalog, ttl time.Duration) *nameCache {
	return &nameCache{src: src, ttl: ttl, m: map[string]cachedName{}}
}

// name returns the item's name, or its code when the catalog cannot say
// (the screen still works while the province is away).
func (n *nameCache) name(ctx context.Context, code string) string {
	now := time.Now()
	n.mu.Lock()
	c, ok := n.m[code]
	n.mu.Unlock()
	if ok && now.Sub(c.at) < n.ttl {
		return c.name
	}
	name, err := n.src.ItemName(ctx, code)
	if err != nil || name == "" {
		if ok {
			return c.name
		}
		return code
	}
	n.mu.Lock()
	n.m[code] = cachedName{name: name, at: now}
	n.mu.Unlock()
	return name
}
