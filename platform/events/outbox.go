package events

import (
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Pending is an event waiting in the outbox of the document whose state change
// caused it. It is written in the same single-document write as that change,
// so the two cannot be separated by a crash; the Relay appends it to the log
// and removes it from the document.
type Pending struct {
	// ID is deterministic (e.g. "booking:<id>:v3:booking.cancelled"): relaying
	// the same pending event twice appends it once.
	ID      string    `bson:"id"`
	Type    string    `bson:"type"`
	Subject string    `bson:"subject"`
	Actor   string    `bson:"actor,omitempty"`
	Data    bson.Raw  `bson:"data,omitempty"`
	At      time.Time `bson:"at"` // when the state changed
}

// NewPending builds a pending event whose Data is payload marshalled to BSON
// (a domain's exported payload struct).
func NewPending(id, eventType, subject, actor string, payload any, at time.Time) (Pending, error) {
	if id == "" || eventType == "" || subject == "" {
		return Pending{}, fmt.Errorf("events: pending event needs an id, a type and a subject")
	}
	p := Pending{ID: id, Type: eventType, Subject: subject, Actor: actor, At: utcMillis(at)}
	if payload != nil {
		b, err := bson.Marshal(payload)
		if err != nil {
			return Pending{}, fmt.Errorf("events: marshal %s payload: %w", eventType, err)
		}
		p.Data = b
	}
	return p, nil
}

// MustPending is NewPending for payloads that always marshal (the domains'
// own structs); it panics on a programming error.
func MustPending(id, eventType, subject, actor string, payload any, at time.Time) Pending {
	p, err := NewPending(id, eventType, subject, actor, payload, at)
	if err != nil {
		panic(err)
	}
	return p
}

// Event is the log entry this pending event becomes.
func (p Pending) Event() Event {
	return Event{ID: p.ID, Type: p.Type, Subject: p.Subject, Actor: p.Actor, Data: p.Data}
}

// Outbox is embedded inline in every aggregate document that emits events:
//
//	type Booking struct {
//		...
//		events.Outbox `bson:",inline"`
//	}
//
// A state change appends to it (Emit) before the versioned replace that
// stores the new state; writes by update use Push instead.
type Outbox struct {
	Pending []Pending `bson:"outbox,omitempty" json:"-"`
}

// HasPendingEvents tells the store's collection to wake the relay after the write.
func (o Outbox) HasPendingEvents() bool { return len(o.Pending) > 0 }

// Emit adds events to the outbox; they are stored by the document's next write.
func (o *Outbox) Emit(events ...Pending) { o.Pending = append(o.Pending, events...) }

// Push is the update operator that adds events to a document's outbox in the
// same write as a $set of its state: append it to the update document.
func Push(events ...Pending) bson.E {
	arr := make(bson.A, len(events))
	for i, e := range events {
		arr[i] = e
	}
	return bson.E{Key: "$push", Value: bson.D{{Key: "outbox", Value: bson.D{{Key: "$each", Value: arr}}}}}
}
