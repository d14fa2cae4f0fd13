package events

import (
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// A hub wakes idle consumers of this process when an event is appended to
// their database, so in-process delivery does not wait for the next poll.
// Consumers in other replicas find new events by polling.
type hub struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

type hubKey struct {
	client *mongo.Client
	db     string
}

var hubs sync.Map // hubKey -> *hub

func hubFor(db *mongo.Database) *hub {
	v, _ := hubs.LoadOrStore(hubKey{db.Client(), db.Name()}, &hub{subs: map[chan struct{}]struct{}{}})
	return v.(*hub)
}

func (h *hub) subscribe() chan struct{} {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch
}

func (h *hub) unsubscribe(ch chan struct{}) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

func (h *hub) notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- struct{}{}:
		default: // already signalled
		}
	}
}
