package mongox

import (
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// OutboxField is the document field that holds a document's pending domain
// events (see platform/events: Outbox and Relay). A state change and its
// events are one single-document write; the relay moves the events to the
// log and clears them.
const OutboxField = "outbox"

// EventCarrier is implemented by documents that embed an outbox; the
// collection wakes the relay after writing one with pending events.
type EventCarrier interface {
	HasPendingEvents() bool
}

// Dirty names one document whose outbox may hold events (ID nil: look at
// the whole collection).
type Dirty struct {
	Collection string
	ID         any
}

// OutboxQueue collects the documents written with pending events in this
// process, for the relay to flush at once.
type OutboxQueue struct {
	mu    sync.Mutex
	dirty []Dirty
	hub   *Hub
}

type outboxKey struct {
	client *mongo.Client
	db     string
}

var outboxes sync.Map // outboxKey -> *OutboxQueue

// OutboxFor returns the process-wide outbox queue of db.
func OutboxFor(db *mongo.Database) *OutboxQueue {
	v, _ := outboxes.LoadOrStore(outboxKey{db.Client(), db.Name()}, &OutboxQueue{hub: &Hub{subs: map[chan struct{}]struct{}{}}})
	return v.(*OutboxQueue)
}

// Subscribe returns a channel signalled when documents are queued.
func (q *OutboxQueue) Subscribe() chan struct{} { return q.hub.Subscribe() }

// Unsubscribe stops signals to ch.
func (q *OutboxQueue) Unsubscribe(ch chan struct{}) { q.hub.Unsubscribe(ch) }

// Take returns and forgets the queued documents.
func (q *OutboxQueue) Take() []Dirty {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.dirty
	q.dirty = nil
	return out
}

func (q *OutboxQueue) add(d Dirty) {
	q.mu.Lock()
	q.dirty = append(q.dirty, d)
	q.mu.Unlock()
	q.hub.Notify()
}

func (c *Collection) kick(id any) {
	OutboxFor(c.raw.Database()).add(Dirty{Collection: c.raw.Name(), ID: id})
}

// carriesEvents reports whether a document about to be stored has pending events.
func carriesEvents(doc any) bool {
	switch d := doc.(type) {
	case EventCarrier:
		return d.HasPendingEvents()
	case bson.D:
		for _, e := range d {
			if e.Key == OutboxField {
				if a, ok := e.Value.(bson.A); ok {
					return len(a) > 0
				}
				return e.Value != nil
			}
		}
	case bson.M:
		v, ok := d[OutboxField]
		return ok && v != nil
	}
	return false
}

// updatePushesEvents reports whether an update adds to the outbox
// ({$push: {outbox: ...}}), as events.Push builds it.
func updatePushesEvents(update any) bool {
	d, ok := update.(bson.D)
	if !ok {
		return false
	}
	for _, op := range d {
		if op.Key != "$push" {
			continue
		}
		switch fields := op.Value.(type) {
		case bson.D:
			for _, f := range fields {
				if f.Key == OutboxField {
					return true
				}
			}
		case bson.M:
			if _, ok := fields[OutboxField]; ok {
				return true
			}
		}
	}
	return false
}

// idOf finds the _id a write addressed: the upserted id, or the filter's _id
// when it is a plain value.
func idOf(filter any, upserted any) any {
	if upserted != nil {
		return upserted
	}
	switch f := filter.(type) {
	case bson.D:
		for _, e := range f {
			if e.Key == "_id" {
				if _, isOp := e.Value.(bson.D); !isOp {
					return e.Value
				}
			}
		}
	case bson.M:
		if v, ok := f["_id"]; ok {
			if _, isOp := v.(bson.D); !isOp {
				return v
			}
		}
	}
	return nil
}
