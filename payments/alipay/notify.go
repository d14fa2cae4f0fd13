package alipay

import (
	"context"
	"fmt"
	"net/url"

	sdk "github.com/smartwalle/alipay/v3"

	"zwfw/payments"
)

// ParseNotify implements payments.Gateway. The SDK's DecodeNotification
// checks the RSA2 signature over every field but sign and sign_type;
// failing that (a tampered amount, a missing sign, a body that is no form)
// is payments.ErrForgedNotify. A verified notify for another app id is
// payments.ErrForeignNotify.
//
// trade_status_sync notifies map to: TRADE_SUCCESS / TRADE_FINISHED →
// NotifyPaid; the same with refund fields (out_biz_no, refund_fee,
// gmt_refund: Alipay notifies every refund this way, TRADE_CLOSED once
// wholly refunded) → NotifyRefunded; anything else (WAIT_BUYER_PAY, a
// TRADE_CLOSED without refund) → NotifyOther. total_amount is converted
// to fen exactly; a malformed amount is an error wrapping
// payments.ErrAmount. The caller still checks amount and order state.
func (c *Client) ParseNotify(ctx context.Context, in payments.InboundNotify) (payments.Notification, error) {
	values := url.Values(in.Form)
	if values == nil {
		v, err := url.ParseQuery(string(in.Body))
		if err != nil {
			return payments.Notification{}, fmt.Errorf("%w: body is not a form: %v", payments.ErrForgedNotify, err)
		}
		values = v
	}
	n, err := c.sdk.DecodeNotification(ctx, values)
	if err != nil {
		return payments.Notification{}, fmt.Errorf("%w: %v", payments.ErrForgedNotify, err)
	}
	if n.AppId != c.appID {
		return payments.Notification{}, fmt.Errorf("%w: app_id %q", payments.ErrForeignNotify, n.AppId)
	}
	out := payments.Notification{Kind: payments.NotifyOther, ID: n.NotifyId}
	if n.NotifyType != notifyTradeStatusSync {
		return out, nil
	}
	amount, err := payments.ParseYuan(n.TotalAmount)
	if err != nil {
		return payments.Notification{}, fmt.Errorf("alipay: notify %s: total_amount %q: %w", n.NotifyId, n.TotalAmount, err)
	}
	paidAt := parseTime(n.GmtPayment)
	refund := n.OutBizNo != "" || n.GmtRefund != "" || (n.RefundFee != "" && n.RefundFee != "0.00")
	out.Trade = payments.Trade{
		OutTradeNo: n.OutTradeNo, TransactionID: n.TradeNo, Amount: amount, Currency: "CNY",
		Payer: first(n.BuyerId, n.BuyerOpenId), Attach: attach(n.PassbackParams), PaidAt: paidAt,
	}
	switch {
	case refund && (n.TradeStatus == sdk.TradeStatusSuccess || n.TradeStatus == sdk.TradeStatusFinished || n.TradeStatus == sdk.TradeStatusClosed):
		out.Kind, out.Trade.State = payments.NotifyRefunded, payments.TradeRefunded
		out.Refund = payments.RefundResult{
			OutTradeNo: n.OutTradeNo, OutRefundNo: n.OutBizNo, State: payments.RefundSuccess,
			SettledAt: parseTime(n.GmtRefund),
		}
		// send_back_fee is this refund; refund_fee is the sum of all refunds
		// of the trade, so without send_back_fee the amount stays unknown (0).
		if v, err := payments.ParseYuan(n.SendBackFee); err == nil {
			out.Refund.Amount = v
		}
	case n.TradeStatus == sdk.TradeStatusSuccess || n.TradeStatus == sdk.TradeStatusFinished:
		out.Kind, out.Trade.State = payments.NotifyPaid, payments.TradePaid
	default:
		state, err := tradeState(n.TradeStatus, false)
		if err != nil {
			state = ""
		}
		out.Trade.State, out.Trade.PaidAt = state, paidAt
	}
	return out, nil
}
