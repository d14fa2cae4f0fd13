package alipay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sdk "github.com/smartwalle/alipay/v3"

	"zwfw/payments"
)

// Refund implements payments.Gateway (alipay.trade.refund, out_request_no =
// OutRefundNo). Alipay settles at once: fund_change Y is RefundSuccess. A
// repeated OutRefundNo answers fund_change N ("no money moved this time"),
// so the adapter asks alipay.trade.fastpay.refund.query what became of it.
// Errors: payments.ErrTradeNotFound for a trade Alipay never saw;
// payments.ErrRefundRefused for an amount over what is left, an unpaid or
// finished trade, or the same OutRefundNo with another amount (also
// payments.ErrTradeClosed when the trade is closed, e.g. wholly refunded).
func (c *Client) Refund(ctx context.Context, req payments.RefundRequest) (payments.RefundResult, error) {
	if req.OutRefundNo == "" {
		return payments.RefundResult{}, errors.New("alipay: out_refund_no is required")
	}
	if req.Amount <= 0 || req.Amount > payments.MaxFen {
		return payments.RefundResult{}, fmt.Errorf("alipay: refund amount %s out of range", req.Amount.Yuan())
	}
	rsp, err := c.sdk.TradeRefund(ctx, sdk.TradeRefund{
		OutTradeNo: req.OutTradeNo, TradeNo: req.TransactionID,
		RefundAmount: req.Amount.Yuan(), RefundReason: req.Reason, OutRequestNo: req.OutRefundNo,
		QueryOptions: []string{"refund_detail_item_list"}, // for send_back_fee
	})
	var e *sdk.Error
	if rsp != nil {
		e = &rsp.Error
	}
	ae, err := outcome(err, e)
	switch {
	case err != nil:
		return payments.RefundResult{}, err
	case ae != nil && ae.SubCode == subTradeNotExist:
		return payments.RefundResult{}, wrap(payments.ErrTradeNotFound, ae)
	case ae != nil && ae.SubCode == subTradeHasClose:
		return payments.RefundResult{}, fmt.Errorf("%w (%w): alipay %s %s: %s", payments.ErrRefundRefused, payments.ErrTradeClosed, ae.Code, ae.SubCode, ae.SubMsg)
	case ae != nil && refundRefusals[ae.SubCode]:
		return payments.RefundResult{}, wrap(payments.ErrRefundRefused, ae)
	case ae != nil:
		return payments.RefundResult{}, temporary(ae)
	}
	if !strings.EqualFold(rsp.FundChange, "Y") {
		r, err := c.QueryRefund(ctx, req.OutTradeNo, req.OutRefundNo)
		if errors.Is(err, payments.ErrRefundNotFound) {
			return payments.RefundResult{OutTradeNo: req.OutTradeNo, OutRefundNo: req.OutRefundNo, Amount: req.Amount, State: payments.RefundPending}, nil
		}
		return r, err
	}
	amount := req.Amount
	if v, err := payments.ParseYuan(rsp.SendBackFee); err == nil {
		amount = v
	}
	// The SDK's response type drops gmt_refund_pay; the refund settled now.
	settled := c.now()
	return payments.RefundResult{
		OutTradeNo: first(rsp.OutTradeNo, req.OutTradeNo), OutRefundNo: req.OutRefundNo,
		Amount: amount, State: payments.RefundSuccess, SettledAt: settled,
	}, nil
}

// QueryRefund implements payments.Gateway
// (alipay.trade.fastpay.refund.query). Alipay answers an unknown refund
// with success and no refund data; that, and an unknown trade, is
// payments.ErrRefundNotFound. Refund data with refund_status REFUND_SUCCESS
// or (older accounts) no status at all means the refund succeeded.
func (c *Client) QueryRefund(ctx context.Context, outTradeNo, outRefundNo string) (payments.RefundResult, error) {
	rsp, err := c.sdk.TradeFastPayRefundQuery(ctx, sdk.TradeFastPayRefundQuery{
		OutTradeNo: outTradeNo, OutRequestNo: outRefundNo, QueryOptions: []string{"gmt_refund_pay"},
	})
	var e *sdk.Error
	if rsp != nil {
		e = &rsp.Error
	}
	ae, err := outcome(err, e)
	switch {
	case err != nil:
		return payments.RefundResult{}, err
	case ae != nil && ae.SubCode == subTradeNotExist:
		return payments.RefundResult{}, wrap(payments.ErrRefundNotFound, ae)
	case ae != nil:
		return payments.RefundResult{}, temporary(ae)
	case rsp.RefundAmount == "" && rsp.OutRequestNo == "":
		return payments.RefundResult{}, fmt.Errorf("%w: alipay has no refund %s of %s", payments.ErrRefundNotFound, outRefundNo, outTradeNo)
	}
	amount, err := payments.ParseYuan(rsp.RefundAmount)
	if err != nil {
		return payments.RefundResult{}, fmt.Errorf("alipay: refund %s: refund_amount %q: %w", outRefundNo, rsp.RefundAmount, err)
	}
	r := payments.RefundResult{OutTradeNo: outTradeNo, OutRefundNo: outRefundNo, Amount: amount, State: payments.RefundPending}
	if rsp.RefundStatus == "" || rsp.RefundStatus == refundSucceeded {
		r.State, r.SettledAt = payments.RefundSuccess, parseTime(rsp.GMTRefundPay)
	}
	return r, nil
}
