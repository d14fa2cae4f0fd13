package bff_test

import (
	"strings"
	"testing"
	"time"

	"zwfw/platform/testenv"
	sbprovince "zwfw/sandbox/province"
)

// A booking is answered with its hall's and item's names, and its
// confirmation says to bring the required materials, not the optional ones.
func TestBookingNamesAndWhatToBring(t *testing.T) {
	s := start(t, fastCallbacks)
	fake := s.app.Sandbox().ProvinceServer()
	var g sbprovince.Guide
	for _, it := range fake.Items() {
		atHall := false
		for _, h := range it.Halls {
			atHall = atHall || h.ID == "fz-gl"
		}
		optional := 0
		for _, m := range it.Materials {
			if !m.Required {
				optional++
			}
		}
		if it.Bookable && atHall && optional > 0 && optional < len(it.Materials) {
			g = it
			break
		}
	}
	if g.Code == "" {
		t.Fatal("no bookable item at fz-gl with required and optional materials")
	}
	s.configureHall(s.admin(), "fz-gl", g.Code, 2)
	me, _ := s.verifiedCitizen("booker")
	if r := s.request("PUT", "/api/v1/me/notification-settings", me.Access, map[string]any{
		"channels": map[string][]string{}, "quiet_hours": map[string]any{"enabled": false, "start": "22:00", "end": "08:00"}}); r.Status != 200 {
		t.Fatalf("settings: %d %s", r.Status, r.Body)
	}
	free := bookable(t, s.slots("fz-gl", g.Code, time.Now().Format("2006-01-02"), 7), 1)
	r := s.request("POST", "/api/v1/bookings", me.Access, map[string]string{"hall_id": "fz-gl", "item_code": g.Code, "slot_start": free[0].Start},
		"Idempotency-Key", "names-1")
	if r.Status != 201 {
		t.Fatalf("book: %d %s", r.Status, r.Body)
	}
	b := r.M(t)
	if b["hall_name"] != "鼓楼区政务服务中心" || b["item_name"] != g.Name {
		t.Fatalf("booking answer names hall %v, item %v", b["hall_name"], b["item_name"])
	}
	id := b["id"].(string)
	for _, path := range []string{"/api/v1/bookings/" + id, "/api/v1/bookings"} {
		if body := string(s.request("GET", path, me.Access, nil).Body); !strings.Contains(body, `"hall_name":"鼓楼区政务服务中心"`) ||
			!strings.Contains(body, `"item_name":"`+g.Name+`"`) {
			t.Fatalf("%s: %s", path, body)
		}
	}

	var bodies []string
	testenv.WaitFor(t, "the booking confirmation", func() bool {
		bodies = s.inboxBodies(me.Access, "booking.confirmed")
		return len(bodies) == 1
	})
	text := bodies[0]
	if !strings.Contains(text, g.Name) || !strings.Contains(text, "鼓楼区政务服务中心") || !strings.Contains(text, "请携带") {
		t.Fatalf("confirmation %q", text)
	}
	for _, m := range g.Materials {
		if m.Required != strings.Contains(text, m.Name) {
			t.Errorf("confirmation %q: material %s (required %v)", text, m.Name, m.Required)
		}
	}
}
