package payments

import (
	"context"
	"errors"
	"time"
)

// Channel is how the payer pays: the provider and the client it pays from.
type Channel string

// The four channels zwfw offers.
const (
	WeChatJSAPI Channel = "wechat_jsapi" // WeChat Pay inside the mini-program (wx.requestPayment)
	WeChatApp   Channel = "wechat_app"   // WeChat Pay from the mobile app (OpenSDK)
	AlipayApp   Channel = "alipay_app"   // Alipay from the mobile app (order string)
	AlipayWap   Channel = "alipay_wap"   // Alipay in a mobile browser (H5 redirect)
)

// Provider is the payment institution behind a channel.
type Provider string

// The two providers.
const (
	WeChatPay Provider = "wechatpay"
	Alipay    Provider = "alipay"
)

// Channels lists every channel, in the order clients show them.
var Channels = []Channel{WeChatJSAPI, WeChatApp, AlipayApp, AlipayWap}

// Valid reports whether c is one of Channels.
func (c Channel) Valid() bool {
	for _, k := range Channels {
		if c == k {
			return true
		}
	}
	return false
}

// Provider is the institution that runs the channel.
func (c Channel) Provider() Provider {
	switch c {
	case WeChatJSAPI, WeChatApp:
		return WeChatPay
	case AlipayApp, AlipayWap:
		return Alipay
	}
	return ""
}

// Gateway is one payment provider as payments needs it. An adapter
// (payments/wechatpay, payments/alipay) implements it on the provider's SDK;
// every method is safe for concurrent use. Errors that the provider reports
// about the order itself are the package's sentinel errors below (wrapped);
// anything else (network, 5xx, unparseable reply) is temporary and the caller
// retries later.
type Gateway interface {
	Provider() Provider
	// Prepay creates the channel order (or returns the still-open one for the
	// same out_trade_no) and what the client needs to pay it.
	Prepay(ctx context.Context, req PrepayRequest) (Prepay, error)
	// Query asks the provider for the trade's state (the active query that
	// recovers lost notifies). ErrTradeNotFound when the provider never saw it.
	Query(ctx context.Context, outTradeNo string) (Trade, error)
	// Close closes an unpaid trade so it can no longer be paid. Closing a trade
	// the provider never saw, or one already closed, succeeds; closing a paid
	// trade returns ErrTradePaid.
	Close(ctx context.Context, outTradeNo string) error
	// Refund asks for a (partial) refund; repeating the same OutRefundNo is
	// idempotent at the provider. The result may be pending (WeChat settles
	// refunds asynchronously; Alipay usually at once).
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
	// QueryRefund asks for a refund's state. ErrRefundNotFound when unknown.
	QueryRefund(ctx context.Context, outTradeNo, outRefundNo string) (RefundResult, error)
	// ParseNotify verifies an inbound notify (signature, and that it is for
	// our app id / merchant id) and returns what it says. ErrForgedNotify when
	// the signature does not verify; ErrForeignNotify when the notify is
	// signed correctly but for another app or merchant. The caller still
	// checks amount, currency and order state.
	ParseNotify(ctx context.Context, n InboundNotify) (Notification, error)
	// Ack is the body (and content type) the provider expects in answer to a
	// notify: success stops its retries, failure makes it retry later.
	Ack(success bool) (body []byte, contentType string)
	// Bill downloads the provider's bill of trades and refunds for one day
	// (Asia/Shanghai). ErrBillNotReady while the provider has not produced it
	// yet; an empty bill for a day without trades is not an error.
	Bill(ctx context.Context, day time.Time) ([]BillLine, error)
}

// PrepayRequest is one channel order to create.
type PrepayRequest struct {
	Channel    Channel
	OutTradeNo string // our order id; letters and digits, <= 32 characters
	Amount     Fen
	Subject    string    // what is paid for, shown in the payer's app (<= 128 bytes)
	OpenID     string    // the payer's openid; required for WeChatJSAPI
	ClientIP   string    // the payer's IP as seen by zwfw
	NotifyURL  string    // where the provider sends the paid notify
	ReturnURL  string    // AlipayWap: where the browser returns after paying
	ExpiresAt  time.Time // after this the provider refuses to take the money
	Attach     string    // echoed back in notifies (we put the payment id)
}

// Prepay is what a client needs to pay one channel order. Exactly one of
// the three is set, by channel.
type Prepay struct {
	// WeChat: the wx.requestPayment parameters (JSAPI: appId, timeStamp,
	// nonceStr, package, signType, paySign) or the app's PayReq parameters
	// (APP: appid, partnerid, prepayid, package, noncestr, timestamp, sign).
	Params map[string]string `json:"params,omitempty"`
	// AlipayApp: the signed order string handed to the Alipay app SDK.
	OrderString string `json:"order_string,omitempty"`
	// AlipayWap: the cashier URL the browser is sent to.
	PayURL string `json:"pay_url,omitempty"`
}

// TradeState is a channel order's state at the provider, normalized.
type TradeState string

// Trade states.
const (
	TradeNotPaid  TradeState = "not_paid" // created, waiting for the payer (WeChat NOTPAY/USERPAYING, Alipay WAIT_BUYER_PAY)
	TradePaid     TradeState = "paid"     // money received (WeChat SUCCESS, Alipay TRADE_SUCCESS/TRADE_FINISHED)
	TradeRefunded TradeState = "refunded" // paid, then (partly) refunded (WeChat REFUND); the money was received
	TradeClosed   TradeState = "closed"   // closed or revoked without payment (WeChat CLOSED/REVOKED/PAYERROR, Alipay TRADE_CLOSED unpaid)
)

// Trade is a channel order as the provider reports it (query or notify).
type Trade struct {
	OutTradeNo    string
	TransactionID string // the provider's trade number (WeChat transaction_id, Alipay trade_no)
	State         TradeState
	Amount        Fen       // total the payer paid (WeChat total_fee, Alipay total_amount)
	Currency      string    // "CNY"
	PaidAt        time.Time // zero unless paid
	Payer         string    // openid / buyer id, for the record
	Attach        string    // our attach, echoed
}

// InboundNotify is a raw notify as it reached the callback route.
type InboundNotify struct {
	Body        []byte
	ContentType string
	// Form is the parsed body for form-encoded notifies (Alipay).
	Form map[string][]string
}

// NotificationKind says what a notify reports.
type NotificationKind string

// Notification kinds.
const (
	NotifyPaid     NotificationKind = "paid"
	NotifyRefunded NotificationKind = "refund"
	NotifyOther    NotificationKind = "other" // a verified notify we have nothing to do with (e.g. Alipay WAIT_BUYER_PAY)
)

// Notification is a verified notify.
type Notification struct {
	Kind   NotificationKind
	Trade  Trade        // for NotifyPaid (and the trade of a refund)
	Refund RefundResult // for NotifyRefunded
	// ID identifies this notify for the record (WeChat: transaction_id or
	// refund_id; Alipay: notify_id).
	ID string
}

// RefundRequest is one refund to ask for.
type RefundRequest struct {
	OutTradeNo    string
	TransactionID string
	OutRefundNo   string // our refund id; idempotency key at the provider
	Total         Fen    // the order's total
	Amount        Fen    // this refund
	Reason        string
	NotifyURL     string // WeChat: where the refund notify goes
}

// RefundState is a refund's state at the provider.
type RefundState string

// Refund states.
const (
	RefundPending RefundState = "pending" // accepted, money not yet back (WeChat PROCESSING)
	RefundSuccess RefundState = "success" // money returned to the payer
	RefundFailed  RefundState = "failed"  // the provider gave up (WeChat CHANGE/REFUNDCLOSE); needs a person
)

// RefundResult is a refund as the provider reports it.
type RefundResult struct {
	OutTradeNo  string
	OutRefundNo string
	RefundID    string // the provider's refund id (Alipay has none: empty)
	Amount      Fen
	State       RefundState
	SettledAt   time.Time // zero unless success
}

// BillLineKind says whether a bill line is money in or money out.
type BillLineKind string

// Bill line kinds.
const (
	BillPayment BillLineKind = "payment"
	BillRefund  BillLineKind = "refund"
)

// BillLine is one line of a provider's daily bill.
type BillLine struct {
	Kind          BillLineKind
	OutTradeNo    string
	TransactionID string
	Amount        Fen // payments: the amount paid; refunds: the amount refunded (positive)
	OutRefundNo   string
	RefundID      string
	At            time.Time // trade time (payments) or refund time (refunds)
}

// Errors an adapter returns (wrapped) for conditions the domain acts on.
var (
	ErrTradeNotFound  = errors.New("payments: trade not found at the provider")
	ErrTradePaid      = errors.New("payments: trade already paid at the provider")
	ErrTradeClosed    = errors.New("payments: trade closed at the provider")
	ErrRefundNotFound = errors.New("payments: refund not found at the provider")
	ErrRefundRefused  = errors.New("payments: provider refused the refund") // e.g. more than paid, trade too old
	ErrForgedNotify   = errors.New("payments: notify signature does not verify")
	ErrForeignNotify  = errors.New("payments: notify is for another app or merchant")
	ErrBillNotReady   = errors.New("payments: bill not ready yet")
)
