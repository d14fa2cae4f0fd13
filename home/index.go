package home

import (
	"context"
	"strings"
	"time"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/logistics"
	"zwfw/payments"
	"zwfw/platform/events"
)

// Index is the ids of what one person's home screen looks at: their cases,
// bookings, fee notices and parcels that may need them. The screen reads
// the index and then each record by its id, never a list by person, so it
// costs the same with a thousand people or ten million in the store, on any
// database (the embedded FerretDB reads a whole collection for any filter
// but one on _id).
//
// The index only says where to look: the records are re-read, so an id
// that no longer matters (a case finished and rated, a booking used, a fee
// paid) is harmless and dropped when seen. The domains' events add ids as
// they happen (HandleEvent); an index never built, or built long ago, is
// rebuilt from the domains' lists (as after a merge of two persons, which
// forgets both indexes).
type Index struct {
	UserID    string   `bson:"_id"`
	Cases     []string `bson:"cases"`
	Bookings  []string `bson:"bookings"`
	Payments  []string `bson:"payments"`
	Shipments []string `bson:"shipments"`
	// BuiltAt is when the index was last rebuilt from the domains' lists
	// (zero: only events have added to it so far).
	BuiltAt time.Time `bson:"built_at"`
}

// Part names one list of an index.
type Part string

// The lists of an index.
const (
	PartCases     Part = "cases"
	PartBookings  Part = "bookings"
	PartPayments  Part = "payments"
	PartShipments Part = "shipments"
)

// IndexStore keeps the indexes (implemented by *MongoIndexStore). Every
// method is one write or read by _id.
type IndexStore interface {
	// Index returns the user's index; nil (and no error) when there is none.
	Index(ctx context.Context, userID string) (*Index, error)
	// Add adds ids to one list of the user's index, creating it if needed.
	Add(ctx context.Context, userID string, part Part, ids ...string) error
	// Remove takes ids off one list of the user's index.
	Remove(ctx context.Context, userID string, part Part, ids ...string) error
	// Rebuilt adds idx's ids to the user's index (ids added by events
	// meanwhile stay) and records when it was built.
	Rebuilt(ctx context.Context, idx *Index) error
	// Forget deletes the user's index.
	Forget(ctx context.Context, userID string) error
}

// IndexedEvents are the event types that add to indexes.
func IndexedEvents() []string {
	return []string{cases.EventStatusChanged,
		booking.EventConfirmed, booking.EventRescheduled,
		payments.EventNoticeIssued,
		logistics.EventCreated, logistics.EventPickedUp, logistics.EventException}
}

// HandleEvent adds the event's subject to its person's index (the consumer
// "home.index" of the event log). Adding twice is harmless; an event for a
// record that no longer exists adds nothing. Returns only errors worth a
// retry.
func (s *Service) HandleEvent(ctx context.Context, e events.Event) error {
	kind, id, _ := strings.Cut(e.Subject, ":")
	var who struct {
		UserID  string   `bson:"user_id"`
		UserIDs []string `bson:"user_ids"`
	}
	switch kind {
	case "case":
		c, err := s.d.Cases.ByID(ctx, id)
		if err != nil {
			return ignoreNotFound(err)
		}
		return s.d.Index.Add(ctx, c.OwnerID, PartCases, id)
	case "booking", "shipment", "payment":
		if err := e.Decode(&who); err != nil {
			return nil // not one of the payloads this consumer reads
		}
		part := map[string]Part{"booking": PartBookings, "shipment": PartShipments, "payment": PartPayments}[kind]
		for _, u := range append(who.UserIDs, who.UserID) {
			if u == "" {
				continue
			}
			if err := s.d.Index.Add(ctx, u, part, id); err != nil {
				return err
			}
		}
	}
	return nil
}
