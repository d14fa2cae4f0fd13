package bff_test

import (
	"sync"
	"testing"
	"time"

	"zwfw/bff"
	"zwfw/identity"
)

// bookingClock is the booking service's clock in a test: the wall clock
// until set (a hall's working day is pinned to check a citizen in).
type bookingClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *bookingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now()
	}
	return c.at
}

func (c *bookingClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = t
}

// On the booking's day, a clerk of its hall checks the citizen in by the
// code of their QR and gets a queue number (the day before, the code is
// refused); scanning it again shows the same number.
func TestHallClerkChecksACitizenIn(t *testing.T) {
	clk := &bookingClock{}
	s := start(t, func(c *bff.Config) { c.BookingClock = clk.Now })
	fake := s.app.Sandbox().ProvinceServer()
	admin := s.admin()
	item := bookableItem(t, fake, "fz-gl")
	s.configureHall(admin, "fz-gl", item, 2)
	me, _ := s.verifiedCitizen("visitor")
	slot := bookable(t, s.slots("fz-gl", item, time.Now().Format("2006-01-02"), 7), 1)[0]
	r := s.request("POST", "/api/v1/bookings", me.Access, map[string]string{"hall_id": "fz-gl", "item_code": item, "slot_start": slot.Start},
		"Idempotency-Key", "visit-0001")
	if r.Status != 201 {
		t.Fatalf("book: %d %s", r.Status, r.Body)
	}
	b := r.M(t)
	clerk, err := s.app.Identity().CreateStaff(t.Context(), "hall55", "窗口", "Window-pass-2026", []identity.Role{identity.RoleStaff})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Identity().AssignHalls(t.Context(), clerk.ID, []string{"fz-gl"}); err != nil {
		t.Fatal(err)
	}
	token := s.loginStaff("hall55", "Window-pass-2026")
	code := b["check_in_code"].(string)
	start, err := time.Parse(time.RFC3339, slot.Start)
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(start.Add(-24 * time.Hour))
	wantError(t, s.request("POST", "/api/v1/staff/bookings/checkin", token, map[string]string{"code": code}), 409, "BOOKING_CHECKIN_WRONG_DAY")

	clk.Set(start.Add(-15 * time.Minute))
	r = s.request("POST", "/api/v1/staff/bookings/checkin", token, map[string]string{"code": code})
	if r.Status != 200 || r.M(t)["id"] != b["id"] || r.M(t)["queue_number"] == nil {
		t.Fatalf("check-in on the day: %d %s", r.Status, r.Body)
	}
	// A second scan (the citizen shows the QR again) gives the same number,
	// and the booking is checked in once.
	r = s.request("POST", "/api/v1/staff/bookings/checkin", token, map[string]string{"code": code})
	if r.Status != 200 || r.M(t)["queue_number"].(float64) != 1 || len(r.M(t)["timeline"].([]any)) != 2 {
		t.Fatalf("the same code twice: %d %s", r.Status, r.Body)
	}
}
