package booking

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A merge of persons gives u1's bookings to u2 and merges what counts them:
// u2's active count and no-show record are recomputed from the bookings
// it now holds (so u1's no-shows count towards u2's ban), the active-item
// keys move, u1's record goes; running it again changes nothing.
func TestReassignUserMergesBookingsAndCounters(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	e.mustBook("u1", "A", s0900)
	e.mustBook("u1", "B", s0930)
	e.mustBook("u2", "B", s1000)
	e.clock.Set(s1000.Add(time.Hour))
	if n, err := e.svc.MarkNoShows(ctx); err != nil || n != 3 {
		t.Fatalf("marked %d no-shows, %v", n, err)
	}
	later := at("2026-11-05", "09:00")
	u1C := e.mustBook("u1", "C", later)
	u2C := e.mustBook("u2", "C", later.Add(30*time.Minute)) // both hold C: u2 keeps its key
	u1D := e.mustBook("u1", "D", later)
	if _, err := e.book("u2", "A", later); err != nil {
		t.Fatalf("u2 before the merge (one no-show): %v", err)
	}

	for run, want := range []int64{4, 0} { // A and B (no-shows), C and D
		moved, err := e.store.ReassignUser(ctx, "u1", "u2")
		if err != nil || moved != want {
			t.Fatalf("run %d moved %d bookings (%v), want %d", run, moved, err, want)
		}
		var u userDoc
		if err := e.db.Collection(UsersCollection).FindOne(ctx, bson.M{"_id": "user:u2"}).Decode(&u); err != nil {
			t.Fatal(err)
		}
		// u2's confirmed bookings: its C and A, u1's C and D.
		if u.Active != 4 || len(u.NoShows) != 3 {
			t.Fatalf("run %d: active %d, no-shows %d; want 4 and 3", run, u.Active, len(u.NoShows))
		}
		if n, _ := e.db.Collection(UsersCollection).CountDocuments(ctx, bson.M{"_id": "user:u1"}); n != 0 {
			t.Fatalf("run %d: u1's record is still there", run)
		}
		for _, item := range []string{"A", "C", "D"} {
			if holder, found, _ := e.store.ActiveItemHolder(ctx, "u1", item); found {
				t.Fatalf("run %d: active:u1:%s still names %s", run, item, holder)
			}
		}
		if holder, _, _ := e.store.ActiveItemHolder(ctx, "u2", "C"); holder != u2C.ID {
			t.Fatalf("run %d: active:u2:C names %s, want u2's own %s (u1's %s is reported by the self-check)", run, holder, u2C.ID, u1C.ID)
		}
		if holder, _, _ := e.store.ActiveItemHolder(ctx, "u2", "D"); holder != u1D.ID {
			t.Fatalf("run %d: active:u2:D names %s, want %s", run, holder, u1D.ID)
		}
	}
	if list, _ := e.store.ListByUser(ctx, "u1", "", "", 50); len(list) != 0 {
		t.Fatalf("u1 still has %d bookings", len(list))
	}
	// Three no-shows are now one person's: the ban applies.
	_, err := e.book("u2", "B", later.Add(time.Hour))
	wantCode(t, err, ErrBanned)
}
