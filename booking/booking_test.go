package booking

import (
	"context"
	"testing"
	"time"

	"zwfw/apperr"
	"zwfw/platform/workdays"
)

func TestStateMachine(t *testing.T) {
	cases := []struct {
		from, to Status
		ok       bool
	}{
		{StatusConfirmed, StatusCancelled, true},
		{StatusConfirmed, StatusCheckedIn, true},
		{StatusConfirmed, StatusNoShow, true},
		{StatusConfirmed, StatusConfirmed, true}, // reschedule
		{StatusCancelled, StatusConfirmed, false},
		{StatusCheckedIn, StatusNoShow, false},
		{StatusNoShow, StatusCheckedIn, false},
		{StatusCancelled, StatusCancelled, false},
	}
	for _, c := range cases {
		if got := c.from.CanMoveTo(c.to); got != c.ok {
			t.Errorf("%s -> %s: %v, want %v", c.from, c.to, got, c.ok)
		}
	}
	for _, s := range []Status{StatusCancelled, StatusCheckedIn, StatusNoShow} {
		if !s.Final() || s.Label() == string(s) {
			t.Errorf("%s: final=%v label=%q", s, s.Final(), s.Label())
		}
	}
	if Status("$ne").Valid() || StatusConfirmed.Final() {
		t.Error("bad Valid/Final")
	}
}

func TestBanUntil(t *testing.T) {
	r := DefaultRules
	d := func(n int) time.Time { return time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
	cases := []struct {
		name  string
		shows []time.Time
		want  time.Time
	}{
		{"none", nil, time.Time{}},
		{"two", []time.Time{d(0), d(10)}, time.Time{}},
		{"three within 90 days", []time.Time{d(0), d(10), d(80)}, d(80 + 30)},
		{"three spread over more than 90 days", []time.Time{d(0), d(50), d(95)}, time.Time{}},
		{"unsorted input", []time.Time{d(80), d(0), d(10)}, d(110)},
		{"a later run extends the ban", []time.Time{d(0), d(1), d(2), d(60)}, d(90)},
	}
	for _, c := range cases {
		if got := r.BanUntil(c.shows); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestHallConfigValidate(t *testing.T) {
	bad := []HallConfig{
		{ID: ""},
		{ID: "h:1"},
		{ID: "h1", Windows: []Window{{ID: "w", PerSlotCapacity: 0}}},
		{ID: "h1", Windows: []Window{{ID: "w", PerSlotCapacity: 1}, {ID: "w", PerSlotCapacity: 1}}},
		{ID: "h1", Sessions: []Session{{Start: "9:00", End: "11:00"}}},
		{ID: "h1", Sessions: []Session{{Start: "13:00", End: "12:00"}}},
		{ID: "h1", Sessions: []Session{{Start: "09:00", End: "12:00"}, {Start: "11:00", End: "13:00"}}},
		{ID: "h1", SlotMinutes: 1},
		{ID: "h1", Closures: []Closure{{From: workdays.MustParseDate("2026-02-02"), To: workdays.MustParseDate("2026-02-01")}}},
	}
	for i, c := range bad {
		c.normalize()
		if err := c.Validate(); apperr.From(err).Code != ErrInvalidConfig.Code {
			t.Errorf("case %d: %v", i, err)
		}
	}
	good := testHall()
	good.normalize()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if good.Capacity("A") != 10 || good.Capacity("B") != 4 || good.Capacity("X") != 0 {
		t.Errorf("capacity A=%d B=%d X=%d", good.Capacity("A"), good.Capacity("B"), good.Capacity("X"))
	}
}

func TestSlots(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	if _, err := e.svc.AddClosure(ctx, "h1", Closure{
		From: workdays.MustParseDate("2026-11-10"), To: workdays.MustParseDate("2026-11-11"), Reason: "大厅装修",
	}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		date  string
		item  string
		slots int
		cap   int
	}{
		{"national day 2026 (statutory holiday)", "2026-10-01", "A", 0, 0},
		{"make-up workday Saturday 2026-10-10", "2026-10-10", "A", 12, 10},
		{"ordinary Saturday", "2026-11-07", "A", 0, 0},
		{"ordinary Monday, two windows", "2026-11-09", "A", 12, 10},
		{"ordinary Monday, one window", "2026-11-09", "B", 12, 4},
		{"closure first day", "2026-11-10", "A", 0, 0},
		{"closure last day", "2026-11-11", "A", 0, 0},
		{"after the closure", "2026-11-12", "A", 12, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			views, err := e.svc.Slots(ctx, "h1", c.item, workdays.MustParseDate(c.date), 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(views) != c.slots {
				t.Fatalf("%d slots, want %d", len(views), c.slots)
			}
			for _, v := range views {
				if v.Capacity != c.cap || v.Remaining != c.cap || v.End.Sub(v.Start) != 30*time.Minute {
					t.Errorf("%+v", v)
				}
			}
			if c.slots > 0 {
				first, last := views[0].Start.In(workdays.Location), views[len(views)-1].End.In(workdays.Location)
				if first.Format("15:04") != "09:00" || last.Format("15:04") != "17:00" {
					t.Errorf("day runs %s-%s", first.Format("15:04"), last.Format("15:04"))
				}
			}
		})
	}
	// Bookable follows the window: now is 11-02 08:00, so slots open up to 2026-11-09 (7 days ahead) and close 1h before their start.
	views, err := e.svc.Slots(ctx, "h1", "A", workdays.MustParseDate("2026-11-02"), 14)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		d := workdays.DateOf(v.Start)
		open := !d.After(workdays.MustParseDate("2026-11-09")) && v.Start.After(e.clock.Now().Add(time.Hour))
		if v.Bookable != open {
			t.Errorf("%s bookable=%v, want %v", v.Start.In(workdays.Location), v.Bookable, open)
		}
	}
	if _, err := e.svc.Slots(ctx, "h1", "X", workdays.MustParseDate("2026-11-09"), 1); err == nil {
		t.Fatal("an item no window serves has slots")
	} else {
		wantCode(t, err, ErrItemNotServed)
	}
	_, err = e.svc.Slots(ctx, "h1", "A", workdays.MustParseDate("2026-11-09"), 15)
	wantCode(t, err, apperr.InvalidInput)
	_, err = e.svc.Slots(ctx, "nope", "A", workdays.MustParseDate("2026-11-09"), 1)
	wantCode(t, err, ErrHallNotFound)
	_, err = e.book("u1", "X", at("2026-11-04", "09:00"))
	wantCode(t, err, ErrItemNotServed)
}
