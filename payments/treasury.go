package payments

import (
	"context"
	"errors"
	"time"
)

// Treasury is the non-tax payment platform (非税收入统一公共支付平台) as
// payments needs it. The client lives in payments/nontax; the fake in
// sandbox/nontax. Every method is safe for concurrent use; errors other than
// the sentinels below are temporary (the caller retries later).
type Treasury interface {
	// Notice returns the payment notice with this payment code.
	// ErrNoticeNotFound when the platform has none.
	Notice(ctx context.Context, paymentCode string) (Notice, error)
	// NoticesOf lists the notices issued to a payer (an ID number or a USCC).
	NoticesOf(ctx context.Context, payerID string) ([]Notice, error)
	// ConfirmPaid tells the platform that a notice was paid through a channel
	// and returns the official e-receipt. Idempotent on (PaymentCode,
	// TransactionID): a repeat returns the same receipt. ErrNoticeNotPayable
	// when the notice was cancelled or already paid by another transaction.
	ConfirmPaid(ctx context.Context, c Confirmation) (Receipt, error)
	// RegisterRefund records a refund of a paid notice. Idempotent on RefundNo.
	RegisterRefund(ctx context.Context, r RefundRegistration) error
	// Confirmations lists the confirmations the platform booked on one day
	// (Asia/Shanghai), for reconciliation.
	Confirmations(ctx context.Context, day time.Time) ([]Confirmation, error)
}

// Notice is a payment notice (缴款通知书) as the platform issued it.
type Notice struct {
	PaymentCode string       `json:"payment_code"` // 缴款码, 20 digits
	PayerName   string       `json:"payer_name"`
	PayerID     string       `json:"payer_id"` // ID number or USCC of the payer
	Agency      string       `json:"agency"`   // the collecting agency (执收单位)
	Items       []NoticeItem `json:"items"`
	Amount      Fen          `json:"amount"` // sum of the items
	IssuedAt    time.Time    `json:"issued_at"`
	DueAt       time.Time    `json:"due_at"`
	CaseNumber  string       `json:"case_number,omitempty"` // the case the fee belongs to, if any
	Status      NoticeStatus `json:"status"`
	// Set once paid (as the platform booked it).
	Receipt *Receipt `json:"receipt,omitempty"`
}

// NoticeItem is one charge on a notice (收费项目).
type NoticeItem struct {
	Code     string `json:"code"` // 收费项目编码
	Name     string `json:"name"`
	Amount   Fen    `json:"amount"`
	Quantity int    `json:"quantity"`
}

// NoticeStatus is a notice's state at the platform.
type NoticeStatus string

// Notice states.
const (
	NoticeUnpaid    NoticeStatus = "unpaid"
	NoticePaid      NoticeStatus = "paid"
	NoticeRefunded  NoticeStatus = "refunded" // wholly refunded
	NoticeCancelled NoticeStatus = "cancelled"
)

// Confirmation says a notice was paid through a channel.
type Confirmation struct {
	PaymentCode   string    `json:"payment_code"`
	Channel       Channel   `json:"channel"`
	TransactionID string    `json:"transaction_id"`
	OutTradeNo    string    `json:"out_trade_no"`
	Amount        Fen       `json:"amount"`
	PaidAt        time.Time `json:"paid_at"`
}

// Receipt is the official e-receipt (财政电子票据) of a paid notice.
type Receipt struct {
	Number   string    `json:"number"`    // 票据号码
	Code     string    `json:"code"`      // 票据代码
	CheckSum string    `json:"check_sum"` // 校验码
	URL      string    `json:"url"`       // download link (PDF/OFD)
	IssuedAt time.Time `json:"issued_at"`
}

// RefundRegistration records a refund with the platform.
type RefundRegistration struct {
	PaymentCode string    `json:"payment_code"`
	RefundNo    string    `json:"refund_no"`
	Amount      Fen       `json:"amount"`
	Reason      string    `json:"reason"`
	RefundedAt  time.Time `json:"refunded_at"`
}

// Errors the Treasury returns (wrapped).
var (
	ErrNoticeNotFound   = errors.New("payments: no such payment notice")
	ErrNoticeNotPayable = errors.New("payments: notice cancelled or paid by another transaction")
)
