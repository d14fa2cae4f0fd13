package payments

import (
	"context"
	"time"
)

// Store persists payments, channel orders, refunds, anomalies, idempotency
// records and reconciliation reports. Every method that changes state is one
// single-document write guarded by the expected current state and returns
// false (not an error) when the guard no longer holds, so the caller can
// reload and decide. Not-found reads return ErrNotFound (wrapped).
type Store interface {
	// InsertPayment stores a new payment mirror; if one with the id exists
	// it returns that one and false.
	InsertPayment(ctx context.Context, p Payment) (Payment, bool, error)
	Payment(ctx context.Context, id string) (Payment, error)
	// AddViewer lets a user (who looked the code up) see the payment.
	AddViewer(ctx context.Context, id, userID string) error
	// PaymentsFor lists the payments a user may see, newest first.
	PaymentsFor(ctx context.Context, userID string, payerIndexes []string, status Status, limit int) ([]Payment, error)
	// PaymentsOfCase lists the payments that belong to a case number.
	PaymentsOfCase(ctx context.Context, caseNumber string) ([]Payment, error)
	// SetOpenOrder moves the open-order pointer from prev ("" for none) to
	// next ("" to clear) while the payment is unpaid.
	SetOpenOrder(ctx context.Context, id, prev, next string) (bool, error)
	// MarkPaymentPaid records that order paid the unpaid payment.
	MarkPaymentPaid(ctx context.Context, id string, o Order, now time.Time) (bool, error)
	// CancelPayment marks an unpaid payment cancelled (the platform withdrew it).
	CancelPayment(ctx context.Context, id string, now time.Time) (bool, error)
	// SetReceipt stores the e-receipt once the platform booked the payment.
	SetReceipt(ctx context.Context, id string, r Receipt, now time.Time) error
	// ReserveRefund adds amount to the refunding total if the payment is
	// still at version (so two admins cannot both refund the last yuan).
	ReserveRefund(ctx context.Context, id string, version int64, amount Fen, now time.Time) (bool, error)
	// SettleRefund moves amount out of refunding: into refunded when the
	// refund succeeded, back to refundable when it failed; the status
	// follows. Guarded by version.
	SettleRefund(ctx context.Context, p Payment, amount Fen, succeeded bool, now time.Time) (bool, error)

	InsertOrder(ctx context.Context, o Order) error
	Order(ctx context.Context, id string) (Order, error)
	SetPrepay(ctx context.Context, id string, p Prepay) error
	// MarkOrderPaid moves an open order to paid with the channel's trade.
	MarkOrderPaid(ctx context.Context, id string, t Trade, via string) (bool, error)
	// CloseOrder moves an open order to closed.
	CloseOrder(ctx context.Context, id, reason string, now time.Time) (bool, error)
	OrdersOfPayment(ctx context.Context, paymentID string) ([]Order, error)
	// OrdersPaidBetween lists a provider's orders paid in [from, to).
	OrdersPaidBetween(ctx context.Context, p Provider, from, to time.Time) ([]Order, error)

	// InsertRefund stores a new refund; if one with the id exists it returns it and false.
	InsertRefund(ctx context.Context, r Refund) (Refund, bool, error)
	Refund(ctx context.Context, id string) (Refund, error)
	RefundsOfPayment(ctx context.Context, paymentID string) ([]Refund, error)
	// FinishRefund moves a pending refund to succeeded or failed.
	FinishRefund(ctx context.Context, id string, status RefundStatus, providerID, failReason string, at time.Time) (bool, error)
	MarkRefundRegistered(ctx context.Context, id string) error
	// DeleteRefund removes a refund that never reserved money (its reservation failed).
	DeleteRefund(ctx context.Context, id string) error

	// RecordAnomaly stores an anomaly once per id and counts repeats.
	RecordAnomaly(ctx context.Context, a Anomaly) error
	Anomalies(ctx context.Context, includeResolved bool, limit int) ([]Anomaly, error)

	// Idem returns the order id and request hash recorded for an idempotency key.
	Idem(ctx context.Context, key string) (orderID, hash string, found bool, err error)
	// PutIdem records (or moves) an idempotency key to an order.
	PutIdem(ctx context.Context, key, hash, orderID string, now time.Time) error

	SaveReport(ctx context.Context, r Report) error
	Report(ctx context.Context, day string) (Report, error)
}
