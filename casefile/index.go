package casefile

import (
	"context"
	"strings"
	"time"

	"zwfw/booking"
	"zwfw/logistics"
	"zwfw/payments"
	"zwfw/platform/events"
)

// Index is where a case's file looks: the ids of the bookings and
// shipments that name the case (document "case:<case id>") and of the fee
// notices that name its case number (document "no:<case number>", as the
// notices know the case only by its number). The file reads the index and
// then each record by its id, never a list by case, so it costs the same
// with a thousand cases or a million in the store, on any database (the
// embedded FerretDB reads a whole collection for any filter but one on
// _id). The reminders about the case and its records are read the same
// way through notify's index of message ids by subject
// (notify.RemindersIndexed).
//
// The index only says where to look: the records are re-read and ones
// that no longer belong to the file (a booking made by someone other than
// the case's owner) are left out when seen. So a merge of two persons,
// which moves records to the survivor without changing their ids or
// cases, leaves the index right: it is per case, and who owns what is
// read from the records each time.
//
// The domains' events add ids as they happen (HandleEvent, the consumer
// "casefile.index"). A case created once the index was kept (after its
// Since mark) has every record in it from their events; an older case's
// index is rebuilt once from the domains' list queries, with its
// reminders' ids, and marked built.
type Index struct {
	Key       string   `bson:"_id"`
	Bookings  []string `bson:"bookings,omitempty"`
	Shipments []string `bson:"shipments,omitempty"`
	Payments  []string `bson:"payments,omitempty"`
	// BuiltAt is when the case's index was rebuilt from the domains'
	// lists (zero: only events added to it).
	BuiltAt time.Time `bson:"built_at,omitempty"`
}

// Part names one list of an index.
type Part string

// The lists of an index.
const (
	PartBookings  Part = "bookings"
	PartShipments Part = "shipments"
	PartPayments  Part = "payments"
)

// CaseKey is the _id of a case's index document (bookings, shipments).
func CaseKey(caseID string) string { return "case:" + caseID }

// NumberKey is the _id of a case number's index document (fee notices).
func NumberKey(caseNumber string) string { return "no:" + caseNumber }

// IndexStore keeps the indexes (implemented by *MongoIndexStore). Every
// method is one read or write by _id.
type IndexStore interface {
	// Index returns the index document with the key; nil (and no error) when there is none.
	Index(ctx context.Context, key string) (*Index, error)
	// Add adds ids (once each) to one list of an index document, creating it if needed.
	Add(ctx context.Context, key string, part Part, ids ...string) error
	// Rebuilt adds idx's ids to its document (ids added by events
	// meanwhile stay) and records when it was built.
	Rebuilt(ctx context.Context, idx *Index) error
	// Since returns when the index began to be kept: the first call
	// records now, every later one (on every replica) returns that.
	Since(ctx context.Context, now time.Time) (time.Time, error)
}

// ConsumerName is the index's consumer of the event log.
const ConsumerName = "casefile.index"

// IndexedEvents are the event types that add to indexes: the first event
// of every booking (and its moves, which carry its case too), fee notice
// and shipment.
func IndexedEvents() []string {
	return []string{booking.EventConfirmed, booking.EventRescheduled, payments.EventNoticeIssued, logistics.EventCreated}
}

// sinceMargin absorbs the clocks of replicas around the Since mark, and a
// rolling deployment in which replicas of the version before still make
// reminders without noting them (notify.AboutCollection): a case created
// within it is rebuilt once like an older one.
const sinceMargin = 10 * time.Minute

// HandleEvent adds the record the event is about to its case's index
// (the consumer ConsumerName of the event log). Adding twice is harmless
// (delivery is at-least-once). Events from before the index was kept are
// stepped over: their cases are rebuilt from the domains' lists when first
// read. Returns only errors worth a retry.
func (s *Service) HandleEvent(ctx context.Context, e events.Event) error {
	if s.d.Index == nil {
		return nil
	}
	since, err := s.since(ctx)
	if err != nil {
		return err
	}
	if e.At.Before(since.Add(-sinceMargin)) {
		return nil
	}
	_, id, _ := strings.Cut(e.Subject, ":")
	switch e.Type {
	case booking.EventConfirmed, booking.EventRescheduled:
		var d booking.Details
		if e.Decode(&d) != nil || d.CaseID == "" {
			return nil // a booking for no case (or a payload this consumer does not read)
		}
		return s.d.Index.Add(ctx, CaseKey(d.CaseID), PartBookings, id)
	case payments.EventNoticeIssued:
		var n payments.NoticeIssued
		if e.Decode(&n) != nil || n.CaseNumber == "" {
			return nil
		}
		return s.d.Index.Add(ctx, NumberKey(n.CaseNumber), PartPayments, n.PaymentCode)
	case logistics.EventCreated:
		var sc logistics.StateChanged
		if e.Decode(&sc) != nil || sc.CaseID == "" {
			return nil
		}
		return s.d.Index.Add(ctx, CaseKey(sc.CaseID), PartShipments, sc.ShipmentID)
	}
	return nil
}

// since is the index's Since mark, read once per process.
func (s *Service) since(ctx context.Context) (time.Time, error) {
	s.sinceMu.Lock()
	defer s.sinceMu.Unlock()
	if !s.sinceAt.IsZero() {
		return s.sinceAt, nil
	}
	at, err := s.d.Index.Since(ctx, s.d.Now().UTC())
	if err != nil {
		return time.Time{}, err
	}
	s.sinceAt = at
	return at, nil
}
