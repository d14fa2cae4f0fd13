package payments

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/events"
	"zwfw/platform/mongox"
)

// Collection names of the payments store.
const (
	PaymentsCollection  = "payments"
	OrdersCollection    = "payment_orders"
	RefundsCollection   = "payment_refunds"
	AnomaliesCollection = "payment_anomalies"
	ReportsCollection   = "payment_reconciliations"
)

// OutboxCollections are the collections whose documents carry pending
// payment events (events.Outbox), for the outbox relay.
var OutboxCollections = []string{PaymentsCollection, RefundsCollection}

// MongoStore implements Store on MongoDB. Payments are keyed by payment
// code, orders by out_trade_no and refunds by out_refund_no, so the hot
// paths (notify, query, pay) are reads and writes by _id; every write goes
// through the guarded mongox collection, so it is atomic on the embedded
// FerretDB too.
type MongoStore struct {
	payments, orders, refunds, anomalies, reports *mongox.Collection
}

var _ Store = (*MongoStore)(nil)

// NewMongoStore uses db's payments collections.
func NewMongoStore(db *mongo.Database) *MongoStore {
	return &MongoStore{
		payments:  mongox.C(db, PaymentsCollection),
		orders:    mongox.C(db, OrdersCollection),
		refunds:   mongox.C(db, RefundsCollection),
		anomalies: mongox.C(db, AnomaliesCollection),
		reports:   mongox.C(db, ReportsCollection),
	}
}

// EnsureIndexes creates the secondary indexes; idempotent, call at start-up.
func (s *MongoStore) EnsureIndexes(ctx context.Context) error {
	if err := s.payments.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "payer_index", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "user_ids", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "case_number", Value: 1}}},
	); err != nil {
		return err
	}
	if err := s.orders.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "payment_id", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "provider", Value: 1}, {Key: "paid_at", Value: 1}}},
	); err != nil {
		return err
	}
	return s.refunds.EnsureIndexes(ctx, mongo.IndexModel{Keys: bson.D{{Key: "payment_id", Value: 1}}})
}

func notFound(err error, what string) error {
	if mongox.IsNoDocuments(err) {
		return ErrNotFound.WithCause(fmt.Errorf("%s: %w", what, err))
	}
	return fmt.Errorf("payments: %s: %w", what, err)
}

func (s *MongoStore) InsertPayment(ctx context.Context, p Payment) (Payment, bool, error) {
	if p.UserIDs == nil {
		p.UserIDs = []string{}
	}
	if _, err := s.payments.InsertOne(ctx, p); err != nil {
		if mongox.IsDuplicateKey(err) {
			existing, gerr := s.Payment(ctx, p.ID)
			return existing, false, gerr
		}
		return Payment{}, false, fmt.Errorf("payments: insert payment: %w", err)
	}
	return p, true, nil
}

func (s *MongoStore) Payment(ctx context.Context, id string) (Payment, error) {
	var p Payment
	if err := s.payments.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&p); err != nil {
		return Payment{}, notFound(err, "payment")
	}
	return p, nil
}

func (s *MongoStore) AddViewer(ctx context.Context, id, userID string) error {
	_, err := s.payments.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "user_ids", Value: userID}}}})
	return err
}

func (s *MongoStore) PaymentsFor(ctx context.Context, userID string, payerIndexes []string, status Status, limit int) ([]Payment, error) {
	or := bson.A{bson.D{{Key: "user_ids", Value: userID}}}
	if len(payerIndexes) > 0 {
		or = append(or, bson.D{{Key: "payer_index", Value: bson.D{{Key: "$in", Value: payerIndexes}}}})
	}
	filter := bson.D{{Key: "$or", Value: or}}
	if status != "" {
		filter = append(filter, bson.E{Key: "status", Value: string(status)})
	}
	return s.findPayments(ctx, filter, options.Find().SetSort(bson.D{{Key: "issued_at", Value: -1}}).SetLimit(int64(limit)))
}

func (s *MongoStore) PaymentsOfCase(ctx context.Context, caseNumber string) ([]Payment, error) {
	return s.findPayments(ctx, bson.D{{Key: "case_number", Value: caseNumber}}, options.Find().SetSort(bson.D{{Key: "issued_at", Value: 1}}).SetLimit(20))
}

func (s *MongoStore) findPayments(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]Payment, error) {
	cur, err := s.payments.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("payments: list: %w", err)
	}
	var out []Payment
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("payments: list: %w", err)
	}
	return out, nil
}

func (s *MongoStore) PaymentsAfter(ctx context.Context, afterID string, limit int) ([]Payment, error) {
	return s.findPayments(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: afterID}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
}

func (s *MongoStore) SetOpenOrder(ctx context.Context, id, prev, next string, at time.Time) (bool, error) {
	return s.payments.UpdateIfMatched(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: StatusUnpaid}, {Key: "open_order", Value: prev}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "open_order", Value: next}, {Key: "open_order_at", Value: at.UTC()}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
}

func (s *MongoStore) MarkPaymentPaid(ctx context.Context, id string, o Order, ev events.Pending, now time.Time) (string, bool, error) {
	var before struct {
		OpenOrder string `bson:"open_order"`
	}
	err := s.payments.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: StatusUnpaid}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "status", Value: StatusPaid}, {Key: "open_order", Value: ""},
			{Key: "paid_order", Value: o.ID}, {Key: "paid_channel", Value: o.Channel},
			{Key: "transaction_id", Value: o.TransactionID}, {Key: "paid_at", Value: o.PaidAt},
			{Key: "paid_amount", Value: o.Amount}, {Key: "updated_at", Value: now},
		}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}, events.Push(ev)},
		// No projection: FerretDB's findAndModify does not take one.
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&before)
	if mongox.IsNoDocuments(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("payments: mark payment paid: %w", err)
	}
	return before.OpenOrder, true, nil
}

func (s *MongoStore) CancelPayment(ctx context.Context, id string, now time.Time) (bool, error) {
	return s.payments.UpdateIfMatched(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: StatusUnpaid}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: StatusCancelled}, {Key: "updated_at", Value: now}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
}

func (s *MongoStore) SetReceipt(ctx context.Context, id string, r Receipt, ev events.Pending, now time.Time) (bool, error) {
	return s.payments.UpdateIfMatched(ctx, bson.D{{Key: "_id", Value: id}, {Key: "receipt", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "receipt", Value: r}, {Key: "confirmed_at", Value: now}, {Key: "updated_at", Value: now}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}, events.Push(ev)})
}

func (s *MongoStore) ReserveRefund(ctx context.Context, id string, version int64, amount Fen, now time.Time) (bool, error) {
	return s.payments.UpdateIfMatched(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: version},
		{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{StatusPaid, StatusPartiallyRefunded}}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "refunding", Value: amount}, {Key: "version", Value: 1}}},
			{Key: "$set", Value: bson.D{{Key: "updated_at", Value: now}}}})
}

func (s *MongoStore) SettleRefund(ctx context.Context, p Payment, r Refund, succeeded bool, now time.Time) (bool, error) {
	refunded := p.Refunded
	if succeeded {
		refunded += r.Amount
	}
	return s.payments.UpdateIfMatched(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "version", Value: p.Version},
		{Key: "settled_refunds", Value: bson.D{{Key: "$nin", Value: bson.A{r.ID}}}}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "refunded", Value: refunded}, {Key: "refunding", Value: p.Refunding - r.Amount},
			{Key: "status", Value: refundStatus(p.Status, p.PaidAmount, refunded)}, {Key: "updated_at", Value: now},
		}}, {Key: "$push", Value: bson.D{{Key: "settled_refunds", Value: r.ID}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
}

func (s *MongoStore) SetTotals(ctx context.Context, id string, version int64, t Totals, now time.Time) (bool, error) {
	return s.payments.UpdateIfMatched(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: version}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "status", Value: t.Status}, {Key: "paid_order", Value: t.PaidOrder}, {Key: "paid_channel", Value: t.PaidChannel},
			{Key: "transaction_id", Value: t.TransactionID}, {Key: "paid_at", Value: t.PaidAt}, {Key: "paid_amount", Value: t.PaidAmount},
			{Key: "refunded", Value: t.Refunded}, {Key: "refunding", Value: t.Refunding}, {Key: "settled_refunds", Value: nonNil(t.SettledRefunds)},
			{Key: "updated_at", Value: now},
		}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

func (s *MongoStore) InsertOrder(ctx context.Context, o Order) error {
	if _, err := s.orders.InsertOne(ctx, o); err != nil {
		return fmt.Errorf("payments: insert order: %w", err)
	}
	return nil
}

func (s *MongoStore) Order(ctx context.Context, id string) (Order, error) {
	var o Order
	if err := s.orders.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&o); err != nil {
		return Order{}, notFound(err, "order")
	}
	return o, nil
}

func (s *MongoStore) SetPrepay(ctx context.Context, id string, p Prepay) error {
	_, err := s.orders.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "prepay", Value: p}}}})
	return err
}

func (s *MongoStore) MarkOrderPaid(ctx context.Context, id string, t Trade, via string) (bool, error) {
	return s.orders.UpdateIfMatched(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{OrderOpen, OrderClosed}}}}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "status", Value: OrderPaid}, {Key: "transaction_id", Value: t.TransactionID},
			{Key: "paid_at", Value: t.PaidAt.UTC()}, {Key: "payer", Value: t.Payer}, {Key: "paid_via", Value: via},
		}}})
}

func (s *MongoStore) CloseOrder(ctx context.Context, id, reason string, now time.Time) (bool, error) {
	return s.orders.UpdateIfMatched(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: OrderOpen}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: OrderClosed}, {Key: "closed_at", Value: now}, {Key: "close_reason", Value: reason}}}})
}

func (s *MongoStore) OrdersOfPayment(ctx context.Context, paymentID string) ([]Order, error) {
	return s.findOrders(ctx, bson.D{{Key: "payment_id", Value: paymentID}})
}

func (s *MongoStore) OrdersOfPayments(ctx context.Context, paymentIDs []string) ([]Order, error) {
	return s.findOrders(ctx, bson.D{{Key: "payment_id", Value: bson.D{{Key: "$in", Value: paymentIDs}}}})
}

func (s *MongoStore) OrdersPaidBetween(ctx context.Context, p Provider, from, to time.Time) ([]Order, error) {
	return s.findOrders(ctx, bson.D{{Key: "provider", Value: p}, {Key: "status", Value: OrderPaid},
		{Key: "paid_at", Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}}})
}

func (s *MongoStore) findOrders(ctx context.Context, filter bson.D) ([]Order, error) {
	cur, err := s.orders.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("payments: list orders: %w", err)
	}
	var out []Order
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("payments: list orders: %w", err)
	}
	return out, nil
}

func (s *MongoStore) InsertRefund(ctx context.Context, r Refund) (Refund, bool, error) {
	if _, err := s.refunds.InsertOne(ctx, r); err != nil {
		if mongox.IsDuplicateKey(err) {
			existing, gerr := s.Refund(ctx, r.ID)
			return existing, false, gerr
		}
		return Refund{}, false, fmt.Errorf("payments: insert refund: %w", err)
	}
	return r, true, nil
}

func (s *MongoStore) Refund(ctx context.Context, id string) (Refund, error) {
	var r Refund
	if err := s.refunds.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&r); err != nil {
		return Refund{}, notFound(err, "refund")
	}
	return r, nil
}

func (s *MongoStore) RefundsOfPayment(ctx context.Context, paymentID string) ([]Refund, error) {
	return s.findRefunds(ctx, bson.D{{Key: "payment_id", Value: paymentID}})
}

func (s *MongoStore) RefundsOfPayments(ctx context.Context, paymentIDs []string) ([]Refund, error) {
	return s.findRefunds(ctx, bson.D{{Key: "payment_id", Value: bson.D{{Key: "$in", Value: paymentIDs}}}})
}

func (s *MongoStore) findRefunds(ctx context.Context, filter bson.D) ([]Refund, error) {
	cur, err := s.refunds.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("payments: list refunds: %w", err)
	}
	var out []Refund
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("payments: list refunds: %w", err)
	}
	return out, nil
}

func (s *MongoStore) FinishRefund(ctx context.Context, id string, status RefundStatus, providerID, failReason string, at time.Time, evs ...events.Pending) (bool, error) {
	set := bson.D{{Key: "status", Value: status}, {Key: "settled_at", Value: at.UTC()}}
	if providerID != "" {
		set = append(set, bson.E{Key: "provider_refund_id", Value: providerID})
	}
	if failReason != "" {
		set = append(set, bson.E{Key: "fail_reason", Value: failReason})
	}
	update := bson.D{{Key: "$set", Value: set}}
	if len(evs) > 0 {
		update = append(update, events.Push(evs...))
	}
	return s.refunds.UpdateIfMatched(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: RefundStatusPending}}, update)
}

func (s *MongoStore) MarkRefundRegistered(ctx context.Context, id string) error {
	_, err := s.refunds.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "registered", Value: true}}}})
	return err
}

func (s *MongoStore) RecordAnomaly(ctx context.Context, a Anomaly) error {
	_, err := s.anomalies.UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}}, bson.D{
		{Key: "$setOnInsert", Value: bson.D{
			{Key: "kind", Value: a.Kind}, {Key: "provider", Value: a.Provider}, {Key: "order_id", Value: a.OrderID},
			{Key: "payment_id", Value: a.PaymentID}, {Key: "transaction_id", Value: a.TransactionID}, {Key: "refund_id", Value: a.RefundID},
			{Key: "expected", Value: a.Expected}, {Key: "actual", Value: a.Actual}, {Key: "detail", Value: a.Detail},
			{Key: "first_at", Value: a.FirstAt}, {Key: "resolved", Value: false},
		}},
		{Key: "$set", Value: bson.D{{Key: "last_at", Value: a.LastAt}}},
		{Key: "$inc", Value: bson.D{{Key: "seen", Value: 1}}},
	}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongox.IsDuplicateKey(err) { // two concurrent upserts: the loser's repeat is not worth a retry
		return fmt.Errorf("payments: record anomaly: %w", err)
	}
	return nil
}

func (s *MongoStore) ResolveAnomaly(ctx context.Context, id, note string, now time.Time) error {
	var a Anomaly
	if err := s.anomalies.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&a); err != nil {
		return notFound(err, "anomaly")
	}
	_, err := s.anomalies.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "resolved", Value: false}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "resolved", Value: true}, {Key: "detail", Value: a.Detail + "；" + note}, {Key: "last_at", Value: now}}}})
	return err
}

func (s *MongoStore) Anomalies(ctx context.Context, includeResolved bool, limit int) ([]Anomaly, error) {
	filter := bson.D{}
	if !includeResolved {
		filter = bson.D{{Key: "resolved", Value: false}}
	}
	cur, err := s.anomalies.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "first_at", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("payments: anomalies: %w", err)
	}
	var out []Anomaly
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("payments: anomalies: %w", err)
	}
	return out, nil
}

func (s *MongoStore) SaveReport(ctx context.Context, r Report) error {
	_, err := s.reports.ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.Date}}, r, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("payments: save report: %w", err)
	}
	return nil
}

func (s *MongoStore) Report(ctx context.Context, day string) (Report, error) {
	var r Report
	if err := s.reports.FindOne(ctx, bson.D{{Key: "_id", Value: day}}).Decode(&r); err != nil {
		if mongox.IsNoDocuments(err) {
			return Report{}, ErrReportNotFound
		}
		return Report{}, fmt.Errorf("payments: report: %w", err)
	}
	return r, nil
}
