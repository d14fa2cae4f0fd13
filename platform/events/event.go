package events

import (
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Event is one fact in the log, as stored in the "events" collection.
type Event struct {
	// Seq is the position in the log and the document _id; Append assigns it.
	Seq int64 `bson:"_id"`
	// ID is the event's deterministic id when it came through an outbox
	// (Pending.ID): at most one event in the log has it.
	ID string `bson:"event_id,omitempty"`
	// Type is what happened, "<domain>.<fact>", e.g. "booking.confirmed".
	Type string `bson:"type"`
	// Subject is what it happened to, "<kind>:<id>", e.g. "case:123".
	Subject string `bson:"subject"`
	// Actor is who made it happen (a user id, "system", "province"...).
	Actor string `bson:"actor,omitempty"`
	// Data is the event's details as a BSON document; see NewEvent and Decode.
	Data bson.Raw `bson:"data,omitempty"`
	// At is when the event was appended (UTC, set by Append after it took
	// Seq). Put domain times (slot start, paid at) in Data.
	At time.Time `bson:"at"`
}

// NewEvent builds an event whose Data is data marshalled to BSON (a struct,
// map or bson.D; nil for none). Domains call it and pass the result to Append.
func NewEvent(eventType, subject, actor string, data any) (Event, error) {
	e := Event{Type: eventType, Subject: subject, Actor: actor}
	switch v := data.(type) {
	case nil:
	case bson.Raw:
		e.Data = v
	default:
		b, err := bson.Marshal(v)
		if err != nil {
			return Event{}, fmt.Errorf("events: marshal %s data: %w", eventType, err)
		}
		e.Data = b
	}
	return e, nil
}

// Decode unmarshals the event's Data into v (a pointer to a struct or map).
func (e Event) Decode(v any) error {
	if len(e.Data) == 0 {
		return errors.New("events: event has no data")
	}
	if err := bson.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("events: decode data of event %d: %w", e.Seq, err)
	}
	return nil
}

// utcMillis is how every time is stored: UTC, truncated to what BSON dates keep.
func utcMillis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
