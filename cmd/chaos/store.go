package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/logistics"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/platform/events"
	"zwfw/platform/mongox"
)

// The suite only reads zwfw's store, through the running zwfw's embedded
// FerretDB (its banner names the address), or, while zwfw lies dead after
// a kill -9, by opening the data directory itself.

// outboxCollections carry pending events (events.Outbox); bff/outbox.go
// lists the same for the relay's sweep.
var outboxCollections = []string{booking.BookingsCollection, "cases", payments.PaymentsCollection,
	payments.RefundsCollection, logistics.ShipmentsCollection}

// eventRow is an event of the log.
type eventRow struct {
	Seq     int64    `bson:"_id"`
	ID      string   `bson:"event_id"`
	Type    string   `bson:"type"`
	Subject string   `bson:"subject"`
	Data    bson.Raw `bson:"data"`
}

// status is the payload's status field (case.status_changed).
func (e eventRow) status() string {
	if e.Data == nil {
		return ""
	}
	v, err := e.Data.LookupErr("status")
	if err != nil {
		return ""
	}
	s, _ := v.StringValueOK()
	return s
}

func all[T any](ctx context.Context, db *mongo.Database, coll string, filter any) ([]T, error) {
	if filter == nil {
		filter = bson.D{}
	}
	cur, err := mongox.C(db, coll).Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", coll, err)
	}
	var out []T
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read %s: %w", coll, err)
	}
	return out, nil
}

func eventLog(ctx context.Context, db *mongo.Database) ([]eventRow, error) {
	return all[eventRow](ctx, db, events.EventsCollection, nil)
}

// pendingEvents are the events still waiting in documents' outboxes.
func pendingEvents(ctx context.Context, db *mongo.Database) ([]events.Pending, error) {
	var out []events.Pending
	for _, c := range outboxCollections {
		docs, err := all[events.Outbox](ctx, db, c, bson.D{{Key: "outbox.0", Value: bson.D{{Key: "$exists", Value: true}}}})
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			out = append(out, d.Pending...)
		}
	}
	return out, nil
}

// reminderRow is a reminder (notify's message) of a user.
type reminderRow struct {
	ID      string `bson:"_id"`
	UserID  string `bson:"user_id"`
	Rule    string `bson:"rule_id"`
	Subject string `bson:"subject"`
	State   string `bson:"state"`
}

func reminders(ctx context.Context, db *mongo.Database) ([]reminderRow, error) {
	return all[reminderRow](ctx, db, notify.MessagesCollection, nil)
}

// caseRow is a case as stored.
type caseRow struct {
	ID         string `bson:"_id"`
	UserID     string `bson:"user_id"`
	Status     string `bson:"status"`
	CaseNumber string `bson:"case_number"`
}

func caseRows(ctx context.Context, db *mongo.Database) ([]caseRow, error) {
	return all[caseRow](ctx, db, "cases", nil)
}

// shipmentRow is a shipment as stored.
type shipmentRow struct {
	ID        string `bson:"_id"`
	CaseID    string `bson:"case_id"`
	Direction string `bson:"direction"`
	State     string `bson:"state"`
	Waybill   string `bson:"waybill_number"`
}

func shipmentRows(ctx context.Context, db *mongo.Database) ([]shipmentRow, error) {
	return all[shipmentRow](ctx, db, logistics.ShipmentsCollection, nil)
}

// bookingRow is a booking as stored.
type bookingRow struct {
	ID     string `bson:"_id"`
	UserID string `bson:"user_id"`
	Status string `bson:"status"`
	Item   string `bson:"item_code"`
}

func bookingRows(ctx context.Context, db *mongo.Database) ([]bookingRow, error) {
	return all[bookingRow](ctx, db, booking.BookingsCollection, nil)
}

// paymentRow is a payment notice as stored, with its money.
type paymentRow struct {
	ID         string `bson:"_id"`
	Status     string `bson:"status"`
	Amount     int64  `bson:"amount"`
	PaidOrder  string `bson:"paid_order"`
	PaidAmount int64  `bson:"paid_amount"`
	Refunded   int64  `bson:"refunded"`
	Refunding  int64  `bson:"refunding"`
}

type orderRow struct {
	ID        string `bson:"_id"`
	PaymentID string `bson:"payment_id"`
	Channel   string `bson:"channel"`
	Status    string `bson:"status"`
	Amount    int64  `bson:"amount"`
	PaidVia   string `bson:"paid_via"`
}

type refundRow struct {
	ID        string `bson:"_id"`
	PaymentID string `bson:"payment_id"`
	OrderID   string `bson:"order_id"`
	Amount    int64  `bson:"amount"`
	Status    string `bson:"status"`
	Kind      string `bson:"kind"`
}

// openDeadStore opens the data directory of a zwfw that was killed, with
// an embedded FerretDB of the suite's own, to see what the crash left.
func (d *deployment) openDeadStore(ctx context.Context, fn func(db *mongo.Database) error) error {
	if !d.zwfw.Exited() {
		return fmt.Errorf("zwfw is running: its store has one server")
	}
	emb, err := mongox.StartEmbedded(filepath.Join(d.dir, "data", "mongodb"), "127.0.0.1:0",
		slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		return err
	}
	defer emb.Close()
	c, err := mongo.Connect(options.Client().ApplyURI(emb.URI))
	if err != nil {
		return err
	}
	defer c.Disconnect(context.Background())
	return fn(c.Database(database))
}

// caseSubject and friends name the subjects of the domains' events.
var (
	caseSubject     = cases.Subject
	bookingSubject  = booking.Subject
	paymentSubject  = payments.Subject
	shipmentSubject = logistics.Subject
)
