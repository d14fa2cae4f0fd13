package casefile_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"zwfw/booking"
	"zwfw/casefile"
	"zwfw/cases"
	"zwfw/logistics"
	"zwfw/notify"
	"zwfw/payments"
)

// t0 is when the index began to be kept (its Since mark) in these tests.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// records is what fill stored for a case.
type records struct {
	own      []*booking.Booking // the owner's bookings for the case
	stranger *booking.Booking   // another user's booking naming the case
	pays     []payments.Payment
	ships    []*logistics.Shipment
}

// fill stores, from at on, a case's records and some of others: two
// bookings of the owner, one of another user naming the case, one of the
// owner for another case; two notices of its number and one of another;
// two parcels of the case and one of another; reminders about all of
// these, of the owner and of others, one cancelled. before: the reminders
// were made before notify indexed them.
func fill(w *world, c *cases.Case, at time.Time, before bool) records {
	w.t.Helper()
	tick := func(n int) time.Time { return at.Add(time.Duration(n) * time.Minute) }
	var r records
	r.own = []*booking.Booking{w.booking(1, c.OwnerID, c.ID, tick(1)), w.booking(2, c.OwnerID, c.ID, tick(2))}
	r.stranger = w.booking(3, "u_stranger", c.ID, tick(3))
	w.booking(4, c.OwnerID, "c_other", tick(4))
	r.pays = []payments.Payment{w.payment(1, c.OwnerID, c.CaseNumber, tick(5)), w.payment(2, c.OwnerID, c.CaseNumber, tick(6))}
	w.payment(3, c.OwnerID, "FZ-OTHER", tick(7))
	r.ships = []*logistics.Shipment{w.shipment(1, c.OwnerID, c.ID, tick(8)), w.shipment(2, c.OwnerID, c.ID, tick(9))}
	w.shipment(3, c.OwnerID, "c_other", tick(10))
	o := c.OwnerID
	b1 := booking.Subject(r.own[0].ID)
	w.reminder(o, notify.RuleCaseAccepted, cases.Subject(c.ID), notify.StateSent, tick(11), before)
	w.reminder(o, notify.RuleCaseSupplement, cases.Subject(c.ID)+"#r1", notify.StateFailed, tick(12), before)
	w.reminder(o, notify.RuleBookingConfirmed, b1, notify.StateSent, tick(13), before)
	w.reminder(o, notify.RuleBookingTomorrow, fmt.Sprintf("%s@%d", b1, r.own[0].SlotStart.Unix()), notify.StateInboxOnly, tick(14), before)
	w.reminder(o, notify.RulePaymentNotice, payments.Subject(r.pays[0].ID), notify.StateSent, tick(15), before)
	w.reminder(o, notify.RuleShipmentPickedUp, logistics.Subject(r.ships[1].ID), notify.StatePending, tick(16), before)
	w.reminder(o, notify.RuleCaseReassure, cases.Subject(c.ID), notify.StateCancelled, tick(17), before)
	w.reminder("u_stranger", notify.RuleCaseAccepted, cases.Subject(c.ID), notify.StateSent, tick(18), before)
	w.reminder("u_stranger", notify.RuleBookingConfirmed, booking.Subject(r.stranger.ID), notify.StateSent, tick(19), before)
	w.reminder(o, notify.RuleCaseAccepted, cases.Subject("c_other"), notify.StateSent, tick(20), before)
	return r
}

// checkFile fails unless the file read through the index is the file read
// by the lists, and that file is what fill stored for the case.
func checkFile(t *testing.T, w *world, c *cases.Case, r records) {
	t.Helper()
	got, want := w.file(c), w.listedFile(c)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the file through the index:\n%s\n\nthe file by the lists:\n%s", summary(got), summary(want))
	}
	if len(got.Bookings) != 2 || got.Bookings[0].ID != r.own[1].ID || got.Bookings[1].ID != r.own[0].ID {
		t.Fatalf("bookings (the owner's, newest first):\n%s", summary(got))
	}
	if has(got, r.stranger.ID) {
		t.Fatal("a booking someone else made naming the case is in its file")
	}
	if len(got.Payments) != 2 || got.Payments[0].ID != r.pays[0].ID || len(got.Shipments) != 2 || got.Shipments[0].ID != r.ships[0].ID {
		t.Fatalf("payments and shipments (the case's, oldest first):\n%s", summary(got))
	}
	var rules []string
	for _, m := range got.Reminders {
		rules = append(rules, m.RuleID)
	}
	wantRules := []string{notify.RuleShipmentPickedUp, notify.RulePaymentNotice, notify.RuleBookingTomorrow,
		notify.RuleBookingConfirmed, notify.RuleCaseSupplement, notify.RuleCaseAccepted}
	if !slices.Equal(rules, wantRules) {
		t.Fatalf("reminders %v, want %v (the owner's about the file, not cancelled, newest first)", rules, wantRules)
	}
}

// A case created since the index is kept: its records' events fill its
// index, and its file read through the index is the file the lists give
// (another user's booking naming the case left out, others' reminders and
// records of other cases not shown). The file reads the index, not the
// lists: records whose events have not been handled yet are not in it.
func TestFileFromIndexEqualsFileFromLists(t *testing.T) {
	w := newWorld(t, t0)
	if _, err := w.index.Since(w.ctx, t0); err != nil {
		t.Fatal(err)
	}
	c := newCase("c_new", "u_owner", "FZ-NEW", t0.Add(time.Hour))
	if f := w.file(c); len(f.Bookings)+len(f.Payments)+len(f.Shipments)+len(f.Reminders) != 0 {
		t.Fatalf("a new case with nothing yet: %s", summary(f))
	}
	r := fill(w, c, t0.Add(2*time.Hour), false)
	w.deliver()
	checkFile(t, w, c, r)
	// An id noted before a message insert that never happened (a crash between the two) is skipped.
	if err := w.msgs.AddAbout(w.ctx, cases.Subject(c.ID), notify.DedupID(c.OwnerID, notify.RuleCaseCompleted, cases.Subject(c.ID))); err != nil {
		t.Fatal(err)
	}
	checkFile(t, w, c, r)
	if idx, err := w.index.Index(w.ctx, casefile.CaseKey(c.ID)); err != nil || idx == nil || !idx.BuiltAt.IsZero() {
		t.Fatalf("a new case's index: %+v (%v), want one events made, never rebuilt", idx, err)
	}

	// Stored, their events not handled yet (the consumer lags).
	w.events = nil
	late := t0.Add(3 * time.Hour)
	b := w.booking(9, c.OwnerID, c.ID, late)
	p := w.payment(9, c.OwnerID, c.CaseNumber, late)
	sh := w.shipment(9, c.OwnerID, c.ID, late)
	if f := w.file(c); has(f, b.ID) || has(f, p.ID) || has(f, sh.ID) {
		t.Fatalf("records whose events were not handled are in the file: it read the lists\n%s", summary(f))
	}
	w.deliver()
	got, want := w.file(c), w.listedFile(c)
	if !reflect.DeepEqual(got, want) || !has(got, b.ID) || !has(got, p.ID) || !has(got, sh.ID) {
		t.Fatalf("after the events, the file through the index:\n%s\n\nby the lists:\n%s", summary(got), summary(want))
	}
}

// A case from before the index: it has no index, so its first file is
// read by the lists and its index rebuilt from them (with its reminders'
// ids in notify's index) and marked built; later files read the index,
// and equal the first. Events from before the index are stepped over.
func TestIndexOfACaseFromBeforeIsRebuiltOnce(t *testing.T) {
	w := newWorld(t, t0)
	if _, err := w.index.Since(w.ctx, t0); err != nil {
		t.Fatal(err)
	}
	c := newCase("c_old", "u_owner", "FZ-OLD", t0.AddDate(0, 0, -30))
	r := fill(w, c, t0.AddDate(0, 0, -29), true)
	w.deliver() // all from before the index: nothing added
	if idx, err := w.index.Index(w.ctx, casefile.CaseKey(c.ID)); err != nil || idx != nil {
		t.Fatalf("events from before the index made an index: %+v (%v)", idx, err)
	}

	checkFile(t, w, c, r) // the first read rebuilds
	idx, err := w.index.Index(w.ctx, casefile.CaseKey(c.ID))
	if err != nil || idx == nil || idx.BuiltAt.IsZero() {
		t.Fatalf("the rebuilt index: %+v (%v), want one marked built", idx, err)
	}
	if want := []string{r.own[0].ID, r.own[1].ID, r.stranger.ID}; !slices.Equal(idx.Bookings, want) {
		t.Fatalf("rebuilt bookings %v, want %v", idx.Bookings, want)
	}
	if no, err := w.index.Index(w.ctx, casefile.NumberKey(c.CaseNumber)); err != nil || no == nil || len(no.Payments) != 2 {
		t.Fatalf("the case number's rebuilt index: %+v (%v)", no, err)
	}
	if ids, err := w.msgs.AboutIDs(w.ctx, cases.Subject(c.ID)); err != nil || len(ids) != 2 {
		t.Fatalf("the case's reminders in notify's index: %v (%v), want its 2 shown", ids, err)
	}

	// Later files read the index: a booking stored without its event (no
	// list is read) is not seen; a reminder made now is.
	w.events = nil
	hidden := w.booking(9, c.OwnerID, c.ID, t0.Add(time.Hour))
	w.reminder(c.OwnerID, notify.RuleBookingSoon, booking.Subject(r.own[1].ID), notify.StateSent, t0.Add(2*time.Hour), false)
	f := w.file(c)
	if has(f, hidden.ID) {
		t.Fatal("a rebuilt index was rebuilt again: the file shows a booking whose event was never handled")
	}
	if len(f.Reminders) != 7 || f.Reminders[0].RuleID != notify.RuleBookingSoon {
		t.Fatalf("a reminder made after the rebuild is not in the file:\n%s", summary(f))
	}
	w.deliver()
	checkFileEqual(t, w, c)
}

// An event delivered twice (delivery is at-least-once) adds its record once.
func TestEventDeliveredTwiceAddsOnce(t *testing.T) {
	w := newWorld(t, t0)
	if _, err := w.index.Since(w.ctx, t0); err != nil {
		t.Fatal(err)
	}
	c := newCase("c_twice", "u_owner", "FZ-TWICE", t0.Add(time.Hour))
	at := t0.Add(2 * time.Hour)
	b := w.booking(1, c.OwnerID, c.ID, at)
	p := w.payment(1, c.OwnerID, c.CaseNumber, at)
	sh := w.shipment(1, c.OwnerID, c.ID, at)
	w.deliver()
	w.deliver()
	idx, err := w.index.Index(w.ctx, casefile.CaseKey(c.ID))
	if err != nil || idx == nil || !slices.Equal(idx.Bookings, []string{b.ID}) || !slices.Equal(idx.Shipments, []string{sh.ID}) {
		t.Fatalf("the case's index after each event twice: %+v (%v)", idx, err)
	}
	no, err := w.index.Index(w.ctx, casefile.NumberKey(c.CaseNumber))
	if err != nil || no == nil || !slices.Equal(no.Payments, []string{p.ID}) {
		t.Fatalf("the number's index after its event twice: %+v (%v)", no, err)
	}
	f := checkFileEqual(t, w, c)
	if len(f.Bookings) != 1 || len(f.Payments) != 1 || len(f.Shipments) != 1 {
		t.Fatalf("the file after each event twice:\n%s", summary(f))
	}
}

// checkFileEqual fails unless the file through the index is the file by the lists.
func checkFileEqual(t *testing.T, w *world, c *cases.Case) *casefile.File {
	t.Helper()
	got, want := w.file(c), w.listedFile(c)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the file through the index:\n%s\n\nthe file by the lists:\n%s", summary(got), summary(want))
	}
	return got
}
