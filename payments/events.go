package payments

import (
	"time"

	"zwfw/platform/events"
)

// Event types of the payments package. Every event's subject is
// "payment:<payment code>"; each rides in the same document write as the
// state change that causes it (see events.Outbox) and has a deterministic
// id, so relaying it twice appends it once.
const (
	// EventNoticeIssued: zwfw saw a payment notice for the first time
	// (payload NoticeIssued; written with the payment's insert).
	EventNoticeIssued = "payment.notice_issued"
	// EventSucceeded: a channel order paid the notice (payload Succeeded;
	// written with the payment's move to paid).
	EventSucceeded = "payment.succeeded"
	// EventReceiptIssued: the non-tax platform booked the payment and issued
	// the e-receipt (payload ReceiptIssued; written with the receipt).
	EventReceiptIssued = "payment.receipt_issued"
	// EventRefunded: a refund asked for by staff reached the payer (payload
	// Refunded; written with the refund's move to succeeded).
	EventRefunded = "payment.refunded"
	// EventDuplicatePaid: a second order of the notice was paid too and its
	// money is being returned automatically through its own channel
	// (payload DuplicatePaid; written with the refund that returns it).
	EventDuplicatePaid = "payment.duplicate_paid"
)

// Subject is the event subject of a payment.
func Subject(paymentCode string) string { return "payment:" + paymentCode }

// NoticeIssued is the payload of payment.notice_issued.
type NoticeIssued struct {
	PaymentCode string    `bson:"payment_code"`
	Amount      Fen       `bson:"amount_fen"`
	DueAt       time.Time `bson:"due_at"`
	Agency      string    `bson:"agency"`
	CaseNumber  string    `bson:"case_number"`
	// UserIDs are the users who could see the notice when it was mirrored.
	UserIDs []string `bson:"user_ids"`
	// PayerIndex is the blind index of the payer's ID number or USCC, so a
	// consumer can find the payer's account without the identifier itself.
	PayerIndex string `bson:"payer_index"`
}

// Succeeded is the payload of payment.succeeded.
type Succeeded struct {
	PaymentCode   string    `bson:"payment_code"`
	OrderID       string    `bson:"order_id"`
	Channel       Channel   `bson:"channel"`
	Amount        Fen       `bson:"amount_fen"`
	TransactionID string    `bson:"transaction_id"`
	PaidAt        time.Time `bson:"paid_at"`
	UserID        string    `bson:"user_id"` // who opened the paid order
	CaseNumber    string    `bson:"case_number"`
}

// ReceiptIssued is the payload of payment.receipt_issued.
type ReceiptIssued struct {
	PaymentCode   string `bson:"payment_code"`
	ReceiptNumber string `bson:"receipt_number"`
	ReceiptURL    string `bson:"receipt_url"`
	UserID        string `bson:"user_id"`
	Amount        Fen    `bson:"amount_fen"`
}

// Refunded is the payload of payment.refunded.
type Refunded struct {
	PaymentCode string `bson:"payment_code"`
	RefundID    string `bson:"refund_id"`
	Amount      Fen    `bson:"amount_fen"`
	Reason      string `bson:"reason"`
	UserID      string `bson:"user_id"` // who paid (the paid order's user)
}

// DuplicatePaid is the payload of payment.duplicate_paid.
type DuplicatePaid struct {
	PaymentCode   string  `bson:"payment_code"`
	OrderID       string  `bson:"order_id"` // the order paid a second time
	Channel       Channel `bson:"channel"`
	Amount        Fen     `bson:"amount_fen"`
	TransactionID string  `bson:"transaction_id"`
	RefundID      string  `bson:"refund_id"` // the refund returning it
	UserID        string  `bson:"user_id"`   // who opened that order
	CaseNumber    string  `bson:"case_number"`
}

// Event builders: one deterministic id per state change.

func noticeIssuedEvent(p Payment, at time.Time) events.Pending {
	return events.MustPending(Subject(p.ID)+":notice_issued", EventNoticeIssued, Subject(p.ID), "nontax", NoticeIssued{
		PaymentCode: p.ID, Amount: p.Amount, DueAt: p.DueAt, Agency: p.Agency, CaseNumber: p.CaseNumber,
		UserIDs: p.UserIDs, PayerIndex: p.PayerIndex,
	}, at)
}

func succeededEvent(p Payment, o Order, at time.Time) events.Pending {
	return events.MustPending(Subject(p.ID)+":paid", EventSucceeded, Subject(p.ID), "system", Succeeded{
		PaymentCode: p.ID, OrderID: o.ID, Channel: o.Channel, Amount: o.Amount, TransactionID: o.TransactionID,
		PaidAt: o.PaidAt, UserID: o.UserID, CaseNumber: p.CaseNumber,
	}, at)
}

func receiptIssuedEvent(paymentID string, r Receipt, o Order, at time.Time) events.Pending {
	return events.MustPending(Subject(paymentID)+":receipt", EventReceiptIssued, Subject(paymentID), "nontax", ReceiptIssued{
		PaymentCode: paymentID, ReceiptNumber: r.Number, ReceiptURL: r.URL, UserID: o.UserID, Amount: o.Amount,
	}, at)
}

func refundedEvent(r Refund, userID string, at time.Time) events.Pending {
	return events.MustPending(Subject(r.PaymentID)+":refund:"+r.ID, EventRefunded, Subject(r.PaymentID), r.Actor, Refunded{
		PaymentCode: r.PaymentID, RefundID: r.ID, Amount: r.Amount, Reason: r.Reason, UserID: userID,
	}, at)
}

func duplicatePaidEvent(p Payment, o Order, refundID string, at time.Time) events.Pending {
	return events.MustPending(Subject(p.ID)+":duplicate:"+o.ID, EventDuplicatePaid, Subject(p.ID), "system", DuplicatePaid{
		PaymentCode: p.ID, OrderID: o.ID, Channel: o.Channel, Amount: o.Amount, TransactionID: o.TransactionID,
		RefundID: refundID, UserID: o.UserID, CaseNumber: p.CaseNumber,
	}, at)
}
