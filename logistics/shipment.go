package logistics

import (
	"slices"
	"time"

	"zwfw/platform/events"
)

// Direction says which way a shipment goes.
type Direction string

// Directions of a shipment.
const (
	ToHall      Direction = "to_hall"      // the applicant's materials, picked up at their address
	ToApplicant Direction = "to_applicant" // the case's result, sent from the hall
)

// State is a shipment's normalized state, the same for every carrier.
type State string

// Shipment states. The main line created < picked_up < in_transit <
// out_for_delivery < delivered only moves forward; exception is a side
// state left by the next main-line event; delivered, returned and
// cancelled are final.
const (
	StateCreated        State = "created"          // booked (or being booked), not collected yet
	StatePickedUp       State = "picked_up"        // collected by the courier (揽收)
	StateInTransit      State = "in_transit"       // between hubs (在途)
	StateOutForDelivery State = "out_for_delivery" // with the delivering courier or at a locker (派件)
	StateDelivered      State = "delivered"        // signed for (签收)
	StateException      State = "exception"        // needs attention (疑难), or the pickup could not be booked
	StateReturned       State = "returned"         // refused or sent back to the sender (拒签, 退回)
	StateCancelled      State = "cancelled"        // the pickup was cancelled before collection
)

// rank is a main-line state's position, -1 for side and final-only states.
func (s State) rank() int {
	switch s {
	case StateCreated:
		return 0
	case StatePickedUp:
		return 1
	case StateInTransit:
		return 2
	case StateOutForDelivery:
		return 3
	case StateDelivered:
		return 4
	}
	return -1
}

// Final reports whether nothing more can happen to the shipment.
func (s State) Final() bool {
	return s == StateDelivered || s == StateReturned || s == StateCancelled
}

// Label is the state in Chinese, for timelines and the hotline view.
func (s State) Label() string {
	switch s {
	case StateCreated:
		return "待揽收"
	case StatePickedUp:
		return "已揽收"
	case StateInTransit:
		return "运输中"
	case StateOutForDelivery:
		return "派送中"
	case StateDelivered:
		return "已签收"
	case StateException:
		return "异常"
	case StateReturned:
		return "已退回"
	case StateCancelled:
		return "已取消"
	}
	return "未知"
}

// Source says where a timeline entry came from.
type Source string

// Timeline sources.
const (
	SourcePush   Source = "push"   // a signed push of the courier aggregator
	SourcePoll   Source = "poll"   // zwfw asked the aggregator
	SourceSystem Source = "system" // zwfw itself (created, booked, cancelled)
)

// TrackEvent is one entry of a shipment's timeline.
type TrackEvent struct {
	At time.Time `bson:"at" json:"at"`
	// State is the entry's normalized state; "" for a courier entry that
	// could not be classified (kept for its text, changes nothing).
	State State `bson:"state,omitempty" json:"state,omitempty"`
	// Context is the courier's own text, unchanged (or zwfw's note).
	Context string `bson:"context" json:"context"`
	// Status is the courier's status name (在途, 签收 ...), as received.
	Status string `bson:"status,omitempty" json:"status,omitempty"`
	Area   string `bson:"area,omitempty" json:"area,omitempty"`
	Source Source `bson:"source" json:"source"`
}

// Window is when the courier may come for a pickup.
type Window struct {
	Start time.Time `bson:"start" json:"start"`
	End   time.Time `bson:"end" json:"end"`
}

// PaidBy says who pays the postage, a per-item setting of the guide.
type PaidBy string

// Who pays postage.
const (
	PaidByGovernment PaidBy = "government" // 政府买单: free for the applicant
	PaidByRecipient  PaidBy = "recipient"  // 到付: the receiver pays
)

// Postage is who pays for a shipment and, when the applicant does, the
// payment code of the notice issued for it.
type Postage struct {
	PaidBy      PaidBy `bson:"paid_by" json:"paid_by"`
	PaymentCode string `bson:"payment_code,omitempty" json:"payment_code,omitempty"`
}

// SealedAddress is an address at rest: name, phone and street line
// SM4-encrypted, and the masked copy every view shows.
type SealedAddress struct {
	Masked    Address `bson:"masked" json:"masked"`
	NameEnc   string  `bson:"name_enc" json:"-"`
	PhoneEnc  string  `bson:"phone_enc" json:"-"`
	DetailEnc string  `bson:"detail_enc" json:"-"`
}

// Shipment is one parcel of a case: materials to the hall or the result to
// the applicant.
type Shipment struct {
	ID         string    `bson:"_id" json:"id"`
	CaseID     string    `bson:"case_id" json:"case_id"`
	CaseNumber string    `bson:"case_number,omitempty" json:"case_number,omitempty"`
	UserID     string    `bson:"user_id" json:"-"`
	ItemCode   string    `bson:"item_code,omitempty" json:"item_code,omitempty"`
	ItemName   string    `bson:"item_name,omitempty" json:"item_name,omitempty"`
	Direction  Direction `bson:"direction" json:"direction"`
	// Carrier is the aggregator's company code (ems, shunfeng ...); set
	// with WaybillNumber and CourierOrderID when the pickup is booked.
	Carrier        string        `bson:"carrier,omitempty" json:"carrier,omitempty"`
	WaybillNumber  string        `bson:"waybill_number,omitempty" json:"waybill_number,omitempty"`
	CourierOrderID string        `bson:"courier_order_id,omitempty" json:"-"`
	Sender         SealedAddress `bson:"sender" json:"sender"`
	Receiver       SealedAddress `bson:"receiver" json:"receiver"`
	PickupWindow   *Window       `bson:"pickup_window,omitempty" json:"pickup_window,omitempty"`
	State          State         `bson:"state" json:"state"`
	Timeline       []TrackEvent  `bson:"timeline" json:"timeline"`
	// LastEventAt is the time of the newest courier event applied: an
	// event not newer than it changes nothing.
	LastEventAt time.Time `bson:"last_event_at" json:"last_event_at,omitzero"`
	// LastCheckedAt is when zwfw last heard about the waybill (push or
	// poll); the poller picks shipments where it is old.
	LastCheckedAt time.Time `bson:"last_checked_at" json:"-"`
	Postage       Postage   `bson:"postage" json:"postage"`
	// Salt signs the waybill's pushes (random per shipment, never shown).
	Salt      string    `bson:"salt" json:"-"`
	Version   int64     `bson:"version" json:"-"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`
	// Outbox holds the events of the last changes until the relay has
	// appended them to the log: they are stored by the same write as the
	// change (see events.go).
	events.Outbox `bson:",inline"`
}

// Transition is one state change made by applying tracking events.
type Transition struct {
	From, To State
	Event    TrackEvent // the entry that caused it
	// Collected marks the first move past created on the main line: the
	// courier has the parcel (whatever the first entry was called).
	Collected bool
}

// clone copies the shipment deeply enough to change it without touching
// the original (the timeline is the only shared slice that changes).
func (s *Shipment) clone() *Shipment {
	c := *s
	c.Timeline = slices.Clone(s.Timeline)
	c.Pending = slices.Clone(s.Pending)
	if s.PickupWindow != nil {
		w := *s.PickupWindow
		c.PickupWindow = &w
	}
	return &c
}

// ApplyTracking merges courier events (any order, any overlap with what
// is known) into the timeline and moves the state. An event is applied
// only if it is not older than the newest one applied and not already in
// the timeline (same time and text), so duplicated and out-of-order
// deliveries change nothing. In a final state only entries of that same
// state are still recorded (e.g. 退回 after 拒签); after cancellation
// nothing is. It reports whether anything changed and the transitions made,
// in order.
func (s *Shipment) ApplyTracking(events []TrackEvent) (changed bool, transitions []Transition) {
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b TrackEvent) int { return a.At.Compare(b.At) })
	for _, e := range sorted {
		switch {
		case s.State == StateCancelled:
			return changed, transitions
		case !s.LastEventAt.IsZero() && e.At.Before(s.LastEventAt):
			continue // older than what is known: never overwrites it
		case s.hasEntry(e.At, e.Context):
			continue // a duplicate
		case s.State.Final() && e.State != s.State:
			continue // nothing follows the end of a journey
		}
		collected := e.State.rank() > 0 && s.progress() == StateCreated
		s.insert(e)
		s.LastEventAt = e.At
		changed = true
		if next := s.next(e.State); next != s.State {
			transitions = append(transitions, Transition{From: s.State, To: next, Event: e, Collected: collected})
			s.State = next
		}
	}
	return changed, transitions
}

// next is the state after an event of state ev.
func (s *Shipment) next(ev State) State {
	switch {
	case s.State.Final():
		return s.State
	case ev == StateException, ev == StateReturned:
		return ev
	case ev.rank() <= 0:
		return s.State // unclassified, or 已下单/待揽收 entries
	}
	base := s.State
	if base == StateException {
		base = s.progress()
	}
	if ev.rank() > base.rank() {
		return ev
	}
	return base
}

// progress is the furthest main-line state the timeline has reached.
func (s *Shipment) progress() State {
	best := StateCreated
	for _, e := range s.Timeline {
		if e.Source != SourceSystem && e.State.rank() > best.rank() {
			best = e.State
		}
	}
	return best
}

// hasEntry reports whether the timeline holds an entry at exactly at with
// that text.
func (s *Shipment) hasEntry(at time.Time, context string) bool {
	for i := len(s.Timeline) - 1; i >= 0; i-- {
		e := s.Timeline[i]
		if e.At.Equal(at) && e.Context == context {
			return true
		}
		if e.At.Before(at) {
			return false
		}
	}
	return false
}

// insert adds e after every entry not later than it, keeping the timeline
// in time order (system entries and courier entries interleave).
func (s *Shipment) insert(e TrackEvent) {
	i := len(s.Timeline)
	for i > 0 && s.Timeline[i-1].At.After(e.At) {
		i--
	}
	s.Timeline = slices.Insert(s.Timeline, i, e)
}

// note adds a system entry at at without changing the state, and returns it.
func (s *Shipment) note(at time.Time, state State, text string) TrackEvent {
	e := TrackEvent{At: at, State: state, Context: text, Source: SourceSystem}
	s.insert(e)
	return e
}

// Cancellable reports whether the applicant may still cancel: before the
// courier collected the parcel (or when the pickup could not be booked).
func (s *Shipment) Cancellable() bool {
	return s.State == StateCreated || s.bookingFailed()
}

// holdsPickup reports whether a pickup of materials is still under way, so
// that its case may not book another one: it has not ended, and its
// booking did not fail.
func (s *Shipment) holdsPickup() bool {
	return s.Direction == ToHall && !s.State.Final() && !s.bookingFailed()
}

// bookingFailed reports whether the courier refused to book the pickup:
// in exception without an order, before anything was collected.
func (s *Shipment) bookingFailed() bool {
	return s.State == StateException && s.CourierOrderID == "" && s.progress() == StateCreated
}

// ApplicantPays reports whether the applicant pays the postage: the
// receiver pays (到付) and the receiver is the applicant. Materials sent
// to the hall under 到付 are paid by the hall, i.e. by the government.
func (s *Shipment) ApplicantPays() bool {
	return s.Postage.PaidBy == PaidByRecipient && s.Direction == ToApplicant
}
