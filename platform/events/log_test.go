package events

import (
	"context"
	"slices"
	"testing"
	"time"
)

type statusChanged struct {
	From string `bson:"from"`
	To   string `bson:"to"`
}

func TestAppendAndRead(t *testing.T) {
	_, l := newLog(t)
	ctx := context.Background()
	if h, err := l.Head(ctx); err != nil || h != 0 {
		t.Fatalf("head of empty log = %d, %v", h, err)
	}
	before := time.Now().Add(-time.Second)
	e, err := NewEvent("case.status_changed", "case:123", "user:9", statusChanged{From: "submitted", To: "accepted"})
	if err != nil {
		t.Fatal(err)
	}
	s1, err := l.Append(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := NewEvent("booking.confirmed", "booking:7", "", nil)
	s2, err := l.Append(ctx, e2)
	if err != nil {
		t.Fatal(err)
	}
	if s1 != 1 || s2 != 2 {
		t.Fatalf("seqs = %d, %d", s1, s2)
	}
	if h, _ := l.Head(ctx); h != 2 {
		t.Fatalf("head = %d", h)
	}
	evs, err := l.ReadAfter(ctx, 0, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("read = %v, %v", evs, err)
	}
	got := evs[0]
	if got.Seq != 1 || got.Type != "case.status_changed" || got.Subject != "case:123" || got.Actor != "user:9" {
		t.Fatalf("event = %+v", got)
	}
	if got.At.Location() != time.UTC || got.At.Before(before) {
		t.Fatalf("at = %v", got.At)
	}
	var d statusChanged
	if err := got.Decode(&d); err != nil || d != (statusChanged{"submitted", "accepted"}) {
		t.Fatalf("data = %+v, %v", d, err)
	}
	if err := evs[1].Decode(&d); err == nil {
		t.Fatal("decoding an event without data succeeded")
	}
	if evs, _ := l.ReadAfter(ctx, 1, 10); len(evs) != 1 || evs[0].Seq != 2 {
		t.Fatalf("read after 1 = %v", evs)
	}
	bySubject, err := l.ReadSubject(ctx, "case:123", 0, 10)
	if err != nil || len(bySubject) != 1 || bySubject[0].Seq != 1 {
		t.Fatalf("read subject = %v, %v", bySubject, err)
	}
	if _, err := l.Append(ctx, Event{}); err == nil {
		t.Fatal("append without type succeeded")
	}
	if _, err := l.Append(ctx, Event{Type: "x", Data: []byte{1, 2, 3}}); err == nil {
		t.Fatal("append with invalid data succeeded")
	}
	if h, _ := l.Head(ctx); h != 2 {
		t.Fatalf("rejected appends took sequence numbers: head = %d", h)
	}
	if c, err := l.Cursor(ctx, "nobody"); err != nil || c.Seq != 0 {
		t.Fatalf("cursor of unknown consumer = %+v, %v", c, err)
	}
}

func TestConcurrentAppendsSeenOnceInOrder(t *testing.T) {
	db, l := newLog(t)
	const writers, each = 5, 20
	rec := &recorder{}
	c := NewConsumer(db, "all", rec.handle, fastOptions("r1"))
	runConsumer(t, c)

	ctx := context.Background()
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for range each {
				e, _ := NewEvent("payment.succeeded", "payment:1", "writer", map[string]int{"w": w})
				if _, err := l.Append(ctx, e); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all events handled", func() bool { return rec.len() >= writers*each })
	if got := rec.get(); !slices.Equal(got, seqRange(1, writers*each)) {
		t.Fatalf("handled %v", got)
	}
	waitFor(t, "cursor at the end", func() bool {
		cur, err := l.Cursor(ctx, "all")
		return err == nil && cur.Seq == writers*each
	})
}
