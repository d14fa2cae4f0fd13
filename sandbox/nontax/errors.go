package nontax

import (
	"fmt"
	"net/http"

	"zwfw/sandbox/gwserver"
	"zwfw/sandbox/province"
)

// Gateway error codes are the provincial gateway's (HTTP 401, and 404 for
// an unknown API): province.CodeAppKeyUnknown, CodeSignatureMissing,
// CodeSignatureInvalid, CodeTimestampSkew, CodeNonceReplayed, CodeAPINotFound.

// Service error codes (docs/nontax-gateway.md).
const (
	CodeOK                     = province.CodeOK                     // "0"
	CodeParamInvalid           = province.CodeParamInvalid           // 400
	CodePaymentCodeInvalid     = "PAYMENT_CODE_INVALID"              // 400: not 20 digits or a wrong check digit
	CodePayerIDInvalid         = "PAYER_ID_INVALID"                  // 400: neither a valid ID number nor a valid USCC
	CodeItemUnknown            = "ITEM_UNKNOWN"                      // 400: issuing with a code not in the fee schedule
	CodeNoticeNotFound         = "NOTICE_NOT_FOUND"                  // 404
	CodeReceiptNotFound        = "RECEIPT_NOT_FOUND"                 // 404: the notice has no e-receipt (not paid)
	CodeNoticeCancelled        = "NOTICE_CANCELLED"                  // 409
	CodeNoticeAlreadyPaid      = "NOTICE_ALREADY_PAID"               // 409: paid by another transaction
	CodeNoticeExpired          = "NOTICE_EXPIRED"                    // 409: paid_at after due_at
	CodeAmountMismatch         = "AMOUNT_MISMATCH"                   // 409: amount differs from the notice's
	CodeTransactionDuplicate   = "TRANSACTION_DUPLICATE"             // 409: the transaction already paid another notice
	CodeNoticeNotPaid          = "NOTICE_NOT_PAID"                   // 409: refund of an unpaid or cancelled notice
	CodeRefundExceedsPaid      = "REFUND_EXCEEDS_PAID"               // 409: refunds would exceed the amount paid
	CodeRefundNoConflict       = "REFUND_NO_CONFLICT"                // 409: the refund_no was used for another refund
	CodeIdempotencyKeyRequired = province.CodeIdempotencyKeyRequired // 400
	CodeIdempotencyKeyConflict = province.CodeIdempotencyKeyConflict // 409
	CodeBodyTooLarge           = province.CodeBodyTooLarge           // 413
)

// Error is a coded refusal, as the API answers it: HTTP status, a stable
// code and a message for people. The Go methods (Issue, Cancel, Confirm,
// Refund, ...) return it too.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	data    any    // envelope data of a few errors (string_to_sign)
}

// Error implements error: "CODE: message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// refusal is e as the shared gateway mechanics answer it; nil for nil.
func (e *Error) refusal() *gwserver.Refusal {
	if e == nil {
		return nil
	}
	return &gwserver.Refusal{Status: e.Status, Code: e.Code, Message: e.Message, Data: e.data}
}

// signatureEqual compares secrets and check codes in constant time.
func signatureEqual(got, want string) bool { return gwserver.Equal(got, want) }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, CodeParamInvalid, format, args...)
}
