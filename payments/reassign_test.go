package payments

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/testenv"
)

// A merge of persons gives from's notices and orders to to, once: a notice
// both could see lists to once; a run stopped between adding to and taking
// from away (a crash) finishes on the next run.
func TestReassignUserMovesNoticesAndOrders(t *testing.T) {
	ctx := context.Background()
	st := NewMongoStore(testenv.DB(t))
	now := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	for id, users := range map[string][]string{"p-from": {"from"}, "p-both": {"from", "to"}, "p-other": {"clerk"}, "p-to": {"to"}} {
		if _, _, err := st.InsertPayment(ctx, Payment{ID: id, Status: StatusUnpaid, UserIDs: users, IssuedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.InsertOrder(ctx, Order{ID: "o1", PaymentID: "p-from", UserID: "from", Status: OrderPaid, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// The crash: to was added to the first notice, from not yet taken away.
	if err := st.AddViewer(ctx, "p-from", "to"); err != nil {
		t.Fatal(err)
	}
	for run, want := range []int64{2 + 1, 0} {
		moved, err := st.ReassignUser(ctx, "from", "to")
		if err != nil || moved != want {
			t.Fatalf("run %d moved %d (%v), want %d", run, moved, err, want)
		}
		for id, users := range map[string][]string{"p-from": {"to"}, "p-both": {"to"}, "p-other": {"clerk"}, "p-to": {"to"}} {
			p, err := st.Payment(ctx, id)
			if err != nil || !slices.Equal(p.UserIDs, users) {
				t.Fatalf("run %d: %s user_ids %v (%v), want %v", run, id, p.UserIDs, err, users)
			}
		}
		if o, err := st.Order(ctx, "o1"); err != nil || o.UserID != "to" {
			t.Fatalf("run %d: order of %q (%v)", run, o.UserID, err)
		}
	}
	if n, _ := st.payments.CountDocuments(ctx, bson.M{"user_ids": "from"}); n != 0 {
		t.Fatalf("%d notices still list from", n)
	}
}
