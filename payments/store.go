package payments

import (
	"context"
	"time"

	"zwfw/platform/events"
)

// Store persists payments, channel orders, refunds, anomalies and
// reconciliation reports. Every method that changes state is one
// single-document write guarded by the expected current state and returns
// false (not an error) when the guard no longer holds, so the caller can
// reload and decide. Events passed to a write (or waiting in a document's
// outbox) are stored by that same write. Not-found reads return ErrNotFound
// (wrapped).
type Store interface {
	// InsertPayment stores a new payment mirror (with the events in its
	// outbox); if one with the id exists it returns that one and false.
	InsertPayment(ctx context.Context, p Payment) (Payment, bool, error)
	Payment(ctx context.Context, id string) (Payment, error)
	// AddViewer lets a user (who looked the code up) see the payment.
	AddViewer(ctx context.Context, id, userID string) error
	// PaymentsFor lists the payments a user may see, newest first.
	PaymentsFor(ctx context.Context, userID string, payerIndexes []string, status Status, limit int) ([]Payment, error)
	// PaymentsOfCase lists the payments that belong to a case number.
	PaymentsOfCase(ctx context.Context, caseNumber string) ([]Payment, error)
	// PaymentsAfter lists up to limit payments with ids above afterID, by id
	// (the invariant check's walk over every payment).
	PaymentsAfter(ctx context.Context, afterID string, limit int) ([]Payment, error)
	// SetOpenOrder moves the open-order pointer from prev ("" for none) to
	// next ("" to clear) while the payment is unpaid; at is when it moved.
	SetOpenOrder(ctx context.Context, id, prev, next string, at time.Time) (bool, error)
	// MarkPaymentPaid records that order o paid the unpaid payment, with
	// its payment.succeeded event, and returns the open-order pointer it
	// cleared (another order a client may still hold).
	MarkPaymentPaid(ctx context.Context, id string, o Order, ev events.Pending, now time.Time) (prevOpen string, won bool, err error)
	// CancelPayment marks an unpaid payment cancelled (the platform withdrew it).
	CancelPayment(ctx context.Context, id string, now time.Time) (bool, error)
	// SetReceipt stores the e-receipt, with its event, unless one is stored.
	SetReceipt(ctx context.Context, id string, r Receipt, ev events.Pending, now time.Time) (bool, error)
	// ReserveRefund adds amount to the refunding total if the payment is
	// still at version (so two admins cannot both refund the last yuan).
	ReserveRefund(ctx context.Context, id string, version int64, amount Fen, now time.Time) (bool, error)
	// SettleRefund moves refund r's amount out of refunding: into refunded
	// when it succeeded, back to refundable when it failed; the status
	// follows. Guarded by version and by r not being settled already.
	SettleRefund(ctx context.Context, p Payment, r Refund, succeeded bool, now time.Time) (bool, error)
	// SetTotals rewrites what a payment says it was paid and refunded (the
	// invariant check's repair), guarded by version.
	SetTotals(ctx context.Context, id string, version int64, t Totals, now time.Time) (bool, error)

	InsertOrder(ctx context.Context, o Order) error
	Order(ctx context.Context, id string) (Order, error)
	SetPrepay(ctx context.Context, id string, p Prepay) error
	// MarkOrderPaid moves an open or closed order to paid with the channel's trade.
	MarkOrderPaid(ctx context.Context, id string, t Trade, via string) (bool, error)
	// CloseOrder moves an open order to closed.
	CloseOrder(ctx context.Context, id, reason string, now time.Time) (bool, error)
	OrdersOfPayment(ctx context.Context, paymentID string) ([]Order, error)
	// OrdersOfPayments lists the orders of several payments at once.
	OrdersOfPayments(ctx context.Context, paymentIDs []string) ([]Order, error)
	// OrdersPaidBetween lists a provider's orders paid in [from, to).
	OrdersPaidBetween(ctx context.Context, p Provider, from, to time.Time) ([]Order, error)

	// InsertRefund stores a new refund (with the events in its outbox); if
	// one with the id exists it returns it and false.
	InsertRefund(ctx context.Context, r Refund) (Refund, bool, error)
	Refund(ctx context.Context, id string) (Refund, error)
	RefundsOfPayment(ctx context.Context, paymentID string) ([]Refund, error)
	// RefundsOfPayments lists the refunds of several payments at once.
	RefundsOfPayments(ctx context.Context, paymentIDs []string) ([]Refund, error)
	// FinishRefund moves a pending refund to succeeded or failed, with evs.
	FinishRefund(ctx context.Context, id string, status RefundStatus, providerID, failReason string, at time.Time, evs ...events.Pending) (bool, error)
	MarkRefundRegistered(ctx context.Context, id string) error

	// RecordAnomaly stores an anomaly once per id and counts repeats.
	RecordAnomaly(ctx context.Context, a Anomaly) error
	// ResolveAnomaly marks an anomaly resolved (e.g. its automatic refund
	// reached the payer), adding note to its detail.
	ResolveAnomaly(ctx context.Context, id, note string, now time.Time) error
	Anomalies(ctx context.Context, includeResolved bool, limit int) ([]Anomaly, error)

	SaveReport(ctx context.Context, r Report) error
	Report(ctx context.Context, day string) (Report, error)
}

// Totals is what a payment says it was paid and refunded.
type Totals struct {
	Status        Status
	PaidOrder     string
	PaidChannel   Channel
	TransactionID string
	PaidAt        time.Time
	PaidAmount    Fen
	Refunded      Fen
	Refunding     Fen
	// SettledRefunds: see Payment.SettledRefunds.
	SettledRefunds []string
}

// totalsOf reads a payment's totals.
func totalsOf(p Payment) Totals {
	return Totals{Status: p.Status, PaidOrder: p.PaidOrder, PaidChannel: p.PaidChannel, TransactionID: p.TransactionID,
		PaidAt: p.PaidAt, PaidAmount: p.PaidAmount, Refunded: p.Refunded, Refunding: p.Refunding,
		SettledRefunds: p.SettledRefunds}
}
