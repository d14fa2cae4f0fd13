package bff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/bff"
	"zwfw/booking"
	"zwfw/platform/testenv"
)

// bookingTaps is how many copies of one booking write a phone sends at once.
const bookingTaps = 20

// tapVolley sends the same request once per key, all at the same moment,
// and returns the answers (each validated against the OpenAPI document).
func (s *server) tapVolley(method, path, token string, body any, keys []string) []*response {
	s.t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	out := make([]*response, len(keys))
	reqs := make([]*http.Request, len(keys))
	errs := make([]error, len(keys))
	for i, k := range keys {
		req, err := http.NewRequest(method, s.base+path, bytes.NewReader(raw))
		if err != nil {
			s.t.Fatal(err)
		}
		if raw != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", k)
		reqs[i] = req
	}
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			res, err := s.http.Do(reqs[i])
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			out[i] = &response{Status: res.StatusCode, Header: res.Header, Body: b}
		}()
	}
	close(ready)
	wg.Wait()
	for i := range reqs {
		if errs[i] != nil {
			s.t.Fatalf("copy %d: %v", i, errs[i])
		}
		s.validate(reqs[i], out[i])
	}
	return out
}

// tapKeys is n times the same key, or n different keys.
func tapKeys(prefix string, n int, same bool) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix
		if !same {
			out[i] = fmt.Sprintf("%s-%02d", prefix, i)
		}
	}
	return out
}

// tapOutcome checks a volley and returns its one first-hand success. Under
// one key: every success carries that answer byte for byte, the other
// copies were replayed or told the first is still running. Under different
// keys (a real double tap): one success, the rest refused with refusal.
func tapOutcome(t *testing.T, route string, answers []*response, sameKey bool, refusal string) *response {
	t.Helper()
	var winners, replayed []*response
	refused := map[string]int{}
	for _, r := range answers {
		switch {
		case r.Status/100 == 2 && r.Header.Get("Idempotent-Replayed") == "true":
			replayed = append(replayed, r)
		case r.Status/100 == 2:
			winners = append(winners, r)
		default:
			var e struct {
				Code string `json:"code"`
			}
			r.JSON(t, &e)
			refused[fmt.Sprintf("%d %s", r.Status, e.Code)]++
		}
	}
	n := 0
	for _, c := range refused {
		n += c
	}
	keys := "different keys"
	if sameKey {
		keys = "one key"
	}
	t.Logf("concurrency %s (%s): requests=%d winners=%d replayed=%d refused=%d %v",
		route, keys, len(answers), len(winners), len(replayed), n, refused)
	if len(winners) != 1 {
		t.Fatalf("%s (%s): %d first-hand successes, want 1 (refused %v)", route, keys, len(winners), refused)
	}
	allowed := []string{refusal}
	if sameKey {
		allowed = []string{"409 IDEMPOTENCY_KEY_IN_USE"}
		for _, r := range replayed {
			if r.Status != winners[0].Status || !bytes.Equal(r.Body, winners[0].Body) {
				t.Fatalf("%s: a replay differs from the first answer:\n%s\n%s", route, r.Body, winners[0].Body)
			}
		}
	} else if len(replayed) != 0 {
		t.Fatalf("%s: %d replays under different keys", route, len(replayed))
	}
	for code := range refused {
		if !slices.Contains(allowed, code) {
			t.Fatalf("%s (%s): a copy got %s, want %v", route, keys, code, allowed)
		}
	}
	return winners[0]
}

// Book, reschedule and cancel, each sent 20 times at once under one key and
// 20 times with a key per tap: each has exactly one effect, the copies get
// the first answer or a precise refusal, each change has one event, and the
// counters equal the bookings stored.
func TestBookingConcurrentDuplicates(t *testing.T) {
	s := start(t, func(c *bff.Config) { c.RatePerUser, c.RatePerIP = 1_000_000, 1_000_000 })
	fake := s.app.Sandbox().ProvinceServer()
	item := bookableItem(t, fake, "fz-gl")
	// Room for every copy in each slot: a refusal must come from the
	// booking's own rules, not from a full slot.
	s.configureHall(s.admin(), "fz-gl", item, 2*bookingTaps)
	free := bookable(t, s.slots("fz-gl", item, time.Now().Format("2006-01-02"), 7), 3)
	me, _ := s.verifiedCitizen("double-tapper")

	for round, same := range []bool{true, false} {
		prefix := fmt.Sprintf("r%d", round)
		answers := s.tapVolley("POST", "/api/v1/bookings", me.Access,
			map[string]string{"hall_id": "fz-gl", "item_code": item, "slot_start": free[0].Start}, tapKeys(prefix+"-book", bookingTaps, same))
		won := tapOutcome(t, "POST /bookings", answers, same, "409 BOOKING_DUPLICATE_ITEM")
		if won.Status != 201 {
			t.Fatalf("book: %d %s", won.Status, won.Body)
		}
		id := won.M(t)["id"].(string)
		s.assertBookingCounters(me.UserID, item, free[0].Start)

		to := free[1+round].Start
		answers = s.tapVolley("POST", "/api/v1/bookings/"+id+"/reschedule", me.Access,
			map[string]string{"slot_start": to}, tapKeys(prefix+"-move", bookingTaps, same))
		won = tapOutcome(t, "POST /bookings/{id}/reschedule", answers, same, "409 BOOKING_STATE_CONFLICT")
		if won.Status != 200 || won.M(t)["slot_start"] != to {
			t.Fatalf("reschedule: %d %s", won.Status, won.Body)
		}
		s.assertBookingCounters(me.UserID, item, free[0].Start, to)

		answers = s.tapVolley("POST", "/api/v1/bookings/"+id+"/cancel", me.Access, nil, tapKeys(prefix+"-cancel", bookingTaps, same))
		won = tapOutcome(t, "POST /bookings/{id}/cancel", answers, same, "409 BOOKING_STATE_CONFLICT")
		if won.Status != 200 || won.M(t)["status"] != "cancelled" {
			t.Fatalf("cancel: %d %s", won.Status, won.Body)
		}
		s.assertBookingCounters(me.UserID, item, free[0].Start, to)
		s.waitBookingEvents(id, map[string]int{booking.EventConfirmed: 1, booking.EventRescheduled: 1, booking.EventCancelled: 1})
	}
	n, err := s.app.DB().Collection(booking.BookingsCollection).CountDocuments(t.Context(), bson.M{"user_id": me.UserID})
	if err != nil || n != 2 {
		t.Fatalf("%d bookings stored for two rounds, %v", n, err)
	}
}

// assertBookingCounters checks MongoDB: each slot's counter equals the
// bookings holding a place in it, and the user's active count and
// active-item key equal their confirmed bookings.
func (s *server) assertBookingCounters(userID, item string, slots ...string) {
	s.t.Helper()
	for _, sl := range slots {
		s.assertSlotConsistent(item, sl)
	}
	ctx := s.t.Context()
	db := s.app.DB()
	cur, err := db.Collection(booking.BookingsCollection).Find(ctx, bson.M{"user_id": userID, "status": "confirmed"})
	if err != nil {
		s.t.Fatal(err)
	}
	var confirmed []booking.Booking
	if err := cur.All(ctx, &confirmed); err != nil {
		s.t.Fatal(err)
	}
	var u struct {
		Active int `bson:"active"`
	}
	if err := db.Collection(booking.UsersCollection).FindOne(ctx, bson.M{"_id": "user:" + userID}).Decode(&u); err != nil {
		s.t.Fatal(err)
	}
	if u.Active != len(confirmed) {
		s.t.Fatalf("active count %d, confirmed bookings %d", u.Active, len(confirmed))
	}
	holder, found, err := booking.NewMongoStore(db).ActiveItemHolder(ctx, userID, item)
	switch {
	case err != nil:
		s.t.Fatal(err)
	case len(confirmed) == 0 && found:
		s.t.Fatalf("active-item key names %s with no confirmed booking", holder)
	case len(confirmed) == 1 && holder != confirmed[0].ID:
		s.t.Fatalf("active-item key %q, confirmed booking %s", holder, confirmed[0].ID)
	case len(confirmed) > 1:
		s.t.Fatalf("%d confirmed bookings of one item", len(confirmed))
	}
}

// waitBookingEvents waits for the relay to append a booking's events and
// checks each type arrived exactly as often as want says.
func (s *server) waitBookingEvents(id string, want map[string]int) {
	s.t.Helper()
	total := 0
	for _, n := range want {
		total += n
	}
	count := func() map[string]int {
		list, err := s.app.Events().ReadSubject(context.Background(), "booking:"+id, 0, 100)
		if err != nil {
			s.t.Fatal(err)
		}
		got := map[string]int{}
		for _, e := range list {
			got[e.Type]++
		}
		return got
	}
	testenv.WaitFor(s.t, "the booking's events in the log", func() bool {
		n := 0
		for _, c := range count() {
			n += c
		}
		return n >= total
	})
	if got := count(); fmt.Sprint(got) != fmt.Sprint(want) {
		s.t.Fatalf("events of booking %s: %v, want %v", id, got, want)
	}
}
