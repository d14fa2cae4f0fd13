package events

import (
	"context"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/mongox"
	"zwfw/platform/testenv"
)

// On the embedded store a consumer's read of what was appended in this
// process comes from memory — the same events the store holds, not one
// range read (a scan of the whole log there) — whichever Log of the process
// appended them; what was appended before the window opened, or what the
// window no longer holds, is read from the store.
func TestReadAfterServesThisProcessAppendsFromMemory(t *testing.T) {
	ctx := context.Background()
	db, a := newLog(t)
	b := NewLog(db) // another Log of the same process and database
	if !mongox.IsFerretDB(ctx, db) {
		t.Skip("the window is only open on the embedded store") // MONGODB_URI runs
	}
	appendN := func(l *Log, n int) {
		for i := 0; i < n; i++ {
			e, err := NewEvent("test.happened", "thing:1", "system", bson.D{{Key: "i", Value: i}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(a, 3) // before the window opens: only in the store
	if evs, err := b.ReadAfter(ctx, 0, 100); err != nil || len(evs) != 3 {
		t.Fatalf("read before the window: %d events, %v", len(evs), err)
	}
	appendN(a, 5)
	rangeReads := func() int64 { return testenv.StoreCallsBy(db)["find "+EventsCollection] }
	before := rangeReads()
	got, err := b.ReadAfter(ctx, 3, 100)
	if err != nil {
		t.Fatal(err)
	}
	if n := rangeReads() - before; n != 0 {
		t.Fatalf("%d range reads of the log for events appended in this process", n)
	}
	want, err := b.find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: int64(3)}}}}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || !reflect.DeepEqual(got, want) {
		t.Fatalf("from memory %+v\nfrom the store %+v", got, want)
	}
	if evs, _ := b.ReadAfter(ctx, 4, 2); len(evs) != 2 || evs[0].Seq != 5 || evs[1].Seq != 6 {
		t.Fatalf("limit: %+v", evs)
	}
	// Reading from before the window goes to the store, with everything.
	if evs, err := b.ReadAfter(ctx, 1, 100); err != nil || len(evs) != 7 || evs[0].Seq != 2 {
		t.Fatalf("read from before the window: %d events, %v", len(evs), err)
	}
	if rangeReads() == before {
		t.Fatal("a read from before the window did not go to the store")
	}
}
