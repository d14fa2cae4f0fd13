package nontax

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"zwfw/payments"
	"zwfw/pii"
)

// chinaTime is UTC+8 without tzdata: the reconciliation day and the times
// written on the wire.
var chinaTime = time.FixedZone("CST", 8*3600)

// decode unmarshals data into v; a mismatch is ErrBadResponse.
func decode(data json.RawMessage, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	return nil
}

// checkCode refuses a malformed payment code before any request: the
// error is ErrPaymentCodeInvalid and payments.ErrNoticeNotFound.
func checkCode(code string) error {
	if !ValidPaymentCode(code) {
		return localError(CodePaymentCodeInvalid, ErrPaymentCodeInvalid)
	}
	return nil
}

// Notice returns the payment notice with this payment code (GET
// /notices/{code}). Errors: payments.ErrNoticeNotFound (also
// ErrPaymentCodeInvalid for a malformed code, refused without a request);
// anything else is temporary (ErrUnavailable, ErrBadResponse, *Error).
func (c *Client) Notice(ctx context.Context, paymentCode string) (payments.Notice, error) {
	if err := checkCode(paymentCode); err != nil {
		return payments.Notice{}, err
	}
	data, err := c.do(ctx, request{method: http.MethodGet, path: apiPrefix + "/notices/" + paymentCode})
	if err != nil {
		return payments.Notice{}, err
	}
	var w wireNotice
	if err := decode(data, &w); err != nil {
		return payments.Notice{}, err
	}
	n, err := w.notice()
	if err == nil && n.PaymentCode != paymentCode {
		err = fmt.Errorf("%w: asked for notice %s, got %s", ErrBadResponse, paymentCode, n.PaymentCode)
	}
	return n, err
}

// NoticesOf lists the notices issued to a payer, an ID number or a USCC
// (GET /notices?payer_id=), oldest first. ErrPayerIDInvalid for a payer id
// that is neither (refused without a request); anything else is temporary.
func (c *Client) NoticesOf(ctx context.Context, payerID string) ([]payments.Notice, error) {
	id := pii.NormalizeIDNumber(payerID)
	if pii.ValidateIDNumber(id) != nil {
		id = pii.NormalizeUSCC(payerID)
		if pii.ValidateUSCC(id) != nil {
			return nil, localError(CodePayerIDInvalid, ErrPayerIDInvalid)
		}
	}
	data, err := c.do(ctx, request{method: http.MethodGet, path: apiPrefix + "/notices", query: url.Values{"payer_id": {id}}})
	if err != nil {
		return nil, err
	}
	var w struct {
		Notices []wireNotice `json:"notices"`
	}
	if err := decode(data, &w); err != nil {
		return nil, err
	}
	out := make([]payments.Notice, 0, len(w.Notices))
	for _, wn := range w.Notices {
		n, err := wn.notice()
		if err != nil {
			return nil, err
		}
		if n.PayerID != id {
			return nil, fmt.Errorf("%w: notice %s of another payer", ErrBadResponse, n.PaymentCode)
		}
		out = append(out, n)
	}
	return out, nil
}

// ConfirmPaid tells the platform that a notice was paid through a channel
// (POST /notices/{code}/payments) and returns the official e-receipt. A
// repeat of the same confirmation returns the same receipt.
// Errors: payments.ErrNoticeNotFound (also ErrPaymentCodeInvalid),
// payments.ErrNoticeNotPayable when the notice is cancelled, paid by
// another transaction, past its due date at PaidAt, or the amount is not
// the notice's (CodeOf tells which: NOTICE_CANCELLED, NOTICE_ALREADY_PAID,
// NOTICE_EXPIRED, AMOUNT_MISMATCH, TRANSACTION_DUPLICATE); anything else is
// temporary.
func (c *Client) ConfirmPaid(ctx context.Context, conf payments.Confirmation) (payments.Receipt, error) {
	if err := checkCode(conf.PaymentCode); err != nil {
		return payments.Receipt{}, err
	}
	data, err := c.do(ctx, request{method: http.MethodPost, path: apiPrefix + "/notices/" + conf.PaymentCode + "/payments", body: confirmBody{
		Channel: string(conf.Channel), TransactionID: conf.TransactionID, OutTradeNo: conf.OutTradeNo,
		Amount: conf.Amount, PaidAt: conf.PaidAt.In(chinaTime).Format(time.RFC3339),
	}})
	if err != nil {
		return payments.Receipt{}, err
	}
	var a confirmAnswer
	if err := decode(data, &a); err != nil {
		return payments.Receipt{}, err
	}
	if a.PaymentCode != conf.PaymentCode || a.Confirmation.TransactionID != conf.TransactionID || a.Receipt.Number == "" {
		return payments.Receipt{}, fmt.Errorf("%w: confirmation answer for %s/%s", ErrBadResponse, a.PaymentCode, a.Confirmation.TransactionID)
	}
	return a.Receipt.receipt(), nil
}

// RegisterRefund records a refund of a paid notice (POST
// /notices/{code}/refunds); repeating a RefundNo with the same amount is a
// no-op. Errors: payments.ErrNoticeNotFound (also ErrPaymentCodeInvalid),
// payments.ErrRefundRefused when the notice is not paid, the refunds would
// exceed the amount paid, or the RefundNo was used for another refund
// (CodeOf: NOTICE_NOT_PAID, REFUND_EXCEEDS_PAID, REFUND_NO_CONFLICT);
// anything else is temporary.
func (c *Client) RegisterRefund(ctx context.Context, r payments.RefundRegistration) error {
	if err := checkCode(r.PaymentCode); err != nil {
		return err
	}
	data, err := c.do(ctx, request{method: http.MethodPost, path: apiPrefix + "/notices/" + r.PaymentCode + "/refunds", body: refundBody{
		RefundNo: r.RefundNo, Amount: r.Amount, Reason: r.Reason, RefundedAt: r.RefundedAt.In(chinaTime).Format(time.RFC3339),
	}})
	if err != nil {
		return err
	}
	var a refundAnswer
	if err := decode(data, &a); err != nil {
		return err
	}
	if a.PaymentCode != r.PaymentCode || a.RefundNo != r.RefundNo || a.Amount != r.Amount {
		return fmt.Errorf("%w: refund answer for %s/%s", ErrBadResponse, a.PaymentCode, a.RefundNo)
	}
	return nil
}

// Confirmations lists the confirmations whose payment time falls on day's
// date in Asia/Shanghai (GET /confirmations?date=), by payment time, for
// reconciliation. Errors are temporary.
func (c *Client) Confirmations(ctx context.Context, day time.Time) ([]payments.Confirmation, error) {
	date := day.In(chinaTime).Format(time.DateOnly)
	data, err := c.do(ctx, request{method: http.MethodGet, path: apiPrefix + "/confirmations", query: url.Values{"date": {date}}})
	if err != nil {
		return nil, err
	}
	var a confirmationsAnswer
	if err := decode(data, &a); err != nil {
		return nil, err
	}
	if a.Date != date || a.Count != len(a.Confirmations) {
		return nil, fmt.Errorf("%w: confirmations of %s answered for %s (%d/%d)", ErrBadResponse, date, a.Date, a.Count, len(a.Confirmations))
	}
	out := make([]payments.Confirmation, 0, len(a.Confirmations))
	var total payments.Fen
	for _, w := range a.Confirmations {
		if w.PaidAt.In(chinaTime).Format(time.DateOnly) != date {
			return nil, fmt.Errorf("%w: confirmation %s paid on another day", ErrBadResponse, w.TransactionID)
		}
		total += w.Amount
		out = append(out, w.confirmation())
	}
	if total != a.TotalAmount {
		return nil, fmt.Errorf("%w: confirmations of %s do not add up", ErrBadResponse, date)
	}
	return out, nil
}

// Receipt returns the e-receipt of a paid notice (GET
// /notices/{code}/receipt). Errors: payments.ErrNoticeNotFound (also
// ErrPaymentCodeInvalid), ErrReceiptNotFound when the notice is not paid;
// anything else is temporary.
func (c *Client) Receipt(ctx context.Context, paymentCode string) (payments.Receipt, error) {
	if err := checkCode(paymentCode); err != nil {
		return payments.Receipt{}, err
	}
	data, err := c.do(ctx, request{method: http.MethodGet, path: apiPrefix + "/notices/" + paymentCode + "/receipt"})
	if err != nil {
		return payments.Receipt{}, err
	}
	var w wireReceipt
	if err := decode(data, &w); err != nil {
		return payments.Receipt{}, err
	}
	if w.PaymentCode != paymentCode || w.Number == "" {
		return payments.Receipt{}, fmt.Errorf("%w: receipt answer for %s", ErrBadResponse, w.PaymentCode)
	}
	return w.receipt(), nil
}
