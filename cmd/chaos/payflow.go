package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// payChannels are zwfw's four ways to pay a notice.
var payChannels = []string{"wechat_jsapi", "wechat_app", "alipay_app", "alipay_wap"}

// payAnswer is zwfw's answer to POST /payments/{code}/pay.
type payAnswer struct {
	PaymentID    string            `json:"payment_id"`
	OrderID      string            `json:"order_id"`
	Channel      string            `json:"channel"`
	Amount       int64             `json:"amount_fen"`
	WeChat       map[string]string `json:"wechat_params"`
	AlipayOrder  string            `json:"alipay_order_string"`
	AlipayPayURL string            `json:"alipay_pay_url"`
}

// notice has the non-tax platform issue a fee to p, and has zwfw mirror it.
func (d *deployment) notice(ctx context.Context, p *person) (code string, amount int64, err error) {
	var n struct {
		Code   string `json:"payment_code"`
		Amount int64  `json:"amount"`
	}
	if err := d.sb(ctx, "POST", "/sandbox/nontax/notices", map[string]any{"payer_id": p.idNumber, "payer_name": p.realName,
		"items": []map[string]any{{"code": "103040300101"}}}, &n); err != nil {
		return "", 0, err
	}
	if _, err := p.want(ctx, 200, "GET", "/payments/lookup?payment_code="+n.Code, nil, ""); err != nil {
		return "", 0, err
	}
	return n.Code, n.Amount, nil
}

// payAtChannel is the payer paying with what zwfw handed out; notify is
// the channel's notify mode for it (send, drop, twice).
func (d *deployment) payAtChannel(ctx context.Context, a payAnswer, notify string) error {
	switch {
	case strings.HasPrefix(a.Channel, "wechat"):
		return d.sb(ctx, "POST", "/sandbox/wechatpay/pay", map[string]any{"params": a.WeChat, "notify": notify}, nil)
	case a.Channel == "alipay_app":
		return d.sb(ctx, "POST", "/sandbox/alipay/pay", map[string]any{"order_string": a.AlipayOrder, "notify": notify}, nil)
	default:
		return d.sb(ctx, "POST", "/sandbox/alipay/pay", map[string]any{"pay_url": a.AlipayPayURL, "notify": notify}, nil)
	}
}

// channelMoney is what the channels took and gave back for an order, as
// the channels themselves record it.
func (d *deployment) channelMoney(ctx context.Context, orderID string) (in, out int64, err error) {
	var wx []struct {
		OutTradeNo string `json:"out_trade_no"`
		State      string `json:"trade_state"`
		PaidFee    int64  `json:"paid_fee"`
		Refunds    []struct {
			Fee    int64  `json:"refund_fee"`
			Status string `json:"refund_status"`
		} `json:"refunds"`
	}
	if err := d.sb(ctx, "GET", "/sandbox/wechatpay/orders", nil, &wx); err != nil {
		return 0, 0, err
	}
	for _, o := range wx {
		if o.OutTradeNo != orderID {
			continue
		}
		if o.State == "SUCCESS" || o.State == "REFUND" {
			in += o.PaidFee
		}
		for _, r := range o.Refunds {
			if r.Status == "SUCCESS" {
				out += r.Fee
			}
		}
	}
	var ali []struct {
		OutTradeNo string  `json:"out_trade_no"`
		Total      string  `json:"total_amount"`
		PaidAt     *string `json:"gmt_payment"`
		Refunds    []struct {
			Amount string `json:"refund_amount"`
		} `json:"refunds"`
	}
	if err := d.sb(ctx, "GET", "/sandbox/alipay/trades?out_trade_no="+orderID, nil, &ali); err != nil {
		return 0, 0, err
	}
	for _, t := range ali {
		if t.OutTradeNo != orderID || t.PaidAt == nil {
			continue
		}
		in += fen(t.Total)
		for _, r := range t.Refunds {
			out += fen(r.Amount)
		}
	}
	return in, out, nil
}

// fen parses Alipay's yuan with two decimals.
func fen(yuan string) int64 {
	whole, frac, _ := strings.Cut(yuan, ".")
	w, _ := strconv.ParseInt(whole, 10, 64)
	frac = (frac + "00")[:2]
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f
}

// nontaxMoney is what the non-tax platform booked for a notice.
func (d *deployment) nontaxMoney(ctx context.Context, code string) (paid, refunded int64, refunds int, err error) {
	var n struct {
		Paid     int64 `json:"paid_amount"`
		Refunded int64 `json:"refunded_amount"`
		Refunds  []any `json:"refunds"`
	}
	err = d.sb(ctx, "GET", "/sandbox/nontax/notices/"+code, nil, &n)
	return n.Paid, n.Refunded, len(n.Refunds), err
}

// paymentStatus is the status zwfw shows the payer.
func (p *person) paymentStatus(ctx context.Context, code string) (string, error) {
	r, err := p.want(ctx, 200, "GET", "/payments/"+code, nil, "")
	if err != nil {
		return "", err
	}
	s, _ := r.m()["status"].(string)
	return s, nil
}

func moneyText(fen int64) string { return fmt.Sprintf("¥%d.%02d", fen/100, fen%100) }
