package wechatpay

import (
	"context"
	"encoding/xml"
	"fmt"
	"time"

	"github.com/silenceper/wechat/v2/pay/notify"

	"zwfw/payments"
)

// ParseNotify implements payments.Gateway for WeChat Pay's two notifies.
//
// Paid notifies are signed: the signature is verified over every field
// (verifySign, the SDK's util.OrderParam + util.CalculateSign, with the
// sign type the notify names — MD5 when it names none, or the merchant's
// HMAC-SHA256), then return_code / result_code, app id (one of ours) and
// mch_id are checked and the fields read into the SDK's notify.PaidResult.
//
// Refund notifies carry no signature; their req_info is AES-256-ECB
// encrypted under md5(API key), and decrypting it to a well-formed refund
// with the SDK's notify.DecryptReqInfo is what authenticates them.
//
// Returns payments.ErrForgedNotify (unreadable, unsigned, bad signature,
// undecryptable), payments.ErrForeignNotify (authentic but for another app
// id or merchant), or an error for an authentic notify WeChat filled in
// wrongly. A paid notify with result_code FAIL is NotifyOther.
func (c *Client) ParseNotify(_ context.Context, n payments.InboundNotify) (payments.Notification, error) {
	fields, err := parseFields(n.Body)
	if err != nil {
		return payments.Notification{}, fmt.Errorf("%w: %v", payments.ErrForgedNotify, err)
	}
	if _, ok := fields["req_info"]; ok {
		return c.parseRefundNotify(n.Body, fields)
	}
	types := c.notifySignTypes(fields)
	if types == nil || !verifySign(fields, c.cfg.Key, types...) {
		return payments.Notification{}, fmt.Errorf("%w: wechatpay paid notify", payments.ErrForgedNotify)
	}
	if err := c.checkOwner(fields["appid"], fields["mch_id"]); err != nil {
		return payments.Notification{}, err
	}
	if fields["return_code"] != "SUCCESS" {
		return payments.Notification{}, fmt.Errorf("wechatpay notify: return_code %q: %s", fields["return_code"], fields["return_msg"])
	}
	var res notify.PaidResult
	if err := xml.Unmarshal(n.Body, &res); err != nil {
		return payments.Notification{}, fmt.Errorf("wechatpay notify: %w", err)
	}
	if deref(res.ResultCode) != "SUCCESS" {
		return payments.Notification{Kind: payments.NotifyOther, ID: deref(res.TransactionID),
			Trade: payments.Trade{OutTradeNo: deref(res.OutTradeNo)}}, nil
	}
	if res.TotalFee == nil || *res.TotalFee <= 0 || deref(res.OutTradeNo) == "" || deref(res.TransactionID) == "" {
		return payments.Notification{}, fmt.Errorf("wechatpay notify: total_fee, out_trade_no or transaction_id missing")
	}
	trade, err := tradeOf(res, "SUCCESS")
	if err != nil {
		return payments.Notification{}, err
	}
	return payments.Notification{Kind: payments.NotifyPaid, Trade: trade, ID: trade.TransactionID}, nil
}

// parseRefundNotify authenticates a refund notify by decrypting req_info.
func (c *Client) parseRefundNotify(body []byte, fields map[string]string) (payments.Notification, error) {
	var res notify.RefundedResult
	if err := xml.Unmarshal(body, &res); err != nil {
		return payments.Notification{}, fmt.Errorf("%w: %v", payments.ErrForgedNotify, err)
	}
	info, err := decryptReqInfo(c.notify, &res)
	if err != nil || deref(info.OutRefundNO) == "" || deref(info.OutTradeNO) == "" ||
		deref(info.RefundStatus) == "" || info.RefundFee == nil {
		return payments.Notification{}, fmt.Errorf("%w: req_info does not decrypt to a refund", payments.ErrForgedNotify)
	}
	if err := c.checkOwner(fields["appid"], fields["mch_id"]); err != nil {
		return payments.Notification{}, err
	}
	r := payments.RefundResult{
		OutTradeNo: deref(info.OutTradeNO), OutRefundNo: deref(info.OutRefundNO),
		RefundID: deref(info.RefundID), Amount: payments.Fen(*info.RefundFee),
	}
	if r.State, err = refundState(deref(info.RefundStatus)); err != nil {
		return payments.Notification{}, err
	}
	if r.State == payments.RefundSuccess {
		if r.SettledAt, err = time.ParseInLocation("2006-01-02 15:04:05", deref(info.SuccessTime), shanghai); err != nil {
			return payments.Notification{}, fmt.Errorf("wechatpay refund notify: success_time: %w", err)
		}
	}
	return payments.Notification{
		Kind:   payments.NotifyRefunded,
		Refund: r,
		Trade: payments.Trade{
			OutTradeNo: r.OutTradeNo, TransactionID: deref(info.TransactionID),
			Amount: payments.Fen(deref(info.TotalFee)), Currency: "CNY", State: payments.TradeRefunded,
		},
		ID: r.RefundID,
	}, nil
}

// decryptReqInfo runs the SDK's DecryptReqInfo, which panics on some
// ciphertexts (its PKCS#7 unpadding trusts the last byte).
func decryptReqInfo(n *notify.Notify, res *notify.RefundedResult) (info *notify.RefundedReqInfo, err error) {
	defer func() {
		if p := recover(); p != nil {
			info, err = nil, fmt.Errorf("req_info: %v", p)
		}
	}()
	return n.DecryptReqInfo(res)
}

// checkOwner: an authentic notify must be for one of our app ids and our
// merchant.
func (c *Client) checkOwner(appID, mchID string) error {
	if mchID != c.cfg.MchID || !c.ownsApp(appID) {
		return fmt.Errorf("%w: appid %q mch_id %q", payments.ErrForeignNotify, appID, mchID)
	}
	return nil
}

// Acknowledgements WeChat Pay expects (PROTOCOLS.md): SUCCESS stops its
// retries, anything else makes it retry.
var (
	ackSuccess = []byte(`<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>`)
	ackFail    = []byte(`<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[ERROR]]></return_msg></xml>`)
)

// Ack implements payments.Gateway.
func (c *Client) Ack(success bool) ([]byte, string) {
	if success {
		return append([]byte(nil), ackSuccess...), "text/xml; charset=utf-8"
	}
	return append([]byte(nil), ackFail...), "text/xml; charset=utf-8"
}
