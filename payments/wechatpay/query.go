package wechatpay

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/pay/notify"
	"github.com/silenceper/wechat/v2/pay/order"

	"zwfw/payments"
)

// Query implements payments.Gateway with the SDK's QueryOrder. WeChat
// scopes an order to the app id that placed it, and Query does not know the
// channel, so it asks under each bound app id until one knows the order.
// Returns payments.ErrTradeNotFound when none does, an *APIError, or a
// temporary error.
func (c *Client) Query(ctx context.Context, outTradeNo string) (payments.Trade, error) {
	for _, a := range c.apps {
		o := a.pay.GetOrder()
		res, err := call(ctx, c.cfg.Timeout, func() (notify.PaidResult, error) {
			return o.QueryOrder(&order.QueryParams{OutTradeNo: outTradeNo, SignType: c.cfg.SignType})
		})
		if err != nil {
			code := deref(res.ErrCode)
			if code == "ORDERNOTEXIST" {
				continue
			}
			if code != "" {
				return payments.Trade{}, &APIError{Op: "orderquery", Code: code, Message: deref(res.ErrCodeDes)}
			}
			return payments.Trade{}, fmt.Errorf("wechatpay orderquery: %w", err)
		}
		return tradeOf(res, deref(res.TradeState))
	}
	return payments.Trade{}, fmt.Errorf("%w: %s", payments.ErrTradeNotFound, outTradeNo)
}

// tradeOf reads a trade from a query answer or a paid notify.
func tradeOf(r notify.PaidResult, state string) (payments.Trade, error) {
	t := payments.Trade{
		OutTradeNo:    deref(r.OutTradeNo),
		TransactionID: deref(r.TransactionID),
		Amount:        payments.Fen(deref(r.TotalFee)),
		Currency:      deref(r.FeeType),
		Payer:         deref(r.OpenID),
		Attach:        deref(r.Attach),
	}
	if t.Currency == "" {
		t.Currency = "CNY"
	}
	switch state {
	case "SUCCESS":
		t.State = payments.TradePaid
	case "REFUND":
		t.State = payments.TradeRefunded
	case "NOTPAY", "USERPAYING":
		t.State = payments.TradeNotPaid
	case "CLOSED", "REVOKED", "PAYERROR":
		t.State = payments.TradeClosed
	default:
		return t, fmt.Errorf("wechatpay: unknown trade_state %q", state)
	}
	if t.State == payments.TradePaid || t.State == payments.TradeRefunded {
		paidAt, err := time.ParseInLocation("20060102150405", deref(r.TimeEnd), shanghai)
		if err != nil {
			return t, fmt.Errorf("wechatpay: time_end %q: %w", deref(r.TimeEnd), err)
		}
		t.PaidAt = paidAt
	}
	return t, nil
}

// Close implements payments.Gateway with the SDK's CloseOrder, under each
// bound app id until one knows the order. An order no app id knows, or one
// already closed, counts as closed. Returns payments.ErrTradePaid, an
// *APIError, or a temporary error.
func (c *Client) Close(ctx context.Context, outTradeNo string) error {
	for _, a := range c.apps {
		o := a.pay.GetOrder()
		res, err := call(ctx, c.cfg.Timeout, func() (order.CloseResult, error) {
			return o.CloseOrder(&order.CloseParams{OutTradeNo: outTradeNo, SignType: c.cfg.SignType})
		})
		if err == nil {
			return nil
		}
		switch code := deref(res.ErrCode); code {
		case "ORDERNOTEXIST":
			continue
		case "ORDERCLOSED":
			return nil
		case "ORDERPAID":
			return fmt.Errorf("%w: %w", payments.ErrTradePaid, &APIError{Op: "closeorder", Code: code, Message: deref(res.ErrCodeDes)})
		case "":
			return fmt.Errorf("wechatpay closeorder: %w", err)
		default:
			return &APIError{Op: "closeorder", Code: code, Message: deref(res.ErrCodeDes)}
		}
	}
	return nil
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
