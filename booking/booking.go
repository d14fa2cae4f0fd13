// Package booking owns appointments at service halls (预约办理): hall
// booking configurations (windows, sessions, closures), the slot calendar
// computed from them and the official working-day calendar, bookings with
// their state machine, check-in with queue numbers, and the no-show rule.
//
// There are no multi-document transactions. A booking takes, in a fixed
// order, single-document guarded writes on deterministic ids — the user's
// active-item key, the user's active counter, the slot counter — and then
// inserts the booking, which is the commit point. A step that fails undoes
// the earlier steps in reverse order, so no state is left half-changed. The
// booking's events ride in the booking document's own write (its outbox).
// A crash between steps can leave a counter off; the self-check
// (Service.Invariants) recomputes the counters from the bookings and repairs
// them. Retried requests are made harmless before they reach the service (the
// HTTP layer's Idempotency-Key). MongoDB decides capacity; a Redis cache of
// availability (AvailabilityCache) is optional and disposable.
package booking

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"time"

	"zwfw/platform/events"
)

// Status is where a booking stands.
type Status string

// The statuses of a booking. Only confirmed is active: it holds a place in
// its slot, the user's active-item key and one of the user's active places.
const (
	StatusConfirmed Status = "confirmed"
	StatusCancelled Status = "cancelled"
	StatusCheckedIn Status = "checked_in"
	StatusNoShow    Status = "no_show"
)

// transitions lists, for each status, the statuses it may move to.
// Rescheduling keeps a booking confirmed.
var transitions = map[Status][]Status{
	StatusConfirmed: {StatusConfirmed, StatusCancelled, StatusCheckedIn, StatusNoShow},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusConfirmed, StatusCancelled, StatusCheckedIn, StatusNoShow:
		return true
	}
	return false
}

// Final reports whether nothing can happen to a booking in status s any more.
func (s Status) Final() bool { return s.Valid() && s != StatusConfirmed }

// CanMoveTo reports whether the state machine allows s -> next.
func (s Status) CanMoveTo(next Status) bool { return slices.Contains(transitions[s], next) }

// Label is the status as the app shows it.
func (s Status) Label() string {
	switch s {
	case StatusConfirmed:
		return "已预约"
	case StatusCancelled:
		return "已取消"
	case StatusCheckedIn:
		return "已取号"
	case StatusNoShow:
		return "已爽约"
	}
	return string(s)
}

// Entry is one change in a booking's timeline.
type Entry struct {
	At        time.Time `bson:"at" json:"at"`
	Status    Status    `bson:"status" json:"status"`
	Actor     string    `bson:"actor" json:"actor"` // "user", "staff", "system"
	Note      string    `bson:"note,omitempty" json:"note,omitempty"`
	SlotStart time.Time `bson:"slot_start" json:"slot_start"`
}

// Booking is one reserved place in a slot at a hall for an item.
type Booking struct {
	ID        string    `bson:"_id" json:"id"`
	Number    string    `bson:"number" json:"number"` // human readable, e.g. YY20261012123456
	UserID    string    `bson:"user_id" json:"-"`
	HallID    string    `bson:"hall_id" json:"hall_id"`
	ItemCode  string    `bson:"item_code" json:"item_code"`
	CaseID    string    `bson:"case_id,omitempty" json:"case_id,omitempty"`
	SlotStart time.Time `bson:"slot_start" json:"slot_start"`
	SlotEnd   time.Time `bson:"slot_end" json:"slot_end"`
	Status    Status    `bson:"status" json:"status"`
	// CheckInCode is the unguessable secret in the QR code the user shows
	// at the hall; only the owner sees it.
	CheckInCode string     `bson:"check_in_code" json:"check_in_code"`
	QueueNumber int        `bson:"queue_number,omitempty" json:"queue_number,omitempty"`
	CheckedInAt *time.Time `bson:"checked_in_at,omitempty" json:"checked_in_at,omitempty"`
	Timeline    []Entry    `bson:"timeline" json:"timeline"`
	Version     int64      `bson:"version" json:"version"`
	CreatedAt   time.Time  `bson:"created_at" json:"created_at"`
	UpdatedAt   time.Time  `bson:"updated_at" json:"updated_at"`
	// Outbox holds the events of the last changes until the relay has
	// appended them to the event log.
	events.Outbox `bson:",inline"`
}

// Active reports whether the booking still holds its place.
func (b *Booking) Active() bool { return b.Status == StatusConfirmed }

// Day is the booking's date in Asia/Shanghai.
func (b *Booking) Day() string { return b.SlotStart.In(loc()).Format(time.DateOnly) }

// move applies a transition and records it in the timeline.
func (b *Booking) move(next Status, at time.Time, actor, note string) error {
	if !b.Status.CanMoveTo(next) {
		return ErrStateConflict.WithDetail("status", string(b.Status))
	}
	b.Status = next
	b.Timeline = append(b.Timeline, Entry{At: at, Status: next, Actor: actor, Note: note, SlotStart: b.SlotStart})
	return nil
}

// cancel moves a confirmed booking to cancelled.
func (b *Booking) cancel(at time.Time, actor string) error {
	return b.move(StatusCancelled, at, actor, "取消预约")
}

// reschedule moves a confirmed booking to another slot.
func (b *Booking) reschedule(start, end, at time.Time) error {
	if b.Status != StatusConfirmed {
		return ErrStateConflict.WithDetail("status", string(b.Status))
	}
	old := b.SlotStart
	b.SlotStart, b.SlotEnd = start, end
	return b.move(StatusConfirmed, at, "user", "改约，原时段 "+old.In(loc()).Format("2006-01-02 15:04"))
}

// checkIn moves a confirmed booking to checked_in with its queue number.
func (b *Booking) checkIn(queue int, at time.Time) error {
	if err := b.move(StatusCheckedIn, at, "staff", fmt.Sprintf("取号 %d", queue)); err != nil {
		return err
	}
	b.QueueNumber = queue
	t := at
	b.CheckedInAt = &t
	return nil
}

// noShow moves a confirmed booking to no_show.
func (b *Booking) noShow(at time.Time) error {
	return b.move(StatusNoShow, at, "system", "超时未取号，记爽约一次")
}

// newBookingID is time-ordered, so listing newest-first is a sort on _id.
func newBookingID(at time.Time) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("b_%012x%s", at.UnixMilli(), hex.EncodeToString(b))
}

var bookingIDPattern = regexp.MustCompile(`^b_[0-9a-f]{24}$`)

// newNumber is the human-readable booking number: "YY", the creation date
// and six random digits. It is unique by index; a clash is retried.
func newNumber(at time.Time) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	return fmt.Sprintf("YY%s%06d", at.In(loc()).Format("20060102"), n.Int64())
}

var codeEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newCheckInCode is 160 random bits, base32: unguessable, QR-friendly.
func newCheckInCode() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return codeEncoding.EncodeToString(b)
}

var checkInCodePattern = regexp.MustCompile(`^[A-Z2-7]{32}$`)

// Rules are the booking rules; zero fields take the defaults.
type Rules struct {
	DaysAhead    int           // a slot opens at 00:00 this many days before its date (7)
	CloseBefore  time.Duration // booking, cancelling and rescheduling close this long before the slot starts (1h)
	MaxActive    int           // confirmed bookings a person may hold at once (3)
	NoShowLimit  int           // no-shows within NoShowWindow that trigger a ban (3)
	NoShowWindow time.Duration // (90 days)
	BanFor       time.Duration // the ban lasts until the last no-show + BanFor (30 days)
	NoShowGrace  time.Duration // a booking not checked in by slot end + grace is a no-show (15m)
}

// DefaultRules are the rules when none are configured.
var DefaultRules = Rules{
	DaysAhead: 7, CloseBefore: time.Hour, MaxActive: 3,
	NoShowLimit: 3, NoShowWindow: 90 * 24 * time.Hour, BanFor: 30 * 24 * time.Hour,
	NoShowGrace: 15 * time.Minute,
}

func (r Rules) withDefaults() Rules {
	d := DefaultRules
	if r.DaysAhead > 0 {
		d.DaysAhead = r.DaysAhead
	}
	if r.CloseBefore > 0 {
		d.CloseBefore = r.CloseBefore
	}
	if r.MaxActive > 0 {
		d.MaxActive = r.MaxActive
	}
	if r.NoShowLimit > 0 {
		d.NoShowLimit = r.NoShowLimit
	}
	if r.NoShowWindow > 0 {
		d.NoShowWindow = r.NoShowWindow
	}
	if r.BanFor > 0 {
		d.BanFor = r.BanFor
	}
	if r.NoShowGrace > 0 {
		d.NoShowGrace = r.NoShowGrace
	}
	return d
}

// BanUntil applies the no-show rule to a person's no-shows (their slot
// start times): whenever NoShowLimit of them fall within NoShowWindow, the
// person is banned until the last of those + BanFor. It returns the end of
// the latest ban, zero if none. The ban does not end early when an old
// no-show leaves the window.
func (r Rules) BanUntil(noShows []time.Time) time.Time {
	r = r.withDefaults()
	ts := slices.Clone(noShows)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	var until time.Time
	for i := range ts {
		// ts[i] is the last of a run; count the no-shows within the window before it.
		n := 0
		for j := i; j >= 0 && ts[i].Sub(ts[j]) < r.NoShowWindow; j-- {
			n++
		}
		if n >= r.NoShowLimit {
			if u := ts[i].Add(r.BanFor); u.After(until) {
				until = u
			}
		}
	}
	return until
}
