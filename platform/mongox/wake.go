package mongox

import (
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Hub wakes idle workers of this process when new work for their database
// appears (a job enqueued, an event appended), so in-process work starts at
// once instead of at the next poll. Other replicas still find it by polling:
// there are no change streams on the embedded store.
type Hub struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

type hubKey struct {
	client *mongo.Client
	db     string
	topic  string
}

// maxTimerWake bounds the delays NotifyAfter arms timers for; later work is found by polling.
const maxTimerWake = time.Minute

var hubs sync.Map // hubKey -> *Hub

// HubFor returns the process-wide hub of topic ("jobs", "events") for db.
func HubFor(db *mongo.Database, topic string) *Hub {
	v, _ := hubs.LoadOrStore(hubKey{db.Client(), db.Name(), topic}, &Hub{subs: map[chan struct{}]struct{}{}})
	return v.(*Hub)
}

// Subscribe returns a channel that receives a signal when work appears.
func (h *Hub) Subscribe() chan struct{} {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch
}

// Unsubscribe stops signals to ch.
func (h *Hub) Unsubscribe(ch chan struct{}) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

// Notify signals every subscriber (without blocking: one pending signal is enough).
func (h *Hub) Notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- struct{}{}:
		default: // already signalled
		}
	}
}

// NotifyAfter wakes subscribers when work becomes due in d.
func (h *Hub) NotifyAfter(d time.Duration) {
	switch {
	case d <= 0:
		h.Notify()
	case d <= maxTimerWake:
		time.AfterFunc(d, h.Notify)
	}
}
