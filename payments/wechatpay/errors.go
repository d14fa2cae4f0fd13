package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// APIError is a business error WeChat Pay answered (result_code FAIL).
// Errors about the order itself are also wrapped in the matching
// payments sentinel (errors.Is works on both).
type APIError struct {
	Op      string // "unifiedorder", "orderquery", ...
	Code    string // err_code, e.g. "ORDERPAID"
	Message string // err_code_des
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechatpay %s: %s %s", e.Op, e.Code, e.Message)
}

// Temporary reports whether WeChat Pay asks to retry later (system busy,
// rate limits, merchant balance short for a refund).
func (e *APIError) Temporary() bool {
	switch e.Code {
	case "SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED", "INVALID_REQ_TOO_MUCH", "NOTENOUGH":
		return true
	}
	return false
}

// ErrOutTradeNoUsed: unifiedorder got an out_trade_no it already knows with
// other parameters (another amount, subject, payer...). WeChat documents
// OUT_TRADE_NO_USED and answers INVALID_REQUEST "201 商户订单号重复".
var ErrOutTradeNoUsed = errors.New("wechatpay: out_trade_no already used with other parameters")

// knownCodes are the err_codes of the v2 API, longest first, to recover the
// code from the SDK's errors, which glue err_code and err_code_des together.
var knownCodes = func() []string {
	codes := []string{
		"ORDERPAID", "ORDERCLOSED", "ORDERNOTEXIST", "OUT_TRADE_NO_USED", "INVALID_REQUEST",
		"NOAUTH", "NOTENOUGH", "APPID_NOT_EXIST", "MCHID_NOT_EXIST", "APPID_MCHID_NOT_MATCH",
		"LACK_PARAMS", "SIGNERROR", "XML_FORMAT_ERROR", "REQUIRE_POST_METHOD", "POST_DATA_EMPTY",
		"NOT_UTF8", "SYSTEMERROR", "PARAM_ERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED",
		"INVALID_REQ_TOO_MUCH", "TRADE_OVERDUE", "ERROR", "USER_ACCOUNT_ABNORMAL",
		"INVALID_TRANSACTIONID", "REFUNDNOTEXIST", "TRADE_STATE_ERROR",
	}
	sort.Slice(codes, func(i, j int) bool { return len(codes[i]) > len(codes[j]) })
	return codes
}()

// sdkAPIError recovers an APIError from an SDK error of the form
// errors.New(err_code + err_code_des); nil when err is not one.
func sdkAPIError(op string, err error) *APIError {
	msg := err.Error()
	for _, code := range knownCodes {
		if rest, ok := strings.CutPrefix(msg, code); ok {
			return &APIError{Op: op, Code: code, Message: rest}
		}
	}
	return nil
}

// call runs an SDK call that takes no context under timeout and ctx, and
// turns an SDK panic into an error. On timeout the call goroutine finishes
// in the background when its HTTP request does (util.DefaultHTTPClient's
// own timeout bounds that).
func call[T any](ctx context.Context, timeout time.Duration, fn func() (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() {
		var r res
		defer func() {
			if p := recover(); p != nil {
				r.err = fmt.Errorf("wechatpay: SDK failed on the answer: %v", p)
			}
			ch <- r
		}()
		r.v, r.err = fn()
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("wechatpay: %w", ctx.Err())
	}
}

// deref reads an optional SDK field.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
