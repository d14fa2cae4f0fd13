package logistics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"zwfw/apperr"
	"zwfw/platform/events"
	"zwfw/platform/invariants"
	"zwfw/platform/jobs"
)

// Self-check bounds: the check looks at shipments changed within
// InvariantLookback, so a daily run sees each one many times after its
// last change without re-reading every shipment ever sent; at most
// invariantBatch per run, least recently changed first.
const (
	InvariantLookback = 30 * 24 * time.Hour
	invariantBatch    = 5000
	// bookingGrace is how long a new shipment may wait for its booking
	// job to be queued (the request that stored it queues it a moment later).
	bookingGrace = 10 * time.Minute
)

// CheckStates is the name of the check that every shipment's state is the
// one its timeline leads to, with that change's event.
const CheckStates = "logistics.shipment_state"

// EventReader reads what the event log holds about a subject (implemented
// by *events.Log); the self-check uses it to tell a missing event.
type EventReader interface {
	ReadSubject(ctx context.Context, subject string, afterSeq int64, limit int) ([]events.Event, error)
}

// errChanged stops a repair when the shipment changed after it was
// examined; the next run looks again.
var errChanged = errors.New("shipment changed since it was examined")

// Invariants are the logistics package's self-checks, run daily and on demand.
func (s *Service) Invariants() []invariants.Check {
	return []invariants.Check{invariants.Func{CheckName: CheckStates, Fn: s.checkStates}}
}

// derivation is what a shipment's timeline says its state must be.
type derivation struct {
	State       State
	LastEventAt time.Time
	// Events are those the timeline's transitions announce, in order
	// (shipment.created first), with their deterministic ids.
	Events []events.Pending
	// Why is set when the timeline cannot decide the state.
	Why string
}

// derive replays the timeline from the start, exactly as the entries were
// applied: zwfw's own notes move the state where zwfw moved it (cancelled,
// booking refused), the courier's entries through ApplyTracking.
func derive(sh *Shipment) derivation {
	if len(sh.Timeline) == 0 {
		return derivation{Why: "寄递没有任何轨迹记录，无法推断状态"}
	}
	timeline := slices.Clone(sh.Timeline)
	slices.SortStableFunc(timeline, func(a, b TrackEvent) int { return a.At.Compare(b.At) })
	r := &Shipment{ID: sh.ID, CaseID: sh.CaseID, CaseNumber: sh.CaseNumber, UserID: sh.UserID, Direction: sh.Direction,
		Carrier: sh.Carrier, WaybillNumber: sh.WaybillNumber, State: StateCreated}
	r.Emit(changeEvent(EventCreated, r, Transition{To: StateCreated, Event: timeline[0]}, timeline[0].At))
	for _, e := range timeline {
		if e.Source != SourceSystem {
			_, transitions := r.ApplyTracking([]TrackEvent{e})
			r.emitTransitions(transitions, e.At)
			continue
		}
		r.insert(e)
		next := r.State
		switch {
		case e.State == StateCancelled && r.State != StateCancelled:
			next = StateCancelled
		case e.State == StateException && r.State == StateCreated:
			next = StateException // the courier refused the booking
		}
		if next != r.State {
			from := r.State
			r.State = next
			r.emitTransitions([]Transition{{From: from, To: next, Event: e}}, e.At)
		}
	}
	return derivation{State: r.State, LastEventAt: r.LastEventAt, Events: r.Pending}
}

// checkStates: every shipment changed within InvariantLookback is in the
// state its timeline leads to (the last applied entry decides), its
// last_event_at is its newest courier entry's time, and the event of the
// change that led to its state is in the log or its outbox. With repair,
// the state is recomputed and the missing events are emitted through the
// shipment's outbox under their deterministic ids, in one versioned write
// of the shipment as examined (two checkers repair it once). A timeline
// that cannot decide, or that would move a finished shipment back, is
// reported for a person and left alone. A shipment waiting for a booking
// that no job will make (its request died between storing it and queueing
// the booking) gets the job queued.
func (s *Service) checkStates(ctx context.Context, repair bool) (invariants.Result, error) {
	if s.eventsRead == nil {
		return invariants.Result{}, errors.New("logistics: the self-check needs the event log (Deps.Events)")
	}
	list, err := s.store.ChangedSince(ctx, s.clock().Add(-InvariantLookback), invariantBatch)
	if err != nil {
		return invariants.Result{}, err
	}
	res := invariants.Result{Examined: len(list)}
	for _, sh := range list {
		f, err := s.checkShipment(ctx, sh, repair)
		if err != nil {
			return res, err
		}
		if f != nil {
			res.Findings = append(res.Findings, *f)
		}
	}
	return res, nil
}

// checkShipment examines one shipment; nil when all is well.
func (s *Service) checkShipment(ctx context.Context, sh *Shipment, repair bool) (*invariants.Finding, error) {
	d := derive(sh)
	f := &invariants.Finding{Subject: "shipment:" + sh.ID}
	switch {
	case d.Why != "":
		f.Problem, f.Action = d.Why, "需人工核实寄递状态"
		return f, nil
	case sh.State != d.State && sh.State.Final():
		f.Problem = fmt.Sprintf("寄递状态为「%s」，但轨迹只到「%s」", sh.State.Label(), d.State.Label())
		f.Action = "已结束的寄递不自动回退，需人工向快递公司核实"
		return f, nil
	}
	stateDrift := sh.State != d.State || !sh.LastEventAt.Equal(d.LastEventAt)
	var wanted []events.Pending
	if stateDrift {
		// A drifted state may have skipped any of them (but creation,
		// which no consumer waits for: shipments from before events
		// were written with their state never had it).
		for _, p := range d.Events {
			if p.Type != EventCreated {
				wanted = append(wanted, p)
			}
		}
	} else if p, ok := currentStateEvent(d.Events, sh.State); ok {
		wanted = []events.Pending{p}
	}
	missing, err := s.missingEvents(ctx, sh, wanted)
	if err != nil {
		return nil, err
	}
	if !stateDrift && len(missing) == 0 {
		return s.checkBookingQueued(ctx, sh, repair)
	}
	switch {
	case stateDrift:
		f.Problem = fmt.Sprintf("寄递状态为「%s」，轨迹最新记录对应「%s」", sh.State.Label(), d.State.Label())
		if !sh.LastEventAt.Equal(d.LastEventAt) {
			f.Problem += "；最新物流时间与轨迹不符"
		}
	default:
		f.Problem = fmt.Sprintf("寄递已「%s」，事件日志中没有该变化的事件", sh.State.Label())
	}
	if len(missing) > 0 {
		f.Problem += fmt.Sprintf("（缺少事件 %s）", eventTypes(missing))
	}
	if !repair {
		f.Action = "仅检查，未修复"
		return f, nil
	}
	switch err := s.repairState(ctx, sh, d, missing); {
	case err == nil:
		f.Repaired = true
		f.Action = fmt.Sprintf("已按轨迹将状态改为「%s」", d.State.Label())
		if !stateDrift {
			f.Action = "状态无误"
		}
		if len(missing) > 0 {
			f.Action += "，已通过寄递发件箱补发事件 " + eventTypes(missing)
		}
	case errors.Is(err, errChanged):
		f.Action = "寄递在检查期间有变动，下次自检再核对"
	default:
		return nil, err
	}
	return f, nil
}

// checkBookingQueued finds a shipment waiting for its pickup to be booked
// (created, no courier order, older than bookingGrace) without the job
// that books it, and with repair queues it (keyed by the shipment: at most
// one job however often this runs).
func (s *Service) checkBookingQueued(ctx context.Context, sh *Shipment, repair bool) (*invariants.Finding, error) {
	if sh.State != StateCreated || sh.CourierOrderID != "" || s.clock().Sub(sh.UpdatedAt) < bookingGrace {
		return nil, nil
	}
	_, err := s.queue.Get(ctx, jobs.JobID(JobCreatePickup, sh.ID))
	if !errors.Is(err, jobs.ErrNotFound) {
		return nil, err // queued (or done, or parked for a person: the job runner reports those)
	}
	f := &invariants.Finding{Subject: "shipment:" + sh.ID, Problem: "寄递待预约取件，但没有预约取件的任务，快递不会上门", Action: "仅检查，未修复"}
	if repair {
		if err := s.enqueueBooking(ctx, sh); err != nil {
			return nil, err
		}
		f.Repaired, f.Action = true, "已重新排队预约取件"
	}
	return f, nil
}

// currentStateEvent is the event of the change that led to state, the last
// one the timeline announces for it (shipment.picked_up for every state on
// the way). A shipment in created has nothing to check beyond its
// creation, which no consumer waits for.
func currentStateEvent(evs []events.Pending, state State) (events.Pending, bool) {
	want := map[State]string{StatePickedUp: EventPickedUp, StateInTransit: EventPickedUp, StateOutForDelivery: EventPickedUp,
		StateDelivered: EventDelivered, StateException: EventException, StateReturned: EventReturned, StateCancelled: EventCancelled}[state]
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == want {
			return evs[i], true
		}
	}
	return events.Pending{}, false
}

// missingEvents are those of wanted neither waiting in the shipment's
// outbox nor in the log (by id, or by type and time for events appended
// before they had ids).
func (s *Service) missingEvents(ctx context.Context, sh *Shipment, wanted []events.Pending) ([]events.Pending, error) {
	if len(wanted) == 0 {
		return nil, nil
	}
	have := map[string]bool{}
	for _, p := range sh.Pending {
		have[p.ID] = true
	}
	var after int64
	for {
		page, err := s.eventsRead.ReadSubject(ctx, "shipment:"+sh.ID, after, 200)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			have[e.ID] = true
			var d StateChanged
			if e.ID == "" && e.Decode(&d) == nil {
				have[eventID(sh.ID, e.Type, d.At)] = true
			}
		}
		if len(page) < 200 {
			break
		}
		after = page[len(page)-1].Seq
	}
	var out []events.Pending
	for _, p := range wanted {
		if !have[p.ID] {
			out = append(out, p)
		}
	}
	return out, nil
}

// repairState stores the derived state and emits the missing events, in a
// versioned write of the shipment exactly as examined.
func (s *Service) repairState(ctx context.Context, examined *Shipment, d derivation, missing []events.Pending) error {
	next := examined.clone()
	now := s.clock()
	next.State, next.LastEventAt = d.State, d.LastEventAt
	next.UpdatedAt = now
	next.Version++
	for _, p := range missing {
		p.At = now // emitted now, whenever the change was
		next.Emit(p)
	}
	err := s.store.SaveShipment(ctx, next, examined.Version)
	if errors.Is(err, apperr.Conflict) {
		return errChanged
	}
	if err == nil {
		s.log.Warn("logistics: shipment repaired by the self-check", "shipment_id", examined.ID,
			"state", examined.State, "to", d.State, "events", eventTypes(missing))
	}
	return err
}

func eventTypes(ps []events.Pending) string {
	out := ""
	for i, p := range ps {
		if i > 0 {
			out += "、"
		}
		out += p.Type
	}
	return out
}
