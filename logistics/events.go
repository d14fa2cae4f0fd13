package logistics

import (
	"strconv"
	"time"

	"zwfw/platform/events"
)

// Event types of the logistics package. Every event's subject is
// "shipment:<id>" and its actor "courier" (what the courier reported) or
// "system" (what zwfw did). Each rides in the shipment document's write
// that makes the change (its outbox), so a crash cannot separate the two;
// the payload of every one of them is StateChanged.
const (
	// EventCreated: a shipment was stored (a pickup asked for, a result to mail).
	EventCreated = "shipment.created"
	// EventPickedUp: the courier has the parcel, whatever its first entry was called.
	EventPickedUp = "shipment.picked_up"
	// EventDelivered: signed for (final).
	EventDelivered = "shipment.delivered"
	// EventException: the courier reported a problem, or the pickup could
	// not be booked; it may happen more than once per shipment.
	EventException = "shipment.exception"
	// EventReturned: refused or sent back to the sender (final).
	EventReturned = "shipment.returned"
	// EventCancelled: the applicant cancelled the pickup before collection (final).
	EventCancelled = "shipment.cancelled"
)

// StateChanged is the payload of every shipment event: the shipment as it
// stands after the change and the change itself. The bson names are the
// event log's contract with its consumers (notify's reminders read
// shipment_id, user_id, case_number, carrier, waybill_number, context, at).
type StateChanged struct {
	ShipmentID    string    `bson:"shipment_id"`
	CaseID        string    `bson:"case_id"`
	CaseNumber    string    `bson:"case_number"`
	UserID        string    `bson:"user_id"`
	Direction     Direction `bson:"direction"`
	Carrier       string    `bson:"carrier"`
	WaybillNumber string    `bson:"waybill_number"`
	// State is the state the change led to, From the one before it.
	State State `bson:"state"`
	From  State `bson:"from"`
	// At is when it happened: the courier's time of the entry that caused
	// it, or zwfw's clock for its own changes.
	At time.Time `bson:"at"`
	// Context is the entry's text (the courier's own, or zwfw's note).
	Context string `bson:"context"`
	Source  Source `bson:"source"`
}

// actor of an event caused by entry source src.
func actor(src Source) string {
	if src == SourceSystem {
		return "system"
	}
	return "courier"
}

// eventID is the deterministic id of a shipment's event: a once-only fact
// (created, picked_up, delivered, returned, cancelled) has one per
// shipment; an exception is identified by the time of the entry that
// caused it. Relaying, retrying or repairing the same fact never appends
// it twice.
func eventID(shipmentID, typ string, at time.Time) string {
	id := "shipment:" + shipmentID + ":" + typ
	if typ == EventException {
		id += "@" + strconv.FormatInt(at.UnixMilli(), 10)
	}
	return id
}

// changeEvent builds the outbox entry of event typ announcing transition tr
// of sh (the shipment as it stands after the write), stored at now. The
// payload's At is the entry's time (the courier's clock for its entries);
// the outbox entry's is zwfw's, which the relay's sweep goes by.
func changeEvent(typ string, sh *Shipment, tr Transition, now time.Time) events.Pending {
	e := tr.Event
	return events.MustPending(eventID(sh.ID, typ, e.At), typ, "shipment:"+sh.ID, actor(e.Source), StateChanged{
		ShipmentID: sh.ID, CaseID: sh.CaseID, CaseNumber: sh.CaseNumber, UserID: sh.UserID, Direction: sh.Direction,
		Carrier: sh.Carrier, WaybillNumber: sh.WaybillNumber, State: tr.To, From: tr.From,
		At: e.At, Context: e.Context, Source: e.Source,
	}, now)
}

// transitionEvents are the event types a transition announces:
// shipment.picked_up once the courier has the parcel, then delivered,
// exception, returned or cancelled.
func transitionEvents(tr Transition) []string {
	var types []string
	if tr.Collected {
		types = append(types, EventPickedUp)
	}
	switch tr.To {
	case StateException:
		types = append(types, EventException)
	case StateReturned:
		types = append(types, EventReturned)
	case StateDelivered:
		types = append(types, EventDelivered)
	case StateCancelled:
		types = append(types, EventCancelled)
	}
	return types
}

// emitTransitions puts the events of transitions into the outbox of sh,
// the shipment about to be stored (at now) by the write that made them.
func (sh *Shipment) emitTransitions(transitions []Transition, now time.Time) {
	for _, tr := range transitions {
		for _, typ := range transitionEvents(tr) {
			sh.Emit(changeEvent(typ, sh, tr, now))
		}
	}
}
