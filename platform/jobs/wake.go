package jobs

import (
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// A hub wakes idle runners of this process when a job for their database is
// enqueued or rescheduled, so work starts at once instead of at the next poll.
// Other replicas still find the work by polling.
type hub struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

type hubKey struct {
	client *mongo.Client
	db     string
}

// maxTimerWake bounds the delays we arm timers for; later work is found by polling.
const maxTimerWake = time.Minute

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

// notifyAfter wakes subscribers when work becomes due in d.
func (h *hub) notifyAfter(d time.Duration) {
	switch {
	case d <= 0:
		h.notify()
	case d <= maxTimerWake:
		time.AfterFunc(d, h.notify)
	}
}
