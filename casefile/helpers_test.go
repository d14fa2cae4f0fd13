package casefile_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/booking"
	"zwfw/casefile"
	"zwfw/cases"
	"zwfw/logistics"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/platform/events"
	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// world is a store with the domains' real services over it, and two case
// files: one read through the index, one by the domains' lists (as before
// the index), to compare.
type world struct {
	t   testing.TB
	ctx context.Context
	db  *mongo.Database
	// now is the clock of both services: the index's Since mark is the
	// first time the indexed one reads it.
	now time.Time

	indexed, listed *casefile.Service
	index           *casefile.MongoIndexStore
	bookings        *booking.MongoStore
	pays            *payments.MongoStore
	ships           *logistics.MongoStore
	msgs            *notify.MongoStore

	// events are those of the records stored, for the consumer.
	events []events.Event
}

func newWorld(t testing.TB, now time.Time) *world {
	t.Helper()
	db := testenv.DB(t)
	w := &world{t: t, ctx: context.Background(), db: db, now: now, index: casefile.NewMongoIndexStore(db),
		bookings: booking.NewMongoStore(db), pays: payments.NewMongoStore(db), ships: logistics.NewMongoStore(db),
		msgs: notify.NewMongoStore(db)}
	d := casefile.Deps{
		Bookings:  booking.NewService(booking.Deps{Store: w.bookings, Logger: testenv.QuietLogger()}),
		Payments:  payments.NewService(payments.Deps{Store: w.pays}),
		Shipments: logistics.NewService(logistics.Deps{Store: w.ships}),
		Reminders: notify.NewService(notify.Deps{Store: w.msgs, Logger: testenv.QuietLogger()}),
		Now:       func() time.Time { return w.now },
	}
	w.listed = casefile.New(d)
	d.Index = w.index
	w.indexed = casefile.New(d)
	return w
}

// newCase is a case of owner accepted under number, created at created.
func newCase(id, owner, number string, created time.Time) *cases.Case {
	return &cases.Case{ID: id, OwnerID: owner, CaseNumber: number, ItemCode: "330100-001", ItemName: "测试事项",
		Status: cases.StatusAccepted, CreatedAt: created, UpdatedAt: created, Version: 3}
}

// event notes the event of a record stored at at.
func (w *world) event(typ, subject string, payload any, at time.Time) {
	w.t.Helper()
	e, err := events.NewEvent(typ, subject, "system", payload)
	if err != nil {
		w.t.Fatal(err)
	}
	e.Seq, e.At = int64(len(w.events)+1), at
	w.events = append(w.events, e)
}

// deliver hands every event noted so far to the index's consumer.
func (w *world) deliver() {
	w.t.Helper()
	for _, e := range w.events {
		if err := w.indexed.HandleEvent(w.ctx, e); err != nil {
			w.t.Fatalf("event %s %s: %v", e.Type, e.Subject, err)
		}
	}
}

func (w *world) booking(n int, user, caseID string, at time.Time) *booking.Booking {
	w.t.Helper()
	b := &booking.Booking{ID: fmt.Sprintf("b_%024x", n), Number: fmt.Sprintf("YY%014d", n), UserID: user, HallID: "fz-gl",
		ItemCode: "330100-001", CaseID: caseID, SlotStart: at.Add(48 * time.Hour), SlotEnd: at.Add(48*time.Hour + 30*time.Minute),
		Status: booking.StatusConfirmed, CheckInCode: fmt.Sprintf("CHK%d", n), Timeline: []booking.Entry{}, Version: 1,
		CreatedAt: at, UpdatedAt: at}
	if err := w.bookings.CreateBooking(w.ctx, b); err != nil {
		w.t.Fatal(err)
	}
	w.event(booking.EventConfirmed, booking.Subject(b.ID), booking.Confirmed{Details: booking.Details{UserID: user,
		HallID: b.HallID, ItemCode: b.ItemCode, CaseID: caseID, SlotStart: b.SlotStart, SlotEnd: b.SlotEnd,
		Number: b.Number, Status: b.Status}}, at)
	return b
}

func (w *world) payment(n int, user, caseNumber string, at time.Time) payments.Payment {
	w.t.Helper()
	p := payments.Payment{ID: fmt.Sprintf("9%019d", n), PayerName: "张三", PayerKind: "person", Agency: "市市场监管局",
		Amount: 5000, IssuedAt: at, DueAt: at.Add(15 * 24 * time.Hour), CaseNumber: caseNumber,
		Status: payments.StatusUnpaid, UserIDs: []string{user}, Version: 1, CreatedAt: at, UpdatedAt: at}
	if _, _, err := w.pays.InsertPayment(w.ctx, p); err != nil {
		w.t.Fatal(err)
	}
	w.event(payments.EventNoticeIssued, payments.Subject(p.ID), payments.NoticeIssued{PaymentCode: p.ID,
		Amount: p.Amount, DueAt: p.DueAt, CaseNumber: caseNumber, UserIDs: p.UserIDs}, at)
	return p
}

func (w *world) shipment(n int, user, caseID string, at time.Time) *logistics.Shipment {
	w.t.Helper()
	sh := &logistics.Shipment{ID: fmt.Sprintf("shp_%020d", n), CaseID: caseID, UserID: user, Direction: logistics.ToApplicant,
		Carrier: "ems", WaybillNumber: fmt.Sprintf("11%011d", n), State: logistics.StateCreated, Timeline: []logistics.TrackEvent{},
		Salt: "x", Version: 1, LastEventAt: at, LastCheckedAt: at, CreatedAt: at, UpdatedAt: at}
	if _, _, err := w.ships.InsertShipment(w.ctx, sh); err != nil {
		w.t.Fatal(err)
	}
	w.event(logistics.EventCreated, logistics.Subject(sh.ID), logistics.StateChanged{ShipmentID: sh.ID, CaseID: caseID,
		UserID: user, Direction: sh.Direction, State: sh.State, At: at}, at)
	return sh
}

// reminder stores a message as notify makes one (noted in its index);
// before, one as notify made them before it kept the index.
func (w *world) reminder(user, rule, subject string, state notify.State, at time.Time, before bool) {
	w.t.Helper()
	id := notify.DedupID(user, rule, subject)
	m := &notify.Message{ID: id, PublicID: fmt.Sprintf("p%x", at.UnixNano()), UserID: user, RuleID: rule, Subject: subject,
		Title: rule, State: state, Inbox: state != notify.StateCancelled, Attempts: []notify.Attempt{}, CreatedAt: at, UpdatedAt: at}
	var err error
	if before {
		_, err = w.db.Collection(notify.MessagesCollection).InsertOne(w.ctx, m)
	} else {
		_, _, err = w.msgs.InsertMessage(w.ctx, m)
	}
	if err != nil {
		w.t.Fatal(err)
	}
}

// file is the case's file read through the index.
func (w *world) file(c *cases.Case) *casefile.File {
	w.t.Helper()
	f, err := w.indexed.Of(w.ctx, c)
	if err != nil {
		w.t.Fatalf("indexed file: %v", err)
	}
	return f
}

// listedFile is the case's file read by the domains' lists.
func (w *world) listedFile(c *cases.Case) *casefile.File {
	w.t.Helper()
	f, err := w.listed.Of(w.ctx, c)
	if err != nil {
		w.t.Fatalf("listed file: %v", err)
	}
	return f
}

// summary names a file's records in order, to show what differs.
func summary(f *casefile.File) string {
	var parts []string
	for _, b := range f.Bookings {
		parts = append(parts, "booking "+b.ID+" "+b.UserID)
	}
	for _, p := range f.Payments {
		parts = append(parts, "payment "+p.ID)
	}
	for _, sh := range f.Shipments {
		parts = append(parts, "shipment "+sh.ID)
	}
	for _, m := range f.Reminders {
		parts = append(parts, "reminder "+m.Subject+" "+m.RuleID+" "+m.UserID)
	}
	return strings.Join(parts, "\n")
}

// has reports whether the file shows a record with the id (any kind).
func has(f *casefile.File, id string) bool {
	return slices.ContainsFunc(f.Bookings, func(b *booking.Booking) bool { return b.ID == id }) ||
		slices.ContainsFunc(f.Payments, func(p payments.Payment) bool { return p.ID == id }) ||
		slices.ContainsFunc(f.Shipments, func(sh logistics.Shipment) bool { return sh.ID == id }) ||
		slices.ContainsFunc(f.Reminders, func(m notify.Message) bool { return m.ID == id })
}
