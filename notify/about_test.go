package notify_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"zwfw/notify"
)

// A case's file finds the reminders about the case and its bookings,
// payments and shipments (and the rounds derived from them), never another
// case's or another user's; cancelled reminders are left out.
func TestRemindersAboutSubjects(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	put := func(user, rule, subject string, state notify.State, at time.Time) {
		t.Helper()
		id := notify.DedupID(user, rule, subject)
		m := &notify.Message{ID: id, PublicID: id, UserID: user, RuleID: rule, Subject: subject, State: state,
			Inbox: state != notify.StateCancelled, Attempts: []notify.Attempt{}, CreatedAt: at, UpdatedAt: at}
		if _, _, err := e.store.InsertMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	put("u1", notify.RuleCaseAccepted, "case:c_1", notify.StateSent, t0)
	put("u1", notify.RuleCaseSupplement, "case:c_1#ab12", notify.StateFailed, t0.Add(time.Hour))
	put("u1", notify.RuleBookingTomorrow, "booking:b_1@1772500000", notify.StateSent, t0.Add(2*time.Hour))
	put("u1", notify.RulePaymentNotice, "payment:3501", notify.StateInboxOnly, t0.Add(3*time.Hour))
	put("u1", notify.RuleShipmentPickedUp, "shipment:shp_1", notify.StateSent, t0.Add(4*time.Hour))
	put("u1", notify.RuleCaseReassure, "case:c_1", notify.StateCancelled, t0.Add(5*time.Hour))
	put("u1", notify.RuleCaseAccepted, "case:c_10", notify.StateSent, t0.Add(6*time.Hour)) // another case
	put("u2", notify.RuleCaseAccepted, "case:c_1", notify.StateSent, t0.Add(7*time.Hour))  // another user

	got, err := e.svc.RemindersAbout(ctx, "u1", []string{"case:c_1", "booking:b_1", "payment:3501", "shipment:shp_1"})
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range got {
		subjects = append(subjects, m.Subject)
	}
	want := []string{"shipment:shp_1", "payment:3501", "booking:b_1@1772500000", "case:c_1#ab12", "case:c_1"}
	if !slices.Equal(subjects, want) {
		t.Fatalf("reminders about the file: %v, want %v (newest first)", subjects, want)
	}
}

// Unread counts the unread inbox (up to the cap) and shows the newest few.
func TestUnreadCountsAndShowsTheNewest(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		id := notify.DedupID("u1", notify.RuleCaseAccepted, fmt.Sprintf("case:c_%d", i))
		m := &notify.Message{ID: id, PublicID: fmt.Sprintf("p%d", i), UserID: "u1", RuleID: notify.RuleCaseAccepted,
			Subject: fmt.Sprintf("case:c_%d", i), State: notify.StateSent, Inbox: true, Attempts: []notify.Attempt{},
			CreatedAt: t0.Add(time.Duration(i) * time.Minute), UpdatedAt: t0}
		if _, _, err := e.store.InsertMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.MarkRead(ctx, "u1", "p4"); err != nil {
		t.Fatal(err)
	}
	list, n, err := e.svc.Unread(ctx, "u1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 || len(list) != 2 || list[0].PublicID != "p3" || list[1].PublicID != "p2" {
		t.Fatalf("unread %d, shown %+v; want 4 unread, p3 and p2 shown", n, list)
	}
	if list, n, err := e.svc.Unread(ctx, "u2", 2); err != nil || n != 0 || len(list) != 0 {
		t.Fatalf("a user with no messages: %d %v %v", n, list, err)
	}
}

// Once counted, the inbox summary follows new and read messages without
// listing the inbox again.
func TestInboxSummaryFollowsNewAndReadMessages(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	put := func(i int) {
		t.Helper()
		id := notify.DedupID("u1", notify.RuleCaseAccepted, fmt.Sprintf("case:c_%d", i))
		m := &notify.Message{ID: id, PublicID: fmt.Sprintf("p%d", i), UserID: "u1", RuleID: notify.RuleCaseAccepted,
			Subject: fmt.Sprintf("case:c_%d", i), State: notify.StateSent, Inbox: true, Attempts: []notify.Attempt{},
			CreatedAt: time.Date(2026, 3, 1, 0, i, 0, 0, time.UTC)}
		if _, _, err := e.store.InsertMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	put(1)
	if _, n, err := e.svc.Unread(ctx, "u1", 3); err != nil || n != 1 {
		t.Fatalf("first count: %d %v", n, err)
	}
	sum, found, err := e.store.InboxSummary(ctx, "u1")
	if err != nil || !found || sum.Unread != 1 {
		t.Fatalf("summary %+v %v %v", sum, found, err)
	}
	for i := 2; i <= 25; i++ {
		put(i)
	}
	if _, err := e.svc.MarkRead(ctx, "u1", "p25"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.MarkRead(ctx, "u1", "p25"); err != nil { // again: counted once
		t.Fatal(err)
	}
	list, n, err := e.svc.Unread(ctx, "u1", 3)
	if err != nil || n != 24 || len(list) != 3 || list[0].PublicID != "p24" || list[2].PublicID != "p22" {
		t.Fatalf("after 24 more and one read: %d unread, shown %v, %v", n, list, err)
	}
	if sum, _, _ := e.store.InboxSummary(ctx, "u1"); len(sum.Recent) != 20 || sum.Unread != 24 {
		t.Fatalf("summary keeps %d recent, %d unread", len(sum.Recent), sum.Unread)
	}
}
