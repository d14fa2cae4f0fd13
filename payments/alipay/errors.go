package alipay

import (
	"errors"
	"fmt"

	sdk "github.com/smartwalle/alipay/v3"
)

// Alipay sub codes the adapter acts on.
const (
	subTradeNotExist      = "ACQ.TRADE_NOT_EXIST"
	subTradeStatusError   = "ACQ.TRADE_STATUS_ERROR"
	subTradeHasClose      = "ACQ.TRADE_HAS_CLOSE"
	subBillNotExist       = "isp.bill_not_exist"
	refundSucceeded       = "REFUND_SUCCESS"
	notifyTradeStatusSync = "trade_status_sync"
)

// refundRefusals are the refund sub codes that will not change by retrying:
// the amount, the trade's state or the merchant's balance is wrong.
var refundRefusals = map[string]bool{
	"ACQ.REFUND_AMT_NOT_EQUAL_TOTAL":  true, // more than what is left to refund
	"ACQ.REASON_TRADE_REFUND_FEE_ERR": true, // invalid amount
	"ACQ.DISCORDANT_REPEAT_REQUEST":   true, // same out_request_no, other amount
	"ACQ.TRADE_HAS_FINISHED":          true, // past the refund period
	"ACQ.TRADE_STATUS_ERROR":          true, // not paid
	"ACQ.SELLER_BALANCE_NOT_ENOUGH":   true, // the merchant account lacks the money: a person must act
	"ACQ.REFUND_FEE_ERROR":            true,
	"ACQ.TRADE_NOT_ALLOW_REFUND":      true,
	"ACQ.REFUND_CHARGE_ERROR":         true,
}

// outcome splits an SDK call's result: a failure to talk to Alipay or to
// verify its answer (err, temporary), Alipay's own error (ae, code not
// 10000), or success (both nil). rsp is the response's embedded Error, nil
// when the SDK returned none.
func outcome(err error, rsp *sdk.Error) (ae *sdk.Error, tmp error) {
	if err != nil {
		// The SDK returns unsigned error answers (refused signature, app id)
		// as the error itself.
		if errors.As(err, &ae) {
			return ae, nil
		}
		return nil, fmt.Errorf("alipay: %w", err)
	}
	if rsp == nil {
		return nil, errors.New("alipay: empty answer")
	}
	if rsp.IsFailure() {
		return rsp, nil
	}
	return nil, nil
}

// wrap makes Alipay's error one of payments' sentinels, keeping its codes.
func wrap(sentinel error, ae *sdk.Error) error {
	return fmt.Errorf("%w: alipay %s %s: %s", sentinel, ae.Code, ae.SubCode, ae.SubMsg)
}

// temporary is an Alipay error the domain has no sentinel for: the caller
// retries later (ACQ.SYSTEM_ERROR, 20000, a refused signature after a key
// rotation...).
func temporary(ae *sdk.Error) error {
	return fmt.Errorf("alipay: %s %s: %s %s", ae.Code, ae.Msg, ae.SubCode, ae.SubMsg)
}
