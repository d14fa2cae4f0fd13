package booking

import (
	"context"
	"errors"
	"testing"

	"zwfw/apperr"
	"zwfw/platform/workdays"
)

// A hall's day on the clerks' screen: every booking of that hall whose
// slot is on that day, whatever its status, in slot order; other days and
// other halls are not on it.
func TestHallDayListsOneHallsDayInSlotOrder(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	other := testHall()
	other.ID, other.Name = "h2", "分中心"
	if _, err := e.svc.PutHallConfig(ctx, other); err != nil {
		t.Fatal(err)
	}
	late := e.mustBook("u1", "A", at("2026-11-03", "14:00"))
	early := e.mustBook("u2", "A", at("2026-11-03", "09:00"))
	cancelled := e.mustBook("u3", "B", at("2026-11-03", "10:00"))
	if _, err := e.svc.Cancel(ctx, "u3", cancelled.ID); err != nil {
		t.Fatal(err)
	}
	e.mustBook("u4", "A", at("2026-11-04", "09:00")) // the next day
	if _, err := e.svc.Book(ctx, "u5", BookRequest{HallID: "h2", ItemCode: "A", SlotStart: at("2026-11-03", "09:00")}); err != nil {
		t.Fatal(err)
	}

	list, err := e.svc.HallDay(ctx, "h1", workdays.MustParseDate("2026-11-03"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range list {
		got = append(got, b.ID)
	}
	want := []string{early.ID, cancelled.ID, late.ID}
	if len(got) != len(want) {
		t.Fatalf("hall day = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hall day = %v, want %v", got, want)
		}
	}
	if list[1].Status != StatusCancelled {
		t.Fatalf("the cancelled booking shows as %s", list[1].Status)
	}

	empty, err := e.svc.HallDay(ctx, "h1", workdays.MustParseDate("2026-11-05"))
	if err != nil || len(empty) != 0 {
		t.Fatalf("a day without bookings: %v, %v", empty, err)
	}
}

func TestHallDayRefusesBadInput(t *testing.T) {
	e := newEnv(t, Rules{})
	for _, c := range []struct {
		hall string
		day  workdays.Date
	}{
		{"", workdays.MustParseDate("2026-11-03")},
		{`{"$ne":1}`, workdays.MustParseDate("2026-11-03")},
		{"h1", workdays.Date{}},
	} {
		_, err := e.svc.HallDay(context.Background(), c.hall, c.day)
		if !errors.Is(err, apperr.InvalidInput) {
			t.Errorf("HallDay(%q, %v) = %v, want REQUEST_INVALID", c.hall, c.day, err)
		}
	}
}
