package console_test

import (
	"context"
	"testing"
	"time"

	"zwfw/booking"
	"zwfw/console"
	"zwfw/platform/testenv"
	"zwfw/platform/workdays"
)

func dayBooking(id string, at time.Time, status booking.Status, version int64) *booking.Booking {
	return &booking.Booking{ID: id, Number: "YY" + id, UserID: "u_" + id, CheckInCode: "SECRET" + id, HallID: "fz-gl",
		ItemCode: "I1", SlotStart: at.UTC(), SlotEnd: at.Add(30 * time.Minute).UTC(), Status: status, Version: version}
}

// The hall day cache returns what was put, in slot order, without owners
// or check-in codes; a newer state written by the console replaces the
// cached one, an older one (a slow Put after a check-in) never does; a
// day nobody cached stays uncached.
func TestRedisDayCache(t *testing.T) {
	rdb, keys := testenv.Redis(t)
	ctx := context.Background()
	cache := console.NewRedisDayCache(rdb, keys, time.Minute, testenv.QuietLogger())
	day := workdays.MustParseDate("2026-12-08")
	nine, ten := day.Start().Add(9*time.Hour), day.Start().Add(10*time.Hour)

	if _, ok := cache.Get(ctx, "fz-gl", day); ok {
		t.Fatal("a day nobody cached is a hit")
	}
	cache.Update(ctx, dayBooking("b2", ten, booking.StatusCheckedIn, 2))
	if _, ok := cache.Get(ctx, "fz-gl", day); ok {
		t.Fatal("an update made a partial day look complete")
	}

	cache.Put(ctx, "fz-gl", day, []*booking.Booking{dayBooking("b2", ten, booking.StatusConfirmed, 1), dayBooking("b1", nine, booking.StatusConfirmed, 1)})
	got, ok := cache.Get(ctx, "fz-gl", day)
	if !ok || len(got) != 2 || got[0].ID != "b1" || got[1].ID != "b2" || got[1].Status != booking.StatusConfirmed {
		t.Fatalf("cached day = %+v, %v", got, ok)
	}
	if got[0].UserID != "" || got[0].CheckInCode != "" || got[0].Number != "YYb1" || !got[0].SlotStart.Equal(nine) {
		t.Fatalf("cached row = %+v", got[0])
	}

	checked := dayBooking("b2", ten, booking.StatusCheckedIn, 2)
	checked.QueueNumber = 7
	cache.Update(ctx, checked)
	cache.Put(ctx, "fz-gl", day, []*booking.Booking{dayBooking("b2", ten, booking.StatusConfirmed, 1)}) // read before the check-in
	cache.Update(ctx, dayBooking("b2", ten, booking.StatusConfirmed, 1))
	got, _ = cache.Get(ctx, "fz-gl", day)
	if len(got) != 2 || got[1].Status != booking.StatusCheckedIn || got[1].QueueNumber != 7 || got[1].Version != 2 {
		t.Fatalf("after a check-in and a stale put: %+v", got[1])
	}

	cache.Put(ctx, "fz-gl", day.AddDays(1), nil)
	if empty, ok := cache.Get(ctx, "fz-gl", day.AddDays(1)); !ok || len(empty) != 0 {
		t.Fatalf("an empty day: %v, %v", empty, ok)
	}
	if ttl := rdb.PTTL(ctx, keys.Key("console", "hallday", "fz-gl", day.String())).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("the cached day lives %s", ttl)
	}
}
