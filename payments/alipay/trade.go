package alipay

import (
	"context"
	"fmt"

	sdk "github.com/smartwalle/alipay/v3"

	"zwfw/payments"
)

// Query implements payments.Gateway (alipay.trade.query). It returns
// payments.ErrTradeNotFound while the payer has not opened the order
// (Alipay creates the trade then). A partly refunded trade is still
// TRADE_SUCCESS at Alipay and so TradePaid; a wholly refunded one is
// TRADE_CLOSED with a payment date, TradeRefunded.
func (c *Client) Query(ctx context.Context, outTradeNo string) (payments.Trade, error) {
	rsp, err := c.sdk.TradeQuery(ctx, sdk.TradeQuery{OutTradeNo: outTradeNo})
	var e *sdk.Error
	if rsp != nil {
		e = &rsp.Error
	}
	ae, err := outcome(err, e)
	switch {
	case err != nil:
		return payments.Trade{}, err
	case ae != nil && ae.SubCode == subTradeNotExist:
		return payments.Trade{}, wrap(payments.ErrTradeNotFound, ae)
	case ae != nil:
		return payments.Trade{}, temporary(ae)
	}
	amount, err := payments.ParseYuan(rsp.TotalAmount)
	if err != nil {
		return payments.Trade{}, fmt.Errorf("alipay: query %s: total_amount %q: %w", outTradeNo, rsp.TotalAmount, err)
	}
	paidAt := parseTime(rsp.SendPayDate)
	state, err := tradeState(rsp.TradeStatus, !paidAt.IsZero())
	if err != nil {
		return payments.Trade{}, err
	}
	t := payments.Trade{
		OutTradeNo: rsp.OutTradeNo, TransactionID: rsp.TradeNo, State: state, Amount: amount,
		Currency: "CNY", Payer: first(rsp.BuyerUserId, rsp.BuyerOpenId), Attach: attach(rsp.PassbackParams),
	}
	if state == payments.TradePaid || state == payments.TradeRefunded {
		t.PaidAt = paidAt
	}
	return t, nil
}

// tradeState normalizes trade_status; paid says whether the trade was ever
// paid (a closed trade that was paid has been wholly refunded).
func tradeState(s sdk.TradeStatus, paid bool) (payments.TradeState, error) {
	switch s {
	case sdk.TradeStatusWaitBuyerPay:
		return payments.TradeNotPaid, nil
	case sdk.TradeStatusSuccess, sdk.TradeStatusFinished:
		return payments.TradePaid, nil
	case sdk.TradeStatusClosed:
		if paid {
			return payments.TradeRefunded, nil
		}
		return payments.TradeClosed, nil
	}
	return "", fmt.Errorf("alipay: unknown trade_status %q", s)
}

// Close implements payments.Gateway (alipay.trade.close). Alipay refuses
// to close anything but a trade waiting for the payer
// (ACQ.TRADE_STATUS_ERROR); the adapter then asks for the trade's state:
// already closed is success, paid is payments.ErrTradePaid. A trade Alipay
// never saw needs no closing.
func (c *Client) Close(ctx context.Context, outTradeNo string) error {
	rsp, err := c.sdk.TradeClose(ctx, sdk.TradeClose{OutTradeNo: outTradeNo})
	var e *sdk.Error
	if rsp != nil {
		e = &rsp.Error
	}
	ae, err := outcome(err, e)
	switch {
	case err != nil:
		return err
	case ae == nil, ae.SubCode == subTradeNotExist:
		return nil
	case ae.SubCode != subTradeStatusError:
		return temporary(ae)
	}
	t, err := c.Query(ctx, outTradeNo)
	if err != nil {
		return err
	}
	switch t.State {
	case payments.TradeClosed:
		return nil
	case payments.TradePaid, payments.TradeRefunded:
		return wrap(payments.ErrTradePaid, ae)
	}
	return temporary(ae)
}
