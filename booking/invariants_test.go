package booking

import (
	"context"
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/invariants"
)

// findings lists "check subject repaired" for comparison.
func findings(rep invariants.Report) map[string]bool {
	m := map[string]bool{}
	for _, r := range rep.Results {
		for _, f := range r.Findings {
			m[r.Check+" "+f.Subject] = f.Repaired
		}
	}
	return m
}

// Drift as a crash between compensation steps leaves it, injected with raw
// writes: the check finds each, changes nothing without repair, repairs
// each with it, and a second run finds nothing.
func TestInvariantsRepairDrift(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	e.mustBook("u1", "A", s0900)
	e.mustBook("u1", "B", s0900)
	e.mustBook("u2", "A", s0930)
	gone := e.mustBook("u3", "C", s1000)
	if _, err := e.svc.Cancel(ctx, "u3", gone.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(e.clock.Now().Add(time.Hour))
	if rep := e.runChecks(false); rep.Found != 0 {
		t.Fatalf("consistent data reported: %+v", findings(rep))
	}

	raw := func(coll string, filter, update bson.D) {
		t.Helper()
		if _, err := e.db.Collection(coll).UpdateOne(ctx, filter, update); err != nil {
			t.Fatal(err)
		}
	}
	byID := func(id string) bson.D { return bson.D{{Key: "_id", Value: id}} }
	inc := func(field string, n int) bson.D {
		return bson.D{{Key: "$inc", Value: bson.D{{Key: field, Value: n}}}}
	}
	// A slot one place short (a release that ran twice) and one place over (a
	// release that never ran).
	raw(SlotCountersCollection, byID(SlotCounterID("h1", "A", s0900)), inc("taken", -1))
	raw(SlotCountersCollection, byID(SlotCounterID("h1", "A", s0930)), inc("taken", 1))
	// A user's count one over (an active place never given back) and one under.
	raw(UsersCollection, byID("user:u1"), inc("active", 1))
	raw(UsersCollection, byID("user:u2"), inc("active", -1))
	// A stale active-item key: u3's cancelled booking still holds item C.
	if err := e.store.TakeActiveItem(ctx, "u3", "C", gone.ID); err != nil {
		t.Fatal(err)
	}
	// A confirmed booking whose key is gone.
	if holder, _, err := e.store.ActiveItemHolder(ctx, "u1", "A"); err != nil || e.store.ReleaseActiveItem(ctx, "u1", "A", holder) != nil {
		t.Fatal(holder, err)
	}
	// A key of a booking that was never written, long ago.
	dead := newBookingID(e.clock.Now().Add(-time.Hour))
	if err := e.store.TakeActiveItem(ctx, "u4", "D", dead); err != nil {
		t.Fatal(err)
	}

	want := []string{
		CheckSlotTaken + " " + SlotCounterID("h1", "A", s0900),
		CheckSlotTaken + " " + SlotCounterID("h1", "A", s0930),
		CheckUserActive + " user:u1",
		CheckUserActive + " user:u2",
		CheckActiveItems + " " + activeKey("u1", "A"),
		CheckActiveItems + " " + activeKey("u3", "C"),
		CheckActiveItems + " " + activeKey("u4", "D"),
	}
	sort.Strings(want)
	check := func(rep invariants.Report, repaired bool) {
		t.Helper()
		got := findings(rep)
		var keys []string
		for k, r := range got {
			keys = append(keys, k)
			if r != repaired {
				t.Errorf("%s: repaired %v, want %v", k, r, repaired)
			}
		}
		sort.Strings(keys)
		if len(keys) != len(want) {
			t.Fatalf("findings %v\nwant %v", keys, want)
		}
		for i := range want {
			if keys[i] != want[i] {
				t.Fatalf("findings %v\nwant %v", keys, want)
			}
		}
	}
	check(e.runChecks(false), false)
	check(e.runChecks(false), false) // looking changes nothing
	check(e.runChecks(true), true)
	e.assertConsistent()
	if rep := e.runChecks(true); rep.Found != 0 {
		t.Fatalf("second run: %+v", findings(rep))
	}
	// Repaired counters work: u3 may book C again, u1 may not book A twice.
	e.mustBook("u3", "C", s1000)
	_, err := e.book("u1", "A", s1000)
	wantCode(t, err, ErrDuplicateItem)
	if c := e.counter("A", s0900); c.Taken != 1 {
		t.Fatalf("counter %+v", c)
	}
	e.assertConsistent()
}

// A repair is guarded by the state it read: a booking step that wrote the
// counter in between wins, and the repair reports it did nothing.
func TestInvariantRepairLosesToAConcurrentStep(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	e.mustBook("u1", "A", s0900)
	read := e.counter("A", s0900)
	if ok, err := e.store.TakeSlot(ctx, SlotCounter{ID: read.ID, Capacity: 10}, e.clock.Now().Add(time.Second)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := e.store.SetSlotTaken(ctx, read, 0); ok || err != nil {
		t.Fatalf("repair over a newer counter: %v %v", ok, err)
	}
	if c := e.counter("A", s0900); c.Taken != 2 {
		t.Fatalf("taken %d", c.Taken)
	}
	counts, err := e.store.ActiveCounts(ctx, []string{"u1"})
	if err != nil || len(counts) != 1 {
		t.Fatal(counts, err)
	}
	if _, err := e.store.TakeActive(ctx, "u1", "Z", "b_other", 3, e.clock.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.store.SetActiveCount(ctx, counts[0], 0); ok || err != nil {
		t.Fatalf("repair over a newer count: %v %v", ok, err)
	}
}

// A no-show whose record never reached the user's list (a crash between
// marking the booking and recording it) would let the user escape the ban:
// the check records it.
func TestInvariantsRecordAMissedNoShow(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	e.mustBook("u1", "A", s0900)
	e.mustBook("u1", "B", s0930)
	e.mustBook("u1", "C", s1000)
	e.clock.Set(at("2026-11-04", "11:00"))
	if n, err := e.svc.MarkNoShows(ctx); err != nil || n != 3 {
		t.Fatalf("marked %d, %v", n, err)
	}
	_, err := e.book("u1", "D", at("2026-11-06", "09:00"))
	wantCode(t, err, ErrBanned)
	// The third record is lost.
	if _, err := e.db.Collection(UsersCollection).UpdateOne(ctx, bson.D{{Key: "_id", Value: "user:u1"}},
		bson.D{{Key: "$pop", Value: bson.D{{Key: "no_shows", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	e.mustBook("u1", "D", at("2026-11-06", "09:00")) // the drift lets the user book
	e.clock.Set(e.clock.Now().Add(time.Hour))
	got := findings(e.runChecks(true))
	if len(got) != 1 || !got[CheckNoShows+" user:u1"] {
		t.Fatalf("findings %v", got)
	}
	if rep := e.runChecks(true); rep.Found != 0 {
		t.Fatalf("second run: %v", findings(rep))
	}
	_, err = e.book("u1", "A", at("2026-11-06", "09:30"))
	wantCode(t, err, ErrBanned)
}
