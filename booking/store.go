package booking

import (
	"context"
	"errors"
	"time"

	"zwfw/platform/workdays"
)

// ErrNumberTaken is CreateBooking's answer when the booking's random Number
// is already used: draw another (it never reaches a user).
var ErrNumberTaken = errors.New("booking: number already used")

// Store persists booking state. Every method is one single-document write
// (guarded where it relies on the current state) or a read; the service
// composes them in a fixed order with compensation. Writes to a counter
// record when they happened (at), so the self-check can tell a step still in
// flight from a crash's leftover.
type Store interface {
	// HallConfig returns ErrHallNotFound when the hall has no configuration.
	HallConfig(ctx context.Context, hallID string) (*HallConfig, error)
	// PutHallConfig inserts cfg when prevVersion is 0, else replaces it if the
	// stored version is still prevVersion; apperr.Conflict when another change won.
	PutHallConfig(ctx context.Context, cfg *HallConfig, prevVersion int64) error
	// SetSlotCapacity sets the capacity of the hall's counters for itemCode
	// whose slot starts at or after from (after a configuration change).
	SetSlotCapacity(ctx context.Context, hallID, itemCode string, from time.Time, capacity int) error

	// SlotCounters returns the existing counters among ids (one read).
	SlotCounters(ctx context.Context, ids []string) ([]SlotCounter, error)
	// TakeSlot creates the counter if needed (capacity from c) and takes one
	// place; it returns false when the slot is full.
	TakeSlot(ctx context.Context, c SlotCounter, at time.Time) (bool, error)
	// TakeSlotFirstTry is TakeSlot that first tries one guarded write naming
	// c.Capacity (one store call when the counter is new, or exists with
	// that capacity and a place left). A new booking uses it; a reschedule does
	// not, as its refusal must tell a concurrent change of the same booking
	// from a full slot, which the read gives the winner time to write.
	TakeSlotFirstTry(ctx context.Context, c SlotCounter, at time.Time) (bool, error)
	// ReleaseSlot gives one place back (never below zero).
	ReleaseSlot(ctx context.Context, id string, at time.Time) error

	// TakeActive takes, in one write of the user's document, the user's
	// active-item key for itemCode (naming bookingID) and a place among the
	// user's max active bookings, and returns the user's recorded no-shows
	// as NoShows would, read by the same write. ErrDuplicateItem when the
	// user already holds the item, ErrTooMany when max are active.
	TakeActive(ctx context.Context, userID, itemCode, bookingID string, max int, at time.Time) ([]time.Time, error)
	// ReleaseActive gives back what TakeActive took, if the key still names bookingID.
	ReleaseActive(ctx context.Context, userID, itemCode, bookingID string, at time.Time) error
	// TakeActiveItem sets the key active:<user>:<item> naming bookingID
	// (without a place; a merge moving keys); ErrDuplicateItem when the
	// user already holds it.
	TakeActiveItem(ctx context.Context, userID, itemCode, bookingID string) error
	// ActiveItemHolder returns the booking id the key active:<user>:<item> names.
	ActiveItemHolder(ctx context.Context, userID, itemCode string) (string, bool, error)
	// ReleaseActiveItem deletes the key if it still names bookingID.
	ReleaseActiveItem(ctx context.Context, userID, itemCode, bookingID string) error
	// ReleaseActivePlace decrements the user's active count (never below zero).
	ReleaseActivePlace(ctx context.Context, userID string, at time.Time) error
	// RecordNoShow adds a no-show (the slot start of bookingID) to the user's record, once per booking.
	RecordNoShow(ctx context.Context, userID, bookingID string, at time.Time) error
	// NoShows returns the user's recorded no-shows (slot starts).
	NoShows(ctx context.Context, userID string) ([]time.Time, error)

	// CreateBooking inserts a new booking (with the events in its outbox);
	// ErrNumberTaken when its Number is another booking's.
	CreateBooking(ctx context.Context, b *Booking) error
	// Booking returns ErrNotFound when there is no such booking.
	Booking(ctx context.Context, id string) (*Booking, error)
	// BookingByCode finds a booking by check-in code (ErrNotFound).
	BookingByCode(ctx context.Context, code string) (*Booking, error)
	// SaveBooking replaces the booking (with the events in its outbox) if its
	// stored version is still prevVersion; apperr.Conflict when another
	// change won.
	SaveBooking(ctx context.Context, next *Booking, prevVersion int64) error
	// ListByUser lists a user's bookings newest first, with ids below before
	// ("" = from the newest) and an optional status.
	ListByUser(ctx context.Context, userID string, status Status, before string, limit int) ([]*Booking, error)
	// ListByCase lists the bookings made for a case, newest first.
	ListByCase(ctx context.Context, caseID string, limit int) ([]*Booking, error)
	// ListByHallDay lists a hall's bookings whose slot starts on day, in slot order.
	ListByHallDay(ctx context.Context, hallID string, day workdays.Date, limit int) ([]*Booking, error)
	// ConfirmedEndedBefore lists confirmed bookings whose slot ended before t.
	ConfirmedEndedBefore(ctx context.Context, t time.Time, limit int) ([]*Booking, error)

	// NextQueueNumber returns the next queue number of the hall on day (1, 2, ...).
	NextQueueNumber(ctx context.Context, hallID string, day workdays.Date) (int, error)

	AuditStore
}
