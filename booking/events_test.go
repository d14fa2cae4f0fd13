package booking

import (
	"context"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Each event type, built the way the service builds it, decodes back into
// its payload struct, and carries the field names the log's consumers read.
func TestEventPayloadRoundTrip(t *testing.T) {
	now := at("2026-11-02", "08:00").UTC()
	b := &Booking{ID: "b_0000000000000123456789ab", Number: "YY20261102123456", UserID: "u1", HallID: "h1", ItemCode: "A",
		CaseID: "c1", SlotStart: s0930.UTC(), SlotEnd: s1000.UTC(), Status: StatusConfirmed, Version: 3}
	d := b.details()
	cases := []struct {
		typ     string
		payload any
		decoded any // a pointer to a zero payload of the same type
		fields  []string
	}{
		{EventConfirmed, Confirmed{d}, &Confirmed{}, nil},
		{EventCancelled, Cancelled{d}, &Cancelled{}, nil},
		{EventRescheduled, Rescheduled{Details: d, OldSlotStart: s0900.UTC()}, &Rescheduled{}, []string{"old_slot_start"}},
		{EventCheckedIn, CheckedIn{Details: d, QueueNumber: 7}, &CheckedIn{}, []string{"queue_number"}},
		{EventNoShow, NoShow{d}, &NoShow{}, nil},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			doc := *b
			doc.emit(c.typ, c.payload, now)
			if len(doc.Pending) != 1 {
				t.Fatalf("%d pending events", len(doc.Pending))
			}
			p := doc.Pending[0]
			if p.ID != "booking:"+b.ID+":v3:"+c.typ || p.Type != c.typ || p.Subject != "booking:"+b.ID || p.Actor != "u1" || !p.At.Equal(now) {
				t.Fatalf("pending %+v", p)
			}
			ev := p.Event()
			if err := ev.Decode(c.decoded); err != nil {
				t.Fatal(err)
			}
			if got := reflect.ValueOf(c.decoded).Elem().Interface(); !reflect.DeepEqual(got, c.payload) {
				t.Fatalf("decoded %+v, want %+v", got, c.payload)
			}
			var m bson.M
			if err := ev.Decode(&m); err != nil {
				t.Fatal(err)
			}
			for _, f := range append([]string{"user_id", "hall_id", "item_code", "case_id", "slot_start", "slot_end", "number", "status"}, c.fields...) {
				if _, ok := m[f]; !ok {
					t.Errorf("field %s missing in %v", f, m)
				}
			}
		})
	}
}

// The events of each change are in the booking's own write: before the
// relay runs they wait in the booking document and the log has none; the
// relay appends each once and empties the outbox.
func TestEventsRideInTheBookingWrite(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	moved := e.mustBook("u1", "A", s0900)
	if _, err := e.svc.Reschedule(ctx, "u1", moved.ID, s1000); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Cancel(ctx, "u1", moved.ID); err != nil {
		t.Fatal(err)
	}
	came := e.mustBook("u2", "A", s0900)
	missed := e.mustBook("u3", "A", s0900)
	e.clock.Set(at("2026-11-04", "09:05"))
	if _, err := e.svc.CheckIn(ctx, []string{"h1"}, came.CheckInCode); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-11-04", "09:50"))
	if n, err := e.svc.MarkNoShows(ctx); err != nil || n != 1 {
		t.Fatalf("no-shows %d, %v", n, err)
	}

	if head, err := e.log.Head(ctx); err != nil || head != 0 {
		t.Fatalf("the log has %d events before the relay ran (%v)", head, err)
	}
	want := map[string][]string{
		moved.ID:  {"v1:" + EventConfirmed, "v2:" + EventRescheduled, "v3:" + EventCancelled},
		came.ID:   {"v1:" + EventConfirmed, "v2:" + EventCheckedIn},
		missed.ID: {"v1:" + EventConfirmed, "v2:" + EventNoShow},
	}
	for id, ids := range want {
		stored, err := e.store.Booking(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range stored.Pending {
			got = append(got, p.ID)
		}
		var full []string
		for _, s := range ids {
			full = append(full, "booking:"+id+":"+s)
		}
		if !reflect.DeepEqual(got, full) {
			t.Errorf("outbox of %s: %v, want %v", id, got, full)
		}
	}

	for range 2 { // relaying twice appends once
		if ev := e.eventTypes(); ev[EventConfirmed] != 3 || ev[EventRescheduled] != 1 || ev[EventCancelled] != 1 ||
			ev[EventCheckedIn] != 1 || ev[EventNoShow] != 1 || len(ev) != 5 {
			t.Fatalf("events %v", ev)
		}
	}
	for id := range want {
		if stored, _ := e.store.Booking(ctx, id); len(stored.Pending) != 0 {
			t.Errorf("outbox of %s not emptied: %d", id, len(stored.Pending))
		}
	}
	evs, err := e.log.ReadSubject(ctx, "booking:"+moved.ID, 0, 10)
	if err != nil || len(evs) != 3 {
		t.Fatalf("%d events of the moved booking, %v", len(evs), err)
	}
	var r Rescheduled
	if err := evs[1].Decode(&r); err != nil || !r.OldSlotStart.Equal(s0900) || !r.SlotStart.Equal(s1000) || r.UserID != "u1" {
		t.Fatalf("rescheduled payload %+v, %v", r, err)
	}
	var c CheckedIn
	evs, _ = e.log.ReadSubject(ctx, "booking:"+came.ID, 0, 10)
	if err := evs[1].Decode(&c); err != nil || c.QueueNumber != 1 || c.Status != StatusCheckedIn {
		t.Fatalf("checked-in payload %+v, %v", c, err)
	}
}

// A change that loses the version race stores neither its state nor its
// event; the retry emits under the version it then writes.
func TestEventOfARetriedChange(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	b := e.mustBook("u1", "A", s0900)
	// Another writer moves the booking to version 2 between the read and the save.
	raced := false
	_, err := e.svc.update(ctx, b.ID, func(cur *Booking) error {
		if !raced {
			raced = true
			other := *cur // e.g. a check-in scan: here it only bumps the version
			if err := e.store.SaveBooking(ctx, &other, cur.Version-1); err != nil {
				return err
			}
		}
		if err := cur.cancel(e.clock.Now(), "user"); err != nil {
			return err
		}
		cur.emit(EventCancelled, Cancelled{cur.details()}, e.clock.Now())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := e.store.Booking(ctx, b.ID)
	var ids []string
	for _, p := range stored.Pending {
		ids = append(ids, p.ID)
	}
	want := []string{"booking:" + b.ID + ":v1:" + EventConfirmed, "booking:" + b.ID + ":v3:" + EventCancelled}
	if stored.Version != 3 || !reflect.DeepEqual(ids, want) {
		t.Fatalf("version %d, outbox %v, want %v", stored.Version, ids, want)
	}
}

// A booking number is random; when it clashes with another booking's the
// booking is written with a new one, and its event names the number stored.
func TestEventNamesTheStoredNumber(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	taken := e.mustBook("u1", "A", s0900)
	numbers := []string{taken.Number, "YY20261102000042"}
	e.svc.drawNumber = func(time.Time) string {
		n := numbers[0]
		numbers = numbers[1:]
		return n
	}
	b := e.mustBook("u2", "A", s0900)
	if b.Number != "YY20261102000042" {
		t.Fatalf("number %s", b.Number)
	}
	stored, err := e.store.Booking(ctx, b.ID)
	if err != nil || stored.Number != b.Number || len(stored.Pending) != 1 {
		t.Fatalf("%v %+v", err, stored)
	}
	var c Confirmed
	if err := stored.Pending[0].Event().Decode(&c); err != nil || c.Number != b.Number {
		t.Fatalf("the event names %q, the booking %q (%v)", c.Number, b.Number, err)
	}
	e.assertConsistent()
}
