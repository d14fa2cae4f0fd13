package alipay

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	sdk "github.com/smartwalle/alipay/v3"

	"zwfw/payments"
)

// Product codes of the two channels.
const (
	productApp = "QUICK_MSECURITY_PAY"
	productWap = "QUICK_WAP_WAY"
)

// Prepay implements payments.Gateway. Alipay's app and WAP payments are
// built and signed here, without a call to Alipay: the order string (app)
// or the cashier URL (WAP) carries the order, and Alipay creates the trade
// when the payer opens it. Prepaying the same order again yields an
// equivalent string or URL for the same trade. It returns an error for a
// channel that is not Alipay's or an order Alipay would refuse (no
// out_trade_no or subject, an amount outside 0.01–100,000,000 yuan).
func (c *Client) Prepay(_ context.Context, req payments.PrepayRequest) (payments.Prepay, error) {
	switch {
	case req.Channel != payments.AlipayApp && req.Channel != payments.AlipayWap:
		return payments.Prepay{}, fmt.Errorf("alipay: channel %q is not an Alipay channel", req.Channel)
	case req.OutTradeNo == "":
		return payments.Prepay{}, errors.New("alipay: out_trade_no is required")
	case req.Subject == "":
		return payments.Prepay{}, errors.New("alipay: subject is required")
	case req.Amount <= 0 || req.Amount > payments.MaxFen:
		return payments.Prepay{}, fmt.Errorf("alipay: amount %s out of range", req.Amount.Yuan())
	}
	t := sdk.Trade{
		NotifyURL:   first(req.NotifyURL, c.cfg.NotifyURL),
		Subject:     req.Subject,
		OutTradeNo:  req.OutTradeNo,
		TotalAmount: req.Amount.Yuan(),
	}
	if !req.ExpiresAt.IsZero() {
		t.TimeExpire = req.ExpiresAt.In(shanghai).Format(timeLayout)
	}
	if req.Attach != "" {
		t.PassbackParams = url.QueryEscape(req.Attach) // Alipay wants it URL-encoded
	}
	if req.Channel == payments.AlipayApp {
		t.ProductCode = productApp
		s, err := c.sdk.TradeAppPay(sdk.TradeAppPay{Trade: t})
		if err != nil {
			return payments.Prepay{}, fmt.Errorf("alipay: sign the order string: %w", err)
		}
		return payments.Prepay{OrderString: s}, nil
	}
	t.ProductCode = productWap
	t.ReturnURL = first(req.ReturnURL, c.cfg.ReturnURL)
	// TradeWapPay has its own time_expire, which hides the embedded
	// Trade's in the JSON: it must be set there.
	u, err := c.sdk.TradeWapPay(sdk.TradeWapPay{Trade: t, TimeExpire: t.TimeExpire})
	if err != nil {
		return payments.Prepay{}, fmt.Errorf("alipay: sign the cashier URL: %w", err)
	}
	return payments.Prepay{PayURL: u.String()}, nil
}

// first is a, or b when a is empty.
func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
