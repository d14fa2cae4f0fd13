package notify_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/notify"
	"zwfw/platform/testenv"
)

// A merge of persons gives from's reminders to to: the inbox, devices and
// consents (added once, however often the move runs), and the settings
// only where to has none of its own.
func TestReassignUserMovesRemindersOnce(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	st := notify.NewMongoStore(db)
	now := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	for _, m := range []*notify.Message{
		{ID: notify.DedupID("from", "booking.confirmed", "b1"), PublicID: "p1", UserID: "from", Inbox: true, CreatedAt: now},
		{ID: notify.DedupID("to", "case.status", "c1"), PublicID: "p2", UserID: "to", Inbox: true, CreatedAt: now},
	} {
		if _, _, err := st.InsertMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		user string
		n    int
	}{{"from", 2}, {"to", 1}} {
		for range c.n {
			if err := st.AddConsent(ctx, c.user, "tmpl_a", notify.ConsentAccept, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.AddConsent(ctx, "from", "tmpl_b", notify.ConsentAccept, now); err != nil {
		t.Fatal(err)
	}
	if err := st.PutDevice(ctx, notify.Device{UserID: "from", RegistrationID: "reg-from-1", Platform: "android", UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	fromSet, toSet := notify.DefaultSettings(), notify.DefaultSettings()
	fromSet.Quiet.Enabled, toSet.Quiet.Enabled = false, true
	if err := st.PutSettings(ctx, "from", fromSet, now); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSettings(ctx, "to", toSet, now); err != nil {
		t.Fatal(err)
	}

	for run, want := range []int64{1 + 2 + 1 + 1, 0} { // a message; two consents, a device, the settings
		moved, err := st.ReassignUser(ctx, "from", "to")
		if err != nil || moved != want {
			t.Fatalf("run %d moved %d (%v), want %d", run, moved, err, want)
		}
		consents, err := st.Consents(ctx, "to")
		if err != nil || consents["tmpl_a"] != 3 || consents["tmpl_b"] != 1 {
			t.Fatalf("run %d: consents %v %v, want tmpl_a 2+1, tmpl_b 1", run, consents, err)
		}
		if left, _ := st.Consents(ctx, "from"); len(left) != 0 {
			t.Fatalf("run %d: from keeps consents %v", run, left)
		}
		inbox, err := st.Inbox(ctx, "to", notify.PageCursor{}, 10)
		if err != nil || len(inbox) != 2 {
			t.Fatalf("run %d: inbox of to %d (%v)", run, len(inbox), err)
		}
		if devs, _ := st.Devices(ctx, "to", 10); len(devs) != 1 || devs[0].RegistrationID != "reg-from-1" {
			t.Fatalf("run %d: devices of to %+v", run, devs)
		}
		if set, _, _ := st.Settings(ctx, "to"); !set.Quiet.Enabled {
			t.Fatalf("run %d: to's own settings were replaced", run)
		}
		if n, _ := db.Collection(notify.PrefsCollection).CountDocuments(ctx, bson.M{"user_id": "from"}); n != 0 {
			t.Fatalf("run %d: %d preferences of from left", run, n)
		}
	}
	// A person without settings of its own takes the absorbed one's.
	if err := st.PutSettings(ctx, "old", fromSet, now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReassignUser(ctx, "old", "new"); err != nil {
		t.Fatal(err)
	}
	if set, found, _ := st.Settings(ctx, "new"); !found || set.Quiet.Enabled {
		t.Fatalf("new's settings %+v (found %v), want old's", set, found)
	}
}
