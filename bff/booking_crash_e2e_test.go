package bff_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/bff"
	"zwfw/booking"
	"zwfw/platform/testenv"
)

// zwfw stops between storing a booking and relaying its event (the relay
// is off, then the process shuts down): the event waits in the booking
// document. The next process relays it at start, once, and the citizen's
// confirmation reminder arrives once.
func TestBookingEventSurvivesACrashBeforeTheRelay(t *testing.T) {
	var cfg bff.Config
	s := start(t, func(c *bff.Config) { c.OutboxRelayOff = true; cfg = *c })
	fake := s.app.Sandbox().ProvinceServer()
	item := bookableItem(t, fake, "fz-gl")
	s.configureHall(s.admin(), "fz-gl", item, 2)
	me, _ := s.verifiedCitizen("crash-booker")
	free := bookable(t, s.slots("fz-gl", item, time.Now().Format("2006-01-02"), 7), 1)
	r := s.request("POST", "/api/v1/bookings", me.Access, map[string]string{"hall_id": "fz-gl", "item_code": item, "slot_start": free[0].Start},
		"Idempotency-Key", "crash-0001")
	if r.Status != 201 {
		t.Fatalf("book: %d %s", r.Status, r.Body)
	}
	id := r.M(t)["id"].(string)
	ctx := context.Background()
	var doc struct {
		Outbox []bson.M `bson:"outbox"`
	}
	if err := s.app.DB().Collection(booking.BookingsCollection).FindOne(ctx, bson.M{"_id": id}).Decode(&doc); err != nil || len(doc.Outbox) != 1 {
		t.Fatalf("outbox of the stored booking: %v, %v", doc.Outbox, err)
	}
	if list, _ := s.app.Events().ReadSubject(ctx, "booking:"+id, 0, 10); len(list) != 0 {
		t.Fatalf("%d events relayed with the relay off", len(list))
	}
	shutdownCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.app.Shutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}

	cfg.OutboxRelayOff = false
	s = launch(t, cfg)
	s.waitBookingEvents(id, map[string]int{booking.EventConfirmed: 1})
	reminders := func() int {
		var inbox struct {
			Items []struct {
				Rule string `json:"rule"`
			} `json:"items"`
		}
		s.request("GET", "/api/v1/me/notifications", me.Access, nil).JSON(t, &inbox)
		n := 0
		for _, it := range inbox.Items {
			if it.Rule == "booking.confirmed" {
				n++
			}
		}
		return n
	}
	testenv.WaitFor(t, "the booking's confirmation in the inbox", func() bool { return reminders() > 0 })
	time.Sleep(300 * time.Millisecond) // a duplicate, if any, would arrive by now
	if n := reminders(); n != 1 {
		t.Fatalf("%d confirmation reminders", n)
	}
	if err := s.app.DB().Collection(booking.BookingsCollection).FindOne(ctx, bson.M{"_id": id}).Decode(&doc); err != nil || len(doc.Outbox) != 0 {
		t.Fatalf("outbox after the relay: %v, %v", doc.Outbox, err)
	}
}
