package workdays

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestMongoStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	store := NewMongoStore(db)

	at := time.Date(2026, 11, 2, 9, 30, 0, 123456789, time.UTC)
	put := []Override{
		{Date: d("2026-11-24"), Kind: KindHoliday, Name: " 台风停止办公 ", UpdatedBy: "admin-1", UpdatedAt: at},
		{Date: d("2026-11-22"), Kind: KindWorkday, Name: "集中办理日", UpdatedBy: "admin-2"},
		{Date: d("2027-01-01"), Kind: KindHoliday, Name: "元旦节", Official: true, UpdatedBy: "admin-1"},
	}
	for _, o := range put {
		if err := store.Put(ctx, o); err != nil {
			t.Fatalf("Put %s: %v", o.Date, err)
		}
	}

	// The stored document has the documented shape.
	var raw bson.M
	if err := db.Collection("calendar_overrides").FindOne(ctx, bson.D{{Key: "_id", Value: "2026-11-24"}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if raw["kind"] != "holiday" || raw["name"] != "台风停止办公" || raw["updated_by"] != "admin-1" {
		t.Errorf("stored document = %v", raw)
	}
	if _, ok := raw["updated_at"].(bson.DateTime); !ok {
		t.Errorf("updated_at is %T, want a BSON date", raw["updated_at"])
	}

	// A new calendar over the same store sees them.
	cal, err := NewCalendar(ctx, NewMongoStore(db))
	if err != nil {
		t.Fatal(err)
	}
	if cal.IsWorkday(d("2026-11-24")) || !cal.IsWorkday(d("2026-11-22")) {
		t.Error("the overrides are not in force on a fresh calendar")
	}
	if cal.KnownUntil() != d("2027-12-31") {
		t.Errorf("KnownUntil = %s: the Official 2027 entry should make 2027 known", cal.KnownUntil())
	}

	list, err := store.List(ctx, d("2026-11-01"), d("2026-11-30"))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Date != d("2026-11-22") || list[1].Date != d("2026-11-24") {
		t.Fatalf("List(November) = %+v, want 11-22 and 11-24 in order", list)
	}
	got := list[1]
	if got.Kind != KindHoliday || got.Name != "台风停止办公" || got.UpdatedBy != "admin-1" ||
		!got.UpdatedAt.Equal(at.Truncate(time.Millisecond)) || got.Official {
		t.Errorf("round trip = %+v", got)
	}
	if list[0].UpdatedAt.IsZero() {
		t.Error("Put stamps UpdatedAt when it is not given")
	}
	if all, _ := store.List(ctx, Date{}, Date{}); len(all) != 3 || !all[2].Official {
		t.Errorf("List(all) = %+v", all)
	}
	if from, _ := store.List(ctx, d("2026-11-23"), Date{}); len(from) != 2 {
		t.Errorf("List(from 11-23, open end) = %+v", from)
	}

	// Put replaces; Delete removes; Reload picks both up.
	if err := cal.Put(ctx, Override{Date: d("2026-11-24"), Kind: KindWorkday, Name: "恢复办公"}); err != nil {
		t.Fatal(err)
	}
	if !cal.IsWorkday(d("2026-11-24")) {
		t.Error("replaced override not in force")
	}
	if err := store.Delete(ctx, d("2026-11-22")); err != nil {
		t.Fatal(err)
	}
	if cal.IsWorkday(d("2026-11-22")) != true {
		t.Error("before Reload the calendar still has the old overrides")
	}
	if err := cal.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if cal.IsWorkday(d("2026-11-22")) {
		t.Error("after Delete and Reload, Sunday 2026-11-22 is a day off again")
	}
	if err := store.Delete(ctx, d("2026-11-22")); !errors.Is(err, ErrOverrideNotFound) {
		t.Errorf("Delete of a missing override = %v, want ErrOverrideNotFound", err)
	}
	if err := store.Put(ctx, Override{Date: d("2026-11-25"), Kind: "closed", Name: "x"}); !errors.Is(err, ErrInvalidOverride) {
		t.Errorf("invalid Put = %v", err)
	}
}

// A document that Put could not have written fails the load loudly instead
// of silently moving deadlines.
func TestMongoStoreRejectsBadDocuments(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	if _, err := db.Collection("calendar_overrides").InsertOne(ctx, bson.M{"_id": "2026-13-01", "kind": "holiday", "name": "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewCalendar(ctx, NewMongoStore(db)); !errors.Is(err, ErrInvalidDate) {
		t.Errorf("NewCalendar over a bad document = %v, want ErrInvalidDate", err)
	}
}
