package bff_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/bff"
	"zwfw/booking"
	"zwfw/identity"
	"zwfw/pii"
	sbprovince "zwfw/sandbox/province"
)

// bookableItem picks a sandbox item that can be booked at hall.
func bookableItem(t testing.TB, fake *sbprovince.Server, hall string) string {
	for _, it := range fake.Items() {
		for _, h := range it.Halls {
			if it.Bookable && h.ID == hall {
				return it.Code
			}
		}
	}
	t.Fatalf("no bookable item at %s", hall)
	return ""
}

func (s *server) admin() string {
	s.t.Helper()
	if _, err := s.app.Identity().CreateStaff(s.t.Context(), "admin09", "管理员", "Admin-pass-2026", []identity.Role{identity.RoleAdmin}); err != nil {
		s.t.Fatal(err)
	}
	return s.loginStaff("admin09", "Admin-pass-2026")
}

func (s *server) configureHall(admin, hall, item string, capacity int) {
	s.t.Helper()
	r := s.request("PUT", "/api/v1/admin/halls/"+hall+"/config", admin, map[string]any{
		"name": "鼓楼区政务服务中心", "windows": []map[string]any{{"id": "w1", "name": "1号窗口", "item_codes": []string{item}, "per_slot_capacity": capacity}},
	})
	if r.Status != 200 {
		s.t.Fatalf("hall config: %d %s", r.Status, r.Body)
	}
}

type slotJSON struct {
	Start     string `json:"start"`
	Capacity  int    `json:"capacity"`
	Remaining int    `json:"remaining"`
	Bookable  bool   `json:"bookable"`
}

func (s *server) slots(hall, item, from string, days int) []slotJSON {
	s.t.Helper()
	r := s.request("GET", fmt.Sprintf("/api/v1/halls/%s/slots?item_code=%s&from=%s&days=%d", hall, item, from, days), "", nil)
	if r.Status != 200 {
		s.t.Fatalf("slots: %d %s", r.Status, r.Body)
	}
	var v struct {
		Slots []slotJSON `json:"slots"`
	}
	r.JSON(s.t, &v)
	return v.Slots
}

func bookable(t testing.TB, slots []slotJSON, n int) []slotJSON {
	var out []slotJSON
	for _, sl := range slots {
		if sl.Bookable && len(out) < n {
			out = append(out, sl)
		}
	}
	if len(out) < n {
		t.Fatalf("fewer than %d bookable slots in %d", n, len(slots))
	}
	return out
}

func TestBookingJourney(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	admin := s.admin()
	item := bookableItem(t, fake, "fz-gl")
	s.configureHall(admin, "fz-gl", item, 2)

	r := s.request("GET", "/api/v1/halls?item_code="+item+"&near=26.0851,119.2892", "", nil)
	if r.Status != 200 || !strings.HasPrefix(strings.SplitN(string(r.Body), `"id":"`, 2)[1], "fz-gl") {
		t.Fatalf("nearest hall: %d %s", r.Status, r.Body)
	}
	wantError(t, s.request("GET", "/api/v1/halls?near=north", "", nil), 400, "REQUEST_INVALID")

	// The official 2026 schedule: no slots in the National Day holiday, slots on the make-up Saturday.
	days := map[string]int{}
	for _, sl := range s.slots("fz-gl", item, "2026-10-01", 10) {
		days[sl.Start[:10]]++
	}
	if days["2026-10-01"] != 0 || days["2026-10-07"] != 0 || days["2026-10-10"] == 0 || days["2026-10-11"] != 0 {
		t.Fatalf("slots per day around National Day: %v", days)
	}
	wantError(t, s.request("GET", "/api/v1/halls/fz-gl/slots?item_code="+item+"&days=30", "", nil), 400, "REQUEST_INVALID")

	me, _ := s.verifiedCitizen("booker")
	free := bookable(t, s.slots("fz-gl", item, time.Now().Format("2006-01-02"), 7), 2)
	book := map[string]string{"hall_id": "fz-gl", "item_code": item, "slot_start": free[0].Start}
	wantError(t, s.request("POST", "/api/v1/bookings", me.Access, book), 400, "IDEMPOTENCY_KEY_REQUIRED")
	r = s.request("POST", "/api/v1/bookings", me.Access, book, "Idempotency-Key", "book-0001")
	if r.Status != 201 || r.M(t)["check_in_code"] == nil {
		t.Fatalf("book: %d %s", r.Status, r.Body)
	}
	id := r.M(t)["id"].(string)
	first := r.Body
	r = s.request("POST", "/api/v1/bookings", me.Access, book, "Idempotency-Key", "book-0001")
	if r.Status != 201 || string(r.Body) != string(first) || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry with the same key: %d %s", r.Status, r.Body)
	}
	other := map[string]string{"hall_id": "fz-gl", "item_code": item, "slot_start": free[1].Start}
	wantError(t, s.request("POST", "/api/v1/bookings", me.Access, other, "Idempotency-Key", "book-0001"), 422, "IDEMPOTENCY_KEY_REUSED")
	wantError(t, s.request("POST", "/api/v1/bookings", me.Access, book, "Idempotency-Key", "book-0002"), 409, "BOOKING_DUPLICATE_ITEM")
	stranger := s.loginWeChat("not-verified")
	wantError(t, s.request("POST", "/api/v1/bookings", stranger.Access, book, "Idempotency-Key", "book-0003"), 403, "BOOKING_REALNAME_REQUIRED")

	if sl := s.slots("fz-gl", item, free[0].Start[:10], 1); sl[indexOf(sl, free[0].Start)].Remaining != 1 {
		t.Fatalf("remaining after one booking: %v", sl)
	}
	move := map[string]string{"slot_start": free[1].Start}
	wantError(t, s.request("POST", "/api/v1/bookings/"+id+"/reschedule", me.Access, move), 400, "IDEMPOTENCY_KEY_REQUIRED")
	r = s.request("POST", "/api/v1/bookings/"+id+"/reschedule", me.Access, move, "Idempotency-Key", "move-0001")
	if r.Status != 200 || !strings.Contains(string(r.Body), free[1].Start[:16]) {
		t.Fatalf("reschedule: %d %s", r.Status, r.Body)
	}
	r = s.request("GET", "/api/v1/bookings", me.Access, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), id) {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	code := s.request("GET", "/api/v1/bookings/"+id, me.Access, nil).M(t)["check_in_code"].(string)

	// The clerk of another hall cannot check this citizen in.
	clerk, err := s.app.Identity().CreateStaff(t.Context(), "hall77", "窗口", "Window-pass-2026", []identity.Role{identity.RoleStaff})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Identity().AssignHalls(t.Context(), clerk.ID, []string{"fz-tj"}); err != nil {
		t.Fatal(err)
	}
	ctoken := s.loginStaff("hall77", "Window-pass-2026")
	r = s.request("POST", "/api/v1/staff/bookings/checkin", ctoken, map[string]string{"code": code})
	wantError(t, r, 403, "BOOKING_CHECKIN_WRONG_HALL")

	wantError(t, s.request("POST", "/api/v1/bookings/"+id+"/reschedule", me.Access, move, "Idempotency-Key", "move-0002"), 409, "BOOKING_STATE_CONFLICT")
	r = s.request("POST", "/api/v1/bookings/"+id+"/cancel", me.Access, nil, "Idempotency-Key", "cancel-0001")
	if r.Status != 200 || r.M(t)["status"] != "cancelled" {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if sl := s.slots("fz-gl", item, free[1].Start[:10], 1); sl[indexOf(sl, free[1].Start)].Remaining != 2 {
		t.Fatal("the cancelled place did not return to the slot")
	}

	// Admin: a closure removes the hall's days; the calendar shows where the official schedule ends.
	day := free[0].Start[:10]
	r = s.request("POST", "/api/v1/admin/halls/fz-gl/closures", admin, map[string]string{"from": day, "to": day, "reason": "设备检修"})
	if r.Status != 200 {
		t.Fatalf("closure: %d %s", r.Status, r.Body)
	}
	if sl := s.slots("fz-gl", item, day, 1); len(sl) != 0 {
		t.Fatalf("slots on a closed day: %v", sl)
	}
	r = s.request("GET", "/api/v1/admin/calendar?from=2026-11-01&to=2027-12-31", admin, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "2027") {
		t.Fatalf("calendar gaps: %d %s", r.Status, r.Body)
	}
	r = s.request("PUT", "/api/v1/admin/calendar/overrides/2027-01-01", admin, map[string]any{"kind": "holiday", "name": "元旦", "official": true})
	if r.Status != 200 || r.M(t)["workday"] != false {
		t.Fatalf("override: %d %s", r.Status, r.Body)
	}
	wantError(t, s.request("PUT", "/api/v1/admin/calendar/overrides/2027-13-01", admin, map[string]any{"kind": "holiday", "name": "x"}), 400, "WORKDAYS_DATE_INVALID")
	wantError(t, s.request("PUT", "/api/v1/admin/calendar/overrides/2027-01-02", me.Access, map[string]any{"kind": "holiday", "name": "x"}), 403, "AUTH_FORBIDDEN")
}

func indexOf(slots []slotJSON, start string) int {
	for i, s := range slots {
		if s.Start == start {
			return i
		}
	}
	return 0
}

// 500 citizens press "book" on one slot of capacity 10 at once, through the
// HTTP API: exactly 10 get it, and the counter equals the bookings stored.
func TestBookingContention(t *testing.T) {
	s := start(t, func(c *bff.Config) { c.RatePerIP, c.RateLoginIP = 1_000_000, 1_000_000 })
	// 500 requests queue up on 2 shared cores (the embedded store serializes
	// guarded writes): allow them time, this test is about counts, not speed.
	s.http.Timeout = 5 * time.Minute
	fake := s.app.Sandbox().ProvinceServer()
	item := bookableItem(t, fake, "fz-gl")
	s.configureHall(s.admin(), "fz-gl", item, 10)
	slot := bookable(t, s.slots("fz-gl", item, time.Now().Format("2006-01-02"), 7), 1)[0]

	const users = 500
	tokens := make([]string, users)
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < users; i = int(next.Add(1)) - 1 {
				tokens[i] = s.citizen(i)
			}
		}()
	}
	wg.Wait()

	var ok, full atomic.Int64
	var mu sync.Mutex
	winners := map[int]string{} // user index -> booking id
	start := make(chan struct{})
	for i := 0; i < users; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			r := s.request("POST", "/api/v1/bookings", tokens[i], map[string]string{"hall_id": "fz-gl", "item_code": item, "slot_start": slot.Start},
				"Idempotency-Key", fmt.Sprintf("rush-%04d", i))
			switch {
			case r.Status == 201:
				ok.Add(1)
				mu.Lock()
				winners[i] = r.M(t)["id"].(string)
				mu.Unlock()
			case r.Status == 409 && strings.Contains(string(r.Body), "BOOKING_SLOT_FULL"):
				full.Add(1)
			default:
				t.Errorf("booking %d: %d %s", i, r.Status, r.Body)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if ok.Load() != 10 || full.Load() != users-10 {
		t.Fatalf("%d booked, %d refused as full; want 10 and %d", ok.Load(), full.Load(), users-10)
	}
	s.assertSlotConsistent(item, slot.Start)

	// Interleaved: half the winners cancel, half move to another slot, while
	// 40 others keep trying the first slot. Counters must equal bookings.
	other := bookable(t, s.slots("fz-gl", item, time.Now().Format("2006-01-02"), 7), 2)[1]
	n := 0
	for i, id := range winners {
		wg.Add(1)
		go func(i int, id string, cancel bool) {
			defer wg.Done()
			var r *response
			if cancel {
				r = s.request("POST", "/api/v1/bookings/"+id+"/cancel", tokens[i], nil, "Idempotency-Key", "cancel-"+id)
			} else {
				r = s.request("POST", "/api/v1/bookings/"+id+"/reschedule", tokens[i], map[string]string{"slot_start": other.Start},
					"Idempotency-Key", "move-"+id)
			}
			if r.Status != 200 && !strings.Contains(string(r.Body), "BOOKING_SLOT_FULL") {
				t.Errorf("cancel or move %s: %d %s", id, r.Status, r.Body)
			}
		}(i, id, n%2 == 0)
		n++
	}
	tried := 0
	for i := 0; i < users && tried < 40; i++ {
		if _, won := winners[i]; won {
			continue
		}
		tried++
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := s.request("POST", "/api/v1/bookings", tokens[i], map[string]string{"hall_id": "fz-gl", "item_code": item, "slot_start": slot.Start},
				"Idempotency-Key", fmt.Sprintf("again-%04d", i))
			if r.Status != 201 && !strings.Contains(string(r.Body), "BOOKING_SLOT_FULL") {
				t.Errorf("second rush %d: %d %s", i, r.Status, r.Body)
			}
		}(i)
	}
	wg.Wait()
	s.assertSlotConsistent(item, slot.Start)
	s.assertSlotConsistent(item, other.Start)
}

// citizen makes the i-th real-name-verified user (the sandbox registry
// accepts any check-digit-valid ID number with a 2-4 character name).
func (s *server) citizen(i int) string {
	first17 := fmt.Sprintf("350102199001%02d%03d", i/1000+1, i%1000)
	check, _ := pii.IDNumberCheckChar(first17)
	me := s.loginWeChat(fmt.Sprintf("rush%04d", i))
	names := []rune("甲乙丙丁戊己庚辛壬癸")
	name := "测试" + string(names[i%10]) + string(names[(i/10)%10])
	r := s.request("POST", "/api/v1/me/realname", me.Access, map[string]string{"name": name, "id_number": first17 + string(check)})
	if r.Status != 200 {
		s.t.Errorf("realname %d: %d %s", i, r.Status, r.Body)
	}
	return me.Access
}

// assertSlotConsistent checks MongoDB: the slot's counter equals the
// bookings that hold a place in it.
func (s *server) assertSlotConsistent(item, start string) {
	s.t.Helper()
	at, _ := time.Parse(time.RFC3339, start)
	ctx := s.t.Context()
	n, err := s.app.DB().Collection("bookings").CountDocuments(ctx, bson.M{"hall_id": "fz-gl", "item_code": item,
		"slot_start": at.UTC(), "status": bson.M{"$in": []string{"confirmed", "checked_in", "no_show"}}})
	if err != nil {
		s.t.Fatal(err)
	}
	var counter struct {
		Taken int64 `bson:"taken"`
	}
	id := booking.SlotCounterID("fz-gl", item, at)
	if err := s.app.DB().Collection("slot_counters").FindOne(ctx, bson.M{"_id": id}).Decode(&counter); err != nil {
		s.t.Fatalf("counter %s: %v", id, err)
	}
	if counter.Taken != n {
		s.t.Fatalf("slot counter says %d taken, the store holds %d bookings", counter.Taken, n)
	}
}
