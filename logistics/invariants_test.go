package logistics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/events"
	"zwfw/platform/invariants"
	"zwfw/platform/jobs"
	fakecourier "zwfw/sandbox/courier"
)

// runCheck runs the shipments' self-check as the daily job does.
func (e *env) runCheck(repair bool) invariants.Report {
	e.t.Helper()
	rep := invariants.Run(e.ctx, e.svc.Invariants(), repair, e.clock.Now)
	for _, r := range rep.Results {
		if r.Error != "" {
			e.t.Fatalf("check %s: %s", r.Check, r.Error)
		}
	}
	return rep
}

// findingsBySubject indexes a report's findings.
func findingsBySubject(rep invariants.Report) map[string]invariants.Finding {
	out := map[string]invariants.Finding{}
	for _, r := range rep.Results {
		for _, f := range r.Findings {
			out[f.Subject] = f
		}
	}
	return out
}

// set writes fields of a shipment behind the service's back (drift).
func (e *env) set(id string, fields bson.D) {
	e.t.Helper()
	if _, err := e.store.shipments.UpdateOne(e.ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: fields}}); err != nil {
		e.t.Fatal(err)
	}
}

// loseEvent deletes an event from the log, as if it had been appended
// after the state and the process had died in between (before outboxes).
func (e *env) loseEvent(typ, shipmentID string) {
	e.t.Helper()
	db := e.store.shipments.Database()
	id := eventID(shipmentID, typ, time.Time{})
	res, err := db.Collection(events.EventsCollection).DeleteMany(e.ctx, bson.D{{Key: "event_id", Value: id}})
	if err != nil || res.DeletedCount != 1 {
		e.t.Fatalf("lose %s: %v (%d deleted)", id, err, res.DeletedCount)
	}
	if _, err := db.Collection(events.EventIDsCollection).DeleteMany(e.ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		e.t.Fatal(err)
	}
}

// deliver moves a booked parcel to its end, push by push.
func (e *env) deliver(num string) {
	e.t.Helper()
	for range 12 {
		e.advance(num)
		e.settled()
	}
}

// Shipments made by every path (delivered by pushes, through an exception,
// cancelled, refused by the courier, waiting) pass the check as they are;
// drift injected behind the service's back is found, repaired once with
// the missing events, and the next run finds nothing but what a person
// must look at.
func TestStateCheckFindsAndRepairsDrift(t *testing.T) {
	e := newEnv(t)
	delivered, rough, inTransit, cancelled, waiting := e.pickup(1), e.pickup(2), e.pickup(3), e.pickup(4), e.pickup(5)
	refused, err := e.svc.CreatePickup(e.ctx, "u1", caseRef(6), applicant(), tomorrowMorning())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Cancel(e.ctx, "u1", cancelled.ID); err != nil {
		t.Fatal(err)
	}
	e.deliver(delivered.WaybillNumber)
	if _, err := e.fake.SetScenario(rough.WaybillNumber, fakecourier.ScenarioException); err != nil {
		t.Fatal(err)
	}
	e.deliver(rough.WaybillNumber)
	e.advance(inTransit.WaybillNumber)
	e.advance(inTransit.WaybillNumber)
	e.settled()
	e.clock.Advance(3 * 24 * time.Hour) // the window passed before the booking ran
	if err := e.runJob(JobCreatePickup, refused.ID); err == nil {
		t.Fatal("a booking for a past window was accepted")
	}
	for id, want := range map[string]State{delivered.ID: StateDelivered, rough.ID: StateDelivered, inTransit.ID: StateInTransit,
		cancelled.ID: StateCancelled, waiting.ID: StateCreated, refused.ID: StateException} {
		if got := e.reload(id); got.State != want {
			t.Fatalf("%s is %s, want %s", id, got.State, want)
		}
	}
	e.eventsOf(EventCreated, delivered.ID) // relay everything
	if rep := e.runCheck(true); rep.Found != 0 || rep.Results[0].Examined != 6 {
		t.Fatalf("clean shipments: %+v", rep)
	}

	// The drift: a delivered shipment's state left behind its timeline and
	// its event lost; an in-transit one's last event time lost; a cancelled
	// one's event lost; a waiting one claimed delivered with nothing in its
	// timeline to show for it.
	e.set(delivered.ID, bson.D{{Key: "state", Value: StateOutForDelivery}})
	e.loseEvent(EventDelivered, delivered.ID)
	e.set(inTransit.ID, bson.D{{Key: "last_event_at", Value: time.Time{}}})
	e.loseEvent(EventCancelled, cancelled.ID)
	e.set(waiting.ID, bson.D{{Key: "state", Value: StateDelivered}})
	before := e.reload(delivered.ID)

	dry := e.runCheck(false)
	if dry.Found != 4 || dry.Repaired != 0 || e.reload(delivered.ID).Version != before.Version {
		t.Fatalf("check without repair: %+v", dry)
	}
	rep := e.runCheck(true)
	got := findingsBySubject(rep)
	if rep.Found != 4 || rep.Repaired != 3 {
		t.Fatalf("repair run: %+v", rep)
	}
	for id, want := range map[string]string{delivered.ID: EventDelivered, cancelled.ID: EventCancelled} {
		f := got["shipment:"+id]
		if !f.Repaired || !strings.Contains(f.Problem, want) || !strings.Contains(f.Action, want) {
			t.Errorf("%s: %+v", id, f)
		}
	}
	if f := got["shipment:"+inTransit.ID]; !f.Repaired || !strings.Contains(f.Problem, "最新物流时间") {
		t.Errorf("in transit: %+v", f)
	}
	if f := got["shipment:"+waiting.ID]; f.Repaired || !strings.Contains(f.Action, "人工") {
		t.Errorf("underivable: %+v", f)
	}
	if sh := e.reload(delivered.ID); sh.State != StateDelivered {
		t.Fatalf("repaired state %s", sh.State)
	}
	if sh := e.reload(inTransit.ID); !sh.LastEventAt.Equal(courierEntries(sh)[len(courierEntries(sh))-1].At) || sh.State != StateInTransit {
		t.Fatalf("repaired last event %v, state %s", sh.LastEventAt, sh.State)
	}
	if sh := e.reload(waiting.ID); sh.State != StateDelivered {
		t.Fatal("a shipment the timeline cannot explain was changed")
	}
	for id, typ := range map[string]string{delivered.ID: EventDelivered, cancelled.ID: EventCancelled} {
		if n := e.eventsOf(typ, id); n != 1 {
			t.Errorf("%d %s events for %s after the repair", n, typ, id)
		}
	}
	if e.eventsOf(EventPickedUp, delivered.ID) != 1 {
		t.Error("the repair emitted an event that was there")
	}

	again := e.runCheck(true)
	if f := findingsBySubject(again); again.Found != 1 || f["shipment:"+waiting.ID].Subject == "" {
		t.Fatalf("second run: %+v", again)
	}
	for id, typ := range map[string]string{delivered.ID: EventDelivered, cancelled.ID: EventCancelled} {
		if n := e.eventsOf(typ, id); n != 1 {
			t.Errorf("%d %s events for %s after a second run", n, typ, id)
		}
	}
}

// A repair is a versioned write of the shipment as examined: if a push
// changed it meanwhile, the repair stops and the next run looks again.
func TestStateRepairYieldsToAConcurrentChange(t *testing.T) {
	e := newEnv(t)
	sh := e.pickup(1)
	e.set(sh.ID, bson.D{{Key: "state", Value: StateInTransit}})
	examined := e.reload(sh.ID)
	e.set(sh.ID, bson.D{{Key: "version", Value: examined.Version + 1}})
	err := e.svc.repairState(e.ctx, &examined, derive(&examined), nil)
	if !errors.Is(err, errChanged) {
		t.Fatalf("repair over a newer version: %v", err)
	}
	if got := e.reload(sh.ID); got.State != StateInTransit {
		t.Fatalf("state %s", got.State)
	}
}

// A pickup stored by a request that died before queueing its booking
// would wait forever: the check finds a shipment waiting for a booking
// that no job will make, queues it, and finds nothing next time.
func TestStateCheckQueuesALostBooking(t *testing.T) {
	e := newEnv(t)
	sh, err := e.svc.CreatePickup(e.ctx, "u1", caseRef(1), applicant(), tomorrowMorning())
	if err != nil {
		t.Fatal(err)
	}
	jobID := jobs.JobID(JobCreatePickup, sh.ID)
	if _, err := e.store.shipments.Database().Collection(jobs.CollectionName).DeleteOne(e.ctx, bson.D{{Key: "_id", Value: jobID}}); err != nil {
		t.Fatal(err)
	}
	if rep := e.runCheck(true); rep.Found != 0 {
		t.Fatalf("a booking a moment old is not lost yet: %+v", rep)
	}
	e.clock.Advance(15 * time.Minute)
	if dry := e.runCheck(false); dry.Found != 1 || dry.Repaired != 0 {
		t.Fatalf("check without repair: %+v", dry)
	}
	if _, err := e.queue.Get(e.ctx, jobID); !errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("a check without repair queued the booking: %v", err)
	}
	rep := e.runCheck(true)
	if f := findingsBySubject(rep)["shipment:"+sh.ID]; rep.Found != 1 || !f.Repaired || !strings.Contains(f.Problem, "预约") {
		t.Fatalf("repair run: %+v", rep)
	}
	if err := e.runJob(JobCreatePickup, sh.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.reload(sh.ID); got.WaybillNumber == "" || len(e.fake.Orders()) != 1 {
		t.Fatalf("the queued booking did not book: %+v", got)
	}
	if again := e.runCheck(true); again.Found != 0 {
		t.Fatalf("second run: %+v", again)
	}
}
