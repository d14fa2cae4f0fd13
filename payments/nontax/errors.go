package nontax

import (
	"errors"
	"fmt"
	"slices"

	"zwfw/payments"
)

// Codes of the platform's refusals (docs/nontax-gateway.md) that the
// client maps to payments' sentinels.
const (
	CodePaymentCodeInvalid   = "PAYMENT_CODE_INVALID"
	CodePayerIDInvalid       = "PAYER_ID_INVALID"
	CodeNoticeNotFound       = "NOTICE_NOT_FOUND"
	CodeReceiptNotFound      = "RECEIPT_NOT_FOUND"
	CodeNoticeCancelled      = "NOTICE_CANCELLED"
	CodeNoticeAlreadyPaid    = "NOTICE_ALREADY_PAID"
	CodeNoticeExpired        = "NOTICE_EXPIRED"
	CodeAmountMismatch       = "AMOUNT_MISMATCH"
	CodeTransactionDuplicate = "TRANSACTION_DUPLICATE"
	CodeNoticeNotPaid        = "NOTICE_NOT_PAID"
	CodeRefundExceedsPaid    = "REFUND_EXCEEDS_PAID"
	CodeRefundNoConflict     = "REFUND_NO_CONFLICT"
)

// sentinelCodes are the codes each sentinel stands for.
var sentinelCodes = map[error][]string{
	payments.ErrNoticeNotFound: {CodeNoticeNotFound, CodePaymentCodeInvalid},
	payments.ErrNoticeNotPayable: {CodeNoticeCancelled, CodeNoticeAlreadyPaid, CodeNoticeExpired,
		CodeAmountMismatch, CodeTransactionDuplicate},
	payments.ErrRefundRefused: {CodeNoticeNotPaid, CodeRefundExceedsPaid, CodeRefundNoConflict},
	ErrPaymentCodeInvalid:     {CodePaymentCodeInvalid},
	ErrPayerIDInvalid:         {CodePayerIDInvalid},
	ErrReceiptNotFound:        {CodeReceiptNotFound},
}

// Errors of this package, beside payments' sentinels.
var (
	// ErrPaymentCodeInvalid: the payment code is not 20 digits with a
	// correct check digit (checked before any request). It is also
	// payments.ErrNoticeNotFound: no notice has such a code.
	ErrPaymentCodeInvalid = errors.New("缴款码格式或校验位错误")
	// ErrPayerIDInvalid: NoticesOf was given neither a valid ID number nor
	// a valid USCC (checked before any request).
	ErrPayerIDInvalid = errors.New("缴款人证件号码应为有效的身份证号码或统一社会信用代码")
	// ErrReceiptNotFound: Receipt of a notice that has no e-receipt (not paid).
	ErrReceiptNotFound = errors.New("nontax: the notice has no e-receipt")
	// ErrUnavailable: the platform did not answer usefully (transport error,
	// timeout, 5xx, 429) even after the retries. Temporary.
	ErrUnavailable = errors.New("nontax: platform unavailable")
	// ErrBadResponse: an answer that is unsigned, badly signed, or not the
	// envelope; it could come from a spoofing proxy, so nothing in it is
	// used. Temporary.
	ErrBadResponse = errors.New("nontax: bad response from the platform")
)

// Error is a refusal the platform answered, signed, with a code. errors.Is
// matches it against payments' sentinels by code (NOTICE_NOT_FOUND is
// payments.ErrNoticeNotFound, AMOUNT_MISMATCH payments.ErrNoticeNotPayable,
// REFUND_EXCEEDS_PAID payments.ErrRefundRefused, ...) and against this
// package's ErrPaymentCodeInvalid, ErrPayerIDInvalid and
// ErrReceiptNotFound; a code without a sentinel (PARAM_INVALID, GW_*,
// injected 5xx) is temporary for the domain, per payments.Treasury.
type Error struct {
	Status    int    // HTTP status
	Code      string // the platform's code, e.g. "AMOUNT_MISMATCH"
	Message   string // the platform's message, in Chinese, for people
	RequestID string // the platform's request id, for its support desk
	// retryable is true for 5xx, 429 and GW_NONCE_REPLAYED: worth another attempt.
	retryable bool
}

// Error implements error.
func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("nontax: %s (checked before sending): %s", e.Code, e.Message)
	}
	return fmt.Sprintf("nontax: %s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// Is reports whether e stands for target (a sentinel of payments or of
// this package); 5xx, 429 and replayed-nonce refusals are also
// ErrUnavailable.
func (e *Error) Is(target error) bool {
	if target == ErrUnavailable {
		return e.retryable
	}
	return slices.Contains(sentinelCodes[target], e.Code)
}

// CodeOf is the platform's code of err ("" when err is not a refusal of
// the platform).
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// localError is a refusal decided before any request (a malformed payment
// code or payer id); it matches the same sentinels as the platform's.
func localError(code string, sentinel error) error {
	return &Error{Code: code, Message: sentinel.Error()}
}
