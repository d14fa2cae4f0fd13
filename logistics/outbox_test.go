package logistics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/apperr"
)

// rawOutbox reads the pending events stored in a shipment document.
func (e *env) rawOutbox(id string) []string {
	e.t.Helper()
	var doc struct {
		Outbox []struct {
			ID   string `bson:"id"`
			Type string `bson:"type"`
		} `bson:"outbox"`
	}
	if err := e.store.shipments.FindOne(e.ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, p := range doc.Outbox {
		out = append(out, p.Type+"="+p.ID)
	}
	return out
}

// A transition's event is stored in the same write as the state: a process
// that dies right after the write (no relay ran) still has it, and the
// next sweep appends it once, however often it runs.
func TestEventsRideInTheShipmentsWrite(t *testing.T) {
	e := newEnv(t)
	e.relayOff = true
	sh := e.pickup(11)
	e.advance(sh.WaybillNumber)
	e.settled()
	if got := e.reload(sh.ID); got.State != StatePickedUp {
		t.Fatalf("state %s", got.State)
	}
	want := []string{
		EventCreated + "=shipment:" + sh.ID + ":" + EventCreated,
		EventPickedUp + "=shipment:" + sh.ID + ":" + EventPickedUp,
	}
	if got := e.rawOutbox(sh.ID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("outbox %v, want %v", got, want)
	}
	if n := e.loggedOf(EventPickedUp, sh.ID); n != 0 {
		t.Fatalf("%d picked_up events in the log before any relay", n)
	}
	for range 2 {
		if err := e.relay.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if e.loggedOf(EventPickedUp, sh.ID) != 1 || e.loggedOf(EventCreated, sh.ID) != 1 || len(e.rawOutbox(sh.ID)) != 0 {
		t.Fatalf("after two sweeps: picked_up %d, created %d, outbox %v", e.loggedOf(EventPickedUp, sh.ID),
			e.loggedOf(EventCreated, sh.ID), e.rawOutbox(sh.ID))
	}
}

// Double taps with different keys (or none) make one pickup per case; the
// others are refused with SHIPMENT_PICKUP_EXISTS naming it. A new pickup is
// possible once the earlier one ended.
func TestOnePickupAtATimePerCase(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sh, err := e.svc.CreatePickup(context.Background(), "u1", caseRef(8), applicant(), tomorrowMorning())
			ids[i], errs[i] = sh.ID, err
		}(i)
	}
	wg.Wait()
	var winner string
	for i, err := range errs {
		switch {
		case err == nil && winner == "":
			winner = ids[i]
		case err == nil:
			t.Fatalf("two pickups made: %s and %s", winner, ids[i])
		case !errors.Is(err, ErrPickupExists):
			t.Fatalf("tap %d: %v", i, err)
		}
	}
	if list, _ := e.svc.OfCase(e.ctx, caseRef(8).ID); len(list) != 1 || list[0].ID != winner {
		t.Fatalf("stored %+v", list)
	}
	_, err := e.svc.CreatePickup(e.ctx, "u1", caseRef(8), applicant(), tomorrowMorning())
	if d := apperr.From(err).Details; !errors.Is(err, ErrPickupExists) || d["shipment_id"] != winner {
		t.Fatalf("a later tap: %v %v", err, d)
	}
	// Once it is cancelled, the case may book again.
	if _, err := e.svc.Cancel(e.ctx, "u1", winner); err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.CreatePickup(e.ctx, "u1", caseRef(8), applicant(), tomorrowMorning())
	if err != nil || again.ID == winner {
		t.Fatalf("pickup after cancelling: %+v %v", again, err)
	}
	if e.eventsOf(EventCreated, again.ID) != 1 || e.eventsOf(EventCreated, winner) != 1 {
		t.Fatal("each pickup is announced once")
	}
}
