package bff_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/booking"
)

// bookingChecks runs the self-checks as an admin and returns what the
// booking checks found: "check subject" -> repaired.
func (s *server) bookingChecks(admin, query string) map[string]bool {
	s.t.Helper()
	r := s.request("POST", "/api/v1/admin/invariants/run"+query, admin, nil)
	if r.Status != 200 {
		s.t.Fatalf("self-check: %d %s", r.Status, r.Body)
	}
	var rep struct {
		Results []struct {
			Check    string `json:"check"`
			Error    string `json:"error"`
			Findings []struct {
				Subject  string `json:"subject"`
				Problem  string `json:"problem"`
				Repaired bool   `json:"repaired"`
				Action   string `json:"action"`
			} `json:"findings"`
		} `json:"results"`
	}
	r.JSON(s.t, &rep)
	found := map[string]bool{}
	checks := 0
	for _, res := range rep.Results {
		if !strings.HasPrefix(res.Check, "booking.") {
			continue
		}
		checks++
		if res.Error != "" {
			s.t.Fatalf("%s: %s", res.Check, res.Error)
		}
		for _, f := range res.Findings {
			if f.Problem == "" || (f.Repaired && f.Action == "") {
				s.t.Fatalf("a finding without its problem or action: %+v", f)
			}
			found[res.Check+" "+f.Subject] = f.Repaired
		}
	}
	if checks != 4 { // slot_taken, user_active, active_items, no_shows
		s.t.Fatalf("%d booking checks in the report: %s", checks, r.Body)
	}
	return found
}

// What a crash between a booking's steps leaves behind, written straight
// into MongoDB an hour ago (a slot counter and a user's count one place
// over, a confirmed booking without its active-item key, a key of a
// booking that was never written): the admin self-check reports each,
// repairs each, and the next run finds nothing.
func TestBookingDriftIsRepaired(t *testing.T) {
	s := start(t)
	admin := s.admin()
	fake := s.app.Sandbox().ProvinceServer()
	item := bookableItem(t, fake, "fz-gl")
	s.configureHall(admin, "fz-gl", item, 2)
	slot := bookable(t, s.slots("fz-gl", item, time.Now().Format("2006-01-02"), 7), 1)[0]
	start, _ := time.Parse(time.RFC3339, slot.Start)
	start = start.UTC()
	ctx := t.Context()
	db := s.app.DB()
	hourAgo := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	oldID := func(suffix string) string { return fmt.Sprintf("b_%012x%s", hourAgo.UnixMilli(), suffix) }

	user := "u_drift"
	b := booking.Booking{ID: oldID("0000000000b1"), Number: "YY20260101000001", UserID: user, HallID: "fz-gl", ItemCode: item,
		SlotStart: start, SlotEnd: start.Add(30 * time.Minute), Status: booking.StatusConfirmed,
		CheckInCode: strings.Repeat("A", 32), Version: 1, CreatedAt: hourAgo, UpdatedAt: hourAgo,
		Timeline: []booking.Entry{{At: hourAgo, Status: booking.StatusConfirmed, Actor: "user", SlotStart: start}}}
	if _, err := db.Collection(booking.BookingsCollection).InsertOne(ctx, b); err != nil {
		t.Fatal(err)
	}
	counter := booking.SlotCounterID("fz-gl", item, start)
	for coll, doc := range map[string]bson.D{
		booking.SlotCountersCollection: {{Key: "_id", Value: counter}, {Key: "hall_id", Value: "fz-gl"}, {Key: "item_code", Value: item},
			{Key: "start", Value: start}, {Key: "end", Value: b.SlotEnd}, {Key: "capacity", Value: 2}, {Key: "taken", Value: 2}, {Key: "changed_at", Value: hourAgo}},
		booking.UsersCollection: {{Key: "_id", Value: "user:" + user}, {Key: "active", Value: 2}, {Key: "changed_at", Value: hourAgo},
			{Key: "items", Value: bson.D{{Key: "other-item", Value: oldID("00000000dead")}}}},
	} {
		if _, err := db.Collection(coll).InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}

	want := map[string]bool{
		booking.CheckSlotTaken + " " + counter:                       true,
		booking.CheckUserActive + " user:" + user:                    true,
		booking.CheckActiveItems + " active:" + user + ":" + item:    true,
		booking.CheckActiveItems + " active:" + user + ":other-item": true,
	}
	for _, c := range []struct {
		query    string
		repaired bool
	}{{"?repair=false", false}, {"", true}} {
		got := s.bookingChecks(admin, c.query)
		if len(got) != len(want) {
			t.Fatalf("repair %v: found %v, want %v", c.repaired, got, want)
		}
		for k := range want {
			if r, ok := got[k]; !ok || r != c.repaired {
				t.Fatalf("repair %v: found %v, want %v", c.repaired, got, want)
			}
		}
	}
	if got := s.bookingChecks(admin, ""); len(got) != 0 {
		t.Fatalf("second run found %v", got)
	}
	s.assertBookingCounters(user, item, slot.Start)
	if sl := s.slots("fz-gl", item, slot.Start[:10], 1); sl[indexOf(sl, slot.Start)].Remaining != 1 {
		t.Fatalf("after the repair the slot shows %d places left, want 1", sl[indexOf(sl, slot.Start)].Remaining)
	}
}
