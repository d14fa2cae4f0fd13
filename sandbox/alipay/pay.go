package alipay

import (
	"net/url"
	"strings"
	"time"

	"zwfw/sandbox/fake"
)

// NotifyMode says what happens to the notify of a payment.
type NotifyMode string

// Notify modes.
const (
	NotifySend  NotifyMode = "send"  // deliver, retrying until the merchant answers success
	NotifyDrop  NotifyMode = "drop"  // record it but never send it (a lost notify: zwfw must query)
	NotifyTwice NotifyMode = "twice" // deliver, then deliver the same notify again (a duplicate)
)

// PayOptions shape a simulated payment.
type PayOptions struct {
	// Amount overrides what Alipay says was paid, in yuan ("0.01"), to
	// simulate a wrong amount; "" = the order's total_amount.
	Amount string `json:"amount,omitempty"`
	// Notify is what happens to the notify; "" = NotifySend.
	Notify NotifyMode `json:"notify,omitempty"`
	// Surplus lets the payer pay a trade the merchant already closed (the
	// payer was still in the cashier): Alipay takes the money, notifies and
	// bills it, and zwfw has a surplus (长款) to reconcile.
	Surplus bool `json:"surplus,omitempty"`
}

// PayResult is what a simulated payment did.
type PayResult struct {
	Trade    Trade  `json:"trade"`
	NotifyID string `json:"notify_id"`
	// ReturnURL is where the WAP cashier sends the browser back
	// (return_url with Alipay's signed sync-return parameters); empty
	// without a return_url.
	ReturnURL string `json:"return_url,omitempty"`
}

// Pay is the payer paying an opened trade: it becomes TRADE_SUCCESS and
// the trade notify goes to the order's notify_url as opts.Notify says.
// Errors are *Error: ACQ.TRADE_NOT_EXIST for a trade never opened,
// ACQ.TRADE_HAS_SUCCESS when already paid, ACQ.TRADE_HAS_CLOSE when closed
// (unless opts.Surplus), isv.invalid-parameter for a bad amount or mode.
func (s *Server) Pay(outTradeNo string, opts PayOptions) (PayResult, error) {
	mode := opts.Notify
	if mode == "" {
		mode = NotifySend
	}
	if mode != NotifySend && mode != NotifyDrop && mode != NotifyTwice {
		return PayResult{}, invalidArg(SubInvalidParam, "notify 须为 send、drop 或 twice")
	}
	var override int64
	if opts.Amount != "" {
		fen, err := parseYuan(opts.Amount)
		if err != nil {
			return PayResult{}, invalidArg(SubInvalidParam, "amount %q：%v", opts.Amount, err)
		}
		override = fen
	}

	s.mu.Lock()
	now := s.now()
	t := s.lookup(outTradeNo, "", now)
	if t == nil {
		s.mu.Unlock()
		return PayResult{}, errTradeNotExist()
	}
	switch {
	case !t.paid.IsZero():
		s.mu.Unlock()
		return PayResult{}, bizError(SubTradeHasSuccess, "交易已被支付")
	case t.status == StatusClosed && !opts.Surplus:
		s.mu.Unlock()
		return PayResult{}, bizError(SubTradeHasClose, "交易已经关闭（要模拟关单后仍付款的长款，请加 surplus）")
	case t.status == StatusClosed:
		t.surplus, t.closed = true, time.Time{}
	}
	if override > 0 {
		t.total = override
	}
	t.status, t.paid = StatusSuccess, now
	t.buyerID = "2088" + fake.RandomString(fake.Digits, 12)
	t.buyerLogon = "138****" + fake.RandomString(fake.Digits, 4)
	rec := s.addNotify(t, s.tradeNotify(t, nil, now), mode)
	res := PayResult{Trade: t.view(), NotifyID: rec.id, ReturnURL: s.returnURL(t, now)}
	s.mu.Unlock()

	s.log.Info("alipay trade paid", "out_trade_no", outTradeNo, "amount", res.Trade.TotalAmount, "notify", mode, "surplus", t.surplus)
	return res, nil
}

// tradeNotify builds the signed trade_status_sync notify of t's current
// state; r is the refund it reports, or nil for the payment. The caller
// holds s.mu.
func (s *Server) tradeNotify(t *trade, r *refund, now time.Time) url.Values {
	f := url.Values{}
	set := func(k, v string) {
		if v != "" { // Alipay leaves empty fields out, and they would change the signed content
			f.Set(k, v)
		}
	}
	set("notify_time", fmtTime(now))
	set("notify_type", "trade_status_sync")
	set("notify_id", fake.RandomString(fake.Hex, 34))
	set("app_id", s.appID)
	set("auth_app_id", s.appID)
	set("charset", "utf-8")
	set("version", "1.0")
	set("trade_no", t.tradeNo)
	set("out_trade_no", t.outTradeNo)
	set("buyer_id", t.buyerID)
	set("buyer_logon_id", t.buyerLogon)
	set("seller_id", s.sellerID)
	set("trade_status", t.status)
	set("total_amount", yuan(t.total))
	set("receipt_amount", yuan(t.total))
	set("invoice_amount", yuan(t.total))
	set("buyer_pay_amount", yuan(t.total))
	set("point_amount", "0.00")
	set("subject", t.subject)
	set("body", t.body)
	set("gmt_create", fmtTime(t.created))
	set("gmt_payment", fmtTime(t.paid))
	set("passback_params", t.passback)
	set("fund_bill_list", `[{"amount":"`+yuan(t.total)+`","fundChannel":"ALIPAYACCOUNT"}]`)
	if r != nil {
		set("out_biz_no", r.outRequestNo)
		set("refund_fee", yuan(t.refunded))
		set("send_back_fee", yuan(r.amount))
		set("gmt_refund", r.at.In(chinaTime).Format(refundLayout))
	}
	if !t.closed.IsZero() {
		set("gmt_close", fmtTime(t.closed))
	}
	s.signParams(f)
	return f
}

// returnURL is the WAP sync return: return_url with Alipay's signed
// parameters (method alipay.trade.wap.pay.return). The caller holds s.mu.
func (s *Server) returnURL(t *trade, now time.Time) string {
	if t.returnURL == "" {
		return ""
	}
	q := url.Values{
		"charset": {"utf-8"}, "out_trade_no": {t.outTradeNo}, "method": {"alipay.trade.wap.pay.return"},
		"total_amount": {yuan(t.total)}, "trade_no": {t.tradeNo}, "auth_app_id": {s.appID},
		"version": {"1.0"}, "app_id": {s.appID}, "seller_id": {s.sellerID}, "timestamp": {fmtTime(now)},
	}
	s.signParams(q)
	sep := "?"
	if strings.Contains(t.returnURL, "?") {
		sep = "&"
	}
	return t.returnURL + sep + q.Encode()
}
