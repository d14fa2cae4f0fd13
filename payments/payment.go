package payments

import (
	"time"

	"zwfw/platform/events"
)

// Status is where a payment (zwfw's record of one payment notice) stands.
type Status string

// Payment states. unpaid -> paid -> partially_refunded -> refunded;
// unpaid -> cancelled when the platform withdraws the notice.
const (
	StatusUnpaid            Status = "unpaid"
	StatusPaid              Status = "paid"
	StatusPartiallyRefunded Status = "partially_refunded"
	StatusRefunded          Status = "refunded"
	StatusCancelled         Status = "cancelled"
)

// Settled reports whether money was received for the payment (whatever was refunded since).
func (s Status) Settled() bool {
	return s == StatusPaid || s == StatusPartiallyRefunded || s == StatusRefunded
}

// Payment is zwfw's record of one payment notice (缴款通知书) and how it was
// paid: a mirror of the non-tax platform's notice, the open channel order,
// the paid order, refunds and the e-receipt. Its id is the payment code.
type Payment struct {
	ID         string       `bson:"_id" json:"id"` // the payment code
	PayerName  string       `bson:"payer_name" json:"payer_name"`
	PayerKind  string       `bson:"payer_kind" json:"payer_kind"` // person | company
	PayerIndex string       `bson:"payer_index" json:"-"`         // blind index of the payer's ID number / USCC
	PayerMask  string       `bson:"payer_mask" json:"payer_id_masked"`
	Agency     string       `bson:"agency" json:"agency"`
	Items      []NoticeItem `bson:"items" json:"items"`
	Amount     Fen          `bson:"amount" json:"amount_fen"`
	IssuedAt   time.Time    `bson:"issued_at" json:"issued_at"`
	DueAt      time.Time    `bson:"due_at" json:"due_at"`
	CaseNumber string       `bson:"case_number,omitempty" json:"case_number,omitempty"`
	Status     Status       `bson:"status" json:"status"`
	// UserIDs are the users who may see and pay it: the payer's own account
	// (matched by the blind index when they list) and anyone who looked the
	// code up (a company's accountant paying a notice received on paper).
	UserIDs []string `bson:"user_ids" json:"-"`

	// OpenOrder is the one channel order that may be paid now, if any; it
	// is claimed (set) before the order exists, so OpenOrderAt tells a
	// request that finds no order behind it how long it has been waiting.
	OpenOrder   string    `bson:"open_order" json:"-"`
	OpenOrderAt time.Time `bson:"open_order_at,omitempty" json:"-"`

	PaidOrder     string    `bson:"paid_order,omitempty" json:"-"`
	PaidChannel   Channel   `bson:"paid_channel,omitempty" json:"-"`
	TransactionID string    `bson:"transaction_id,omitempty" json:"-"`
	PaidAt        time.Time `bson:"paid_at,omitempty" json:"-"`
	PaidAmount    Fen       `bson:"paid_amount,omitempty" json:"-"`
	Refunded      Fen       `bson:"refunded" json:"-"`  // settled refunds
	Refunding     Fen       `bson:"refunding" json:"-"` // refunds asked for, not yet settled
	// SettledRefunds are the refunds whose money has moved out of
	// refunding (into refunded, or back when they failed), so settling one
	// twice (a retry, or a repair by the invariant check) moves it once.
	SettledRefunds []string  `bson:"settled_refunds,omitempty" json:"-"`
	Receipt        *Receipt  `bson:"receipt,omitempty" json:"-"`
	ConfirmedAt    time.Time `bson:"confirmed_at,omitempty" json:"-"` // the non-tax platform booked the payment

	Version   int64     `bson:"version" json:"-"`
	CreatedAt time.Time `bson:"created_at" json:"-"`
	UpdatedAt time.Time `bson:"updated_at" json:"-"`

	events.Outbox `bson:",inline"`
}

// refundStatus is the status of a settled payment that refunded refunded of paid.
func refundStatus(cur Status, paid, refunded Fen) Status {
	switch {
	case !cur.Settled():
		return cur
	case refunded >= paid:
		return StatusRefunded
	case refunded > 0:
		return StatusPartiallyRefunded
	}
	return StatusPaid
}

// Refundable is what may still be refunded.
func (p *Payment) Refundable() Fen { return p.PaidAmount - p.Refunded - p.Refunding }

// VisibleTo reports whether the user may see the payment: they looked it up
// or are (or represent) the payer.
func (p *Payment) VisibleTo(userID string, payerIndexes []string) bool {
	for _, u := range p.UserIDs {
		if u == userID {
			return true
		}
	}
	for _, ix := range payerIndexes {
		if ix != "" && ix == p.PayerIndex {
			return true
		}
	}
	return false
}

// OrderStatus is where a channel order stands in zwfw.
type OrderStatus string

// Order states: open -> paid, open -> closed, closed -> paid. An order is
// closed in zwfw only after its channel closed it (or when it never reached
// a client); money a channel takes for a closed order anyway (a close that
// raced the payer, an Alipay order string opened after its close) is still
// the payer's payment: applied when the notice is unpaid, refunded
// automatically when another order paid it first.
const (
	OrderOpen   OrderStatus = "open"
	OrderPaid   OrderStatus = "paid"
	OrderClosed OrderStatus = "closed"
)

// Order is one attempt to pay a payment through a channel (支付订单). Its id
// is the out_trade_no the channel knows it by.
type Order struct {
	ID        string      `bson:"_id" json:"id"`
	PaymentID string      `bson:"payment_id" json:"payment_id"`
	UserID    string      `bson:"user_id" json:"-"`
	Channel   Channel     `bson:"channel" json:"channel"`
	Provider  Provider    `bson:"provider" json:"-"`
	Amount    Fen         `bson:"amount" json:"amount_fen"`
	Subject   string      `bson:"subject" json:"-"`
	Status    OrderStatus `bson:"status" json:"status"`
	Prepay    *Prepay     `bson:"prepay,omitempty" json:"-"`
	CreatedAt time.Time   `bson:"created_at" json:"created_at"`
	ExpiresAt time.Time   `bson:"expires_at" json:"expires_at"`

	TransactionID string    `bson:"transaction_id,omitempty" json:"transaction_id,omitempty"`
	PaidAt        time.Time `bson:"paid_at,omitempty" json:"paid_at,omitempty"`
	Payer         string    `bson:"payer,omitempty" json:"-"`
	PaidVia       string    `bson:"paid_via,omitempty" json:"-"` // notify | query | reconciliation

	ClosedAt    time.Time `bson:"closed_at,omitempty" json:"closed_at,omitempty"`
	CloseReason string    `bson:"close_reason,omitempty" json:"close_reason,omitempty"`
}

// RefundStatus is where a refund stands in zwfw.
type RefundStatus string

// RefundKind says why money goes back.
type RefundKind string

// Refund kinds.
const (
	// RefundRequested is a refund staff asked for; it counts against the
	// payment's refundable amount and is registered with the non-tax platform.
	RefundRequested RefundKind = ""
	// RefundDuplicate returns a second payment of the same notice (or money
	// for a withdrawn notice) through its own channel, automatically. The
	// non-tax platform never booked that money, so it neither counts
	// against the refundable amount nor is registered there.
	RefundDuplicate RefundKind = "duplicate"
)

// Refund states: pending -> succeeded | failed.
const (
	RefundStatusPending   RefundStatus = "pending"
	RefundStatusSucceeded RefundStatus = "succeeded"
	RefundStatusFailed    RefundStatus = "failed"
)

// Refund is one refund of a paid payment (退费).
type Refund struct {
	ID            string       `bson:"_id" json:"id"` // out_refund_no
	PaymentID     string       `bson:"payment_id" json:"payment_id"`
	OrderID       string       `bson:"order_id" json:"-"`
	Provider      Provider     `bson:"provider" json:"-"`
	TransactionID string       `bson:"transaction_id" json:"-"`
	OrderAmount   Fen          `bson:"order_amount" json:"-"`
	Amount        Fen          `bson:"amount" json:"amount_fen"`
	Reason        string       `bson:"reason" json:"reason"`
	Actor         string       `bson:"actor" json:"-"`
	Kind          RefundKind   `bson:"kind,omitempty" json:"kind,omitempty"`
	Status        RefundStatus `bson:"status" json:"status"`
	ProviderID    string       `bson:"provider_refund_id,omitempty" json:"-"`
	CreatedAt     time.Time    `bson:"created_at" json:"created_at"`
	SettledAt     time.Time    `bson:"settled_at,omitempty" json:"settled_at,omitempty"`
	Registered    bool         `bson:"registered" json:"-"` // booked with the non-tax platform
	FailReason    string       `bson:"fail_reason,omitempty" json:"fail_reason,omitempty"`

	events.Outbox `bson:",inline"`
}

// AnomalyKind says what went wrong with money that does not match an order.
type AnomalyKind string

// Anomalies, each kept for a person (and the reconciliation report).
const (
	AnomalyForgedNotify     AnomalyKind = "forged_notify"     // bad signature or foreign merchant: nothing changed
	AnomalyAmountMismatch   AnomalyKind = "amount_mismatch"   // the channel says another amount than our order
	AnomalySurplus          AnomalyKind = "surplus"           // 长款: money for an order we closed or do not know
	AnomalyDuplicatePayment AnomalyKind = "duplicate_payment" // a second order of an already paid notice was paid too: refunded automatically
	AnomalyNotPayable       AnomalyKind = "not_payable"       // the platform refused the confirmation, or money came for a withdrawn notice
	AnomalyRefundFailed     AnomalyKind = "refund_failed"
)

// Anomaly is money zwfw could not apply automatically; it waits for a person.
// Its id is deterministic per (kind, provider, reference) so a notify
// retried 15 times records it once.
type Anomaly struct {
	ID            string      `bson:"_id" json:"id"`
	Kind          AnomalyKind `bson:"kind" json:"kind"`
	Provider      Provider    `bson:"provider,omitempty" json:"provider,omitempty"`
	OrderID       string      `bson:"order_id,omitempty" json:"order_id,omitempty"`
	PaymentID     string      `bson:"payment_id,omitempty" json:"payment_id,omitempty"`
	TransactionID string      `bson:"transaction_id,omitempty" json:"transaction_id,omitempty"`
	RefundID      string      `bson:"refund_id,omitempty" json:"refund_id,omitempty"` // the automatic refund that returns the money, if any
	Expected      Fen         `bson:"expected" json:"expected_fen"`
	Actual        Fen         `bson:"actual" json:"actual_fen"`
	Detail        string      `bson:"detail" json:"detail"`
	Seen          int         `bson:"seen" json:"seen"` // how many times the same anomaly arrived
	FirstAt       time.Time   `bson:"first_at" json:"first_at"`
	LastAt        time.Time   `bson:"last_at" json:"last_at"`
	Resolved      bool        `bson:"resolved" json:"resolved"`
}
