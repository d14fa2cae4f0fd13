package booking

import (
	"fmt"
	"time"

	"zwfw/platform/events"
)

// Event types of the booking package. Every event's subject is
// "booking:<id>" and its actor the booking's user; each rides in the
// booking document's write that makes the change (its outbox), so a crash
// cannot separate the two.
const (
	EventConfirmed   = "booking.confirmed"   // payload Confirmed
	EventCancelled   = "booking.cancelled"   // payload Cancelled
	EventRescheduled = "booking.rescheduled" // payload Rescheduled
	EventCheckedIn   = "booking.checked_in"  // payload CheckedIn
	EventNoShow      = "booking.no_show"     // payload NoShow
)

// Details is what every booking event carries: the booking as it stands
// after the change. The bson names are the event log's contract with its
// consumers (notify's reminders read user_id, hall_id, item_code,
// slot_start, number).
type Details struct {
	UserID    string    `bson:"user_id"`
	HallID    string    `bson:"hall_id"`
	ItemCode  string    `bson:"item_code"`
	CaseID    string    `bson:"case_id,omitempty"`
	SlotStart time.Time `bson:"slot_start"`
	SlotEnd   time.Time `bson:"slot_end"`
	Number    string    `bson:"number"`
	Status    Status    `bson:"status"`
}

// Confirmed is the payload of booking.confirmed: a place was booked.
type Confirmed struct {
	Details `bson:",inline"`
}

// Cancelled is the payload of booking.cancelled: the user gave the place back.
type Cancelled struct {
	Details `bson:",inline"`
}

// Rescheduled is the payload of booking.rescheduled: the booking moved to
// SlotStart from OldSlotStart.
type Rescheduled struct {
	Details      `bson:",inline"`
	OldSlotStart time.Time `bson:"old_slot_start"`
}

// CheckedIn is the payload of booking.checked_in: the citizen came and got
// QueueNumber.
type CheckedIn struct {
	Details     `bson:",inline"`
	QueueNumber int `bson:"queue_number"`
}

// NoShow is the payload of booking.no_show: the slot ended without a check-in.
type NoShow struct {
	Details `bson:",inline"`
}

// details is the common part of the booking's events.
func (b *Booking) details() Details {
	return Details{UserID: b.UserID, HallID: b.HallID, ItemCode: b.ItemCode, CaseID: b.CaseID,
		SlotStart: b.SlotStart, SlotEnd: b.SlotEnd, Number: b.Number, Status: b.Status}
}

// emit puts an event about the change that brings b to its current Version
// into b's outbox; the next write of b stores it. Its id names the booking,
// the version and the type, so it is unique per state change and relaying
// it twice appends it once.
func (b *Booking) emit(eventType string, payload any, at time.Time) {
	id := fmt.Sprintf("booking:%s:v%d:%s", b.ID, b.Version, eventType)
	b.Emit(events.MustPending(id, eventType, "booking:"+b.ID, b.UserID, payload, at))
}
