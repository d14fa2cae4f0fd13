package wechatpay

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"zwfw/sandbox/fake"
)

// Errors of the Go controls (the HTTP controls answer them as 404/409/400).
var (
	ErrOrderNotFound = errors.New("wechatpay: no such order")
	ErrNotPayable    = errors.New("wechatpay: order is not waiting for payment")
	ErrOrderExpired  = errors.New("wechatpay: order expired (time_expire passed)")
	ErrNotClosed     = errors.New("wechatpay: a surplus needs an order the merchant closed")
	ErrPayParams     = errors.New("wechatpay: payment parameters do not verify")
	ErrNotifyMode    = errors.New(`wechatpay: notify must be "send", "drop" or "twice"`)
)

// PayOptions shapes a simulated payment.
type PayOptions struct {
	// AmountFen, when > 0, is what the payer pays instead of the order's
	// total_fee (a wrong amount in the notify, the query and the bill).
	AmountFen int64 `json:"amount_fen,omitempty"`
	// Notify: what happens to the paid notify; "" = the default mode.
	Notify NotifyMode `json:"notify,omitempty"`
}

// Pay is the user paying an order (the Go form of POST
// /sandbox/wechatpay/pay): the order becomes SUCCESS with a new
// transaction_id and the signed paid notify goes to its notify_url.
// Returns ErrOrderNotFound, ErrNotPayable (paid or closed), ErrOrderExpired
// or ErrNotifyMode.
func (s *Server) Pay(outTradeNo string, opts PayOptions) error {
	return s.markPaid(outTradeNo, opts, false)
}

// Surplus is money arriving for an order the merchant has closed (长款):
// the order is paid anyway, its paid notify is sent and it appears in the
// bill. Returns ErrOrderNotFound, ErrNotClosed or ErrNotifyMode.
func (s *Server) Surplus(outTradeNo string, opts PayOptions) error {
	return s.markPaid(outTradeNo, opts, true)
}

func (s *Server) markPaid(outTradeNo string, opts PayOptions, surplus bool) error {
	now := s.now()
	s.mu.Lock()
	mode := opts.Notify
	if mode == "" {
		mode = s.notifyMode
	}
	if !mode.valid() {
		s.mu.Unlock()
		return ErrNotifyMode
	}
	o := s.orders[outTradeNo]
	switch {
	case o == nil:
		s.mu.Unlock()
		return ErrOrderNotFound
	case surplus && o.State != StateClosed:
		s.mu.Unlock()
		return fmt.Errorf("%w (state %s)", ErrNotClosed, o.State)
	case !surplus && o.State != StateNotPaid:
		s.mu.Unlock()
		return fmt.Errorf("%w (state %s)", ErrNotPayable, o.State)
	case !surplus && !o.TimeExpire.IsZero() && now.After(o.TimeExpire):
		s.mu.Unlock()
		return ErrOrderExpired
	}
	o.State, o.Surplus = StateSuccess, surplus
	o.TransactionID = newTransactionID(now)
	for s.byTxn[o.TransactionID] != nil {
		o.TransactionID = newTransactionID(now)
	}
	s.byTxn[o.TransactionID] = o
	o.PaidFee = o.TotalFee
	if opts.AmountFen > 0 {
		o.PaidFee = opts.AmountFen
	}
	o.PaidAt, o.BankType, o.paidSeq = now, "OTHERS", s.nextSeq()
	if o.OpenID == "" {
		// APP payers have an openid under the app's app id too.
		o.OpenID = "o" + fake.RandomString(fake.Alphanumeric, 27)
	}
	sends := s.queueNotify(KindPaid, o.OutTradeNo, "", o.NotifyURL, s.paidNotify(o), mode, now)
	s.mu.Unlock()
	s.log.Info("wechatpay order paid", "out_trade_no", outTradeNo, "paid_fee", o.PaidFee, "surplus", surplus, "notify", mode)
	s.deliverAll(sends)
	return nil
}

// PayParams is the user paying with what the client was given: the
// wx.requestPayment parameters (JSAPI: appId, timeStamp, nonceStr, package,
// signType, paySign) or the app's PayReq (APP: appid, partnerid, prepayid,
// package, noncestr, timestamp, sign). It checks them as the WeChat client
// does — signature, app id, merchant, a live prepay_id — then pays. Returns
// the out_trade_no paid, ErrPayParams or Pay's errors.
func (s *Server) PayParams(params map[string]string, opts PayOptions) (string, error) {
	outTradeNo, err := s.checkPayParams(params)
	if err != nil {
		return "", err
	}
	return outTradeNo, s.Pay(outTradeNo, opts)
}

func (s *Server) checkPayParams(p map[string]string) (string, error) {
	var appID, prepayID string
	switch {
	case p["paySign"] != "": // JSAPI
		signType := p["signType"]
		if signType != SignMD5 && signType != SignHMACSHA256 {
			return "", fmt.Errorf("%w: signType %q", ErrPayParams, signType)
		}
		signed := map[string]string{"appId": p["appId"], "timeStamp": p["timeStamp"], "nonceStr": p["nonceStr"], "package": p["package"], "signType": signType}
		if Sign(signed, s.apiKey, signType) != p["paySign"] {
			return "", fmt.Errorf("%w: paySign", ErrPayParams)
		}
		var ok bool
		appID = p["appId"]
		if prepayID, ok = strings.CutPrefix(p["package"], "prepay_id="); !ok {
			return "", fmt.Errorf("%w: package", ErrPayParams)
		}
	case p["sign"] != "": // APP
		signed := map[string]string{"appid": p["appid"], "partnerid": p["partnerid"], "prepayid": p["prepayid"], "package": p["package"], "noncestr": p["noncestr"], "timestamp": p["timestamp"]}
		if Sign(signed, s.apiKey, SignMD5) != p["sign"] {
			return "", fmt.Errorf("%w: sign", ErrPayParams)
		}
		if p["partnerid"] != s.mchID || p["package"] != "Sign=WXPay" {
			return "", fmt.Errorf("%w: partnerid or package", ErrPayParams)
		}
		appID, prepayID = p["appid"], p["prepayid"]
	default:
		return "", fmt.Errorf("%w: neither paySign (JSAPI) nor sign (APP)", ErrPayParams)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.orderList {
		if o.PrepayID == prepayID && prepayID != "" {
			if o.AppID != appID {
				return "", fmt.Errorf("%w: app id is not the order's", ErrPayParams)
			}
			if now.Sub(o.PrepayAt) >= PrepayTTL {
				return "", fmt.Errorf("%w: prepay_id expired", ErrPayParams)
			}
			return o.OutTradeNo, nil
		}
	}
	return "", fmt.Errorf("%w: unknown prepay_id", ErrPayParams)
}

// SetNotifyMode sets what happens to notifies that do not choose (refund
// notifies, payments without PayOptions.Notify). Returns ErrNotifyMode.
func (s *Server) SetNotifyMode(m NotifyMode) error {
	if !m.valid() {
		return ErrNotifyMode
	}
	s.mu.Lock()
	s.notifyMode = m
	s.mu.Unlock()
	return nil
}

// NotifyMode returns the default notify mode.
func (s *Server) NotifyMode() NotifyMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notifyMode
}

// Order is an order as the controls show it.
type Order struct {
	OutTradeNo    string    `json:"out_trade_no"`
	AppID         string    `json:"appid"`
	TradeType     string    `json:"trade_type"`
	OpenID        string    `json:"openid,omitempty"`
	Body          string    `json:"body"`
	Attach        string    `json:"attach,omitempty"`
	TotalFee      int64     `json:"total_fee"`
	State         string    `json:"trade_state"`
	PrepayID      string    `json:"prepay_id"`
	SignType      string    `json:"sign_type"`
	NotifyURL     string    `json:"notify_url"`
	Created       time.Time `json:"created"`
	ExpiresAt     time.Time `json:"time_expire,omitzero"`
	TransactionID string    `json:"transaction_id,omitempty"`
	PaidFee       int64     `json:"paid_fee,omitempty"`
	PaidAt        time.Time `json:"paid_at,omitzero"`
	ClosedAt      time.Time `json:"closed_at,omitzero"`
	Surplus       bool      `json:"surplus,omitempty"`
	RefundedFee   int64     `json:"refunded_fee,omitempty"`
	Refunds       []Refund  `json:"refunds,omitempty"`
}

// Refund is a refund as the controls show it.
type Refund struct {
	OutRefundNo string    `json:"out_refund_no"`
	RefundID    string    `json:"refund_id"`
	RefundFee   int64     `json:"refund_fee"`
	Status      string    `json:"refund_status"`
	NotifyURL   string    `json:"notify_url,omitempty"`
	Created     time.Time `json:"created"`
	SuccessAt   time.Time `json:"success_time,omitzero"`
}

// view copies an order for the controls. Callers hold s.mu.
func (o *order) view() Order {
	v := Order{
		OutTradeNo: o.OutTradeNo, AppID: o.AppID, TradeType: o.TradeType, OpenID: o.OpenID,
		Body: o.Body, Attach: o.Attach, TotalFee: o.TotalFee, State: o.State, PrepayID: o.PrepayID,
		SignType: o.SignType, NotifyURL: o.NotifyURL, Created: o.Created, ExpiresAt: o.TimeExpire,
		TransactionID: o.TransactionID, PaidFee: o.PaidFee, PaidAt: o.PaidAt, ClosedAt: o.ClosedAt,
		Surplus: o.Surplus, RefundedFee: o.refunded(),
	}
	for _, r := range o.refunds {
		v.Refunds = append(v.Refunds, Refund{
			OutRefundNo: r.OutRefundNo, RefundID: r.RefundID, RefundFee: r.RefundFee,
			Status: r.Status, NotifyURL: r.NotifyURL, Created: r.Created, SuccessAt: r.SuccessAt,
		})
	}
	return v
}

// Orders returns every order, oldest first.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.orderList))
	for _, o := range s.orderList {
		out = append(out, o.view())
	}
	return out
}

// Order returns one order; false when there is none.
func (s *Server) Order(outTradeNo string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[outTradeNo]
	if !ok {
		return Order{}, false
	}
	return o.view(), true
}

// Notifies returns the notifies sent or dropped so far, oldest first.
func (s *Server) Notifies() []Notify {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Notify, 0, len(s.notifies))
	for _, n := range s.notifies {
		out = append(out, *n)
	}
	return out
}
