package nontax

import (
	"fmt"
	"time"

	"zwfw/payments"
)

// The wire format of docs/nontax-gateway.md, decoded apart from the
// domain types so that a change of payments' JSON tags cannot change what
// the client sends or understands. Amounts are integer fen.

type wireItem struct {
	Code      string       `json:"code"`
	Name      string       `json:"name"`
	UnitPrice payments.Fen `json:"unit_price"`
	Quantity  int          `json:"quantity"`
	Amount    payments.Fen `json:"amount"` // the line: unit_price × quantity
}

type wireReceipt struct {
	Code        string       `json:"code"`      // 票据代码
	Number      string       `json:"number"`    // 票据号码
	CheckSum    string       `json:"check_sum"` // 校验码
	URL         string       `json:"url"`
	IssuedAt    time.Time    `json:"issued_at"`
	Amount      payments.Fen `json:"amount"`
	PaymentCode string       `json:"payment_code"`
}

type wireNotice struct {
	PaymentCode string       `json:"payment_code"`
	PayerName   string       `json:"payer_name"`
	PayerID     string       `json:"payer_id"`
	Agency      string       `json:"agency"`
	Items       []wireItem   `json:"items"`
	Amount      payments.Fen `json:"amount"`
	IssuedAt    time.Time    `json:"issued_at"`
	DueAt       time.Time    `json:"due_at"`
	CaseNumber  string       `json:"case_number"`
	Status      string       `json:"status"`
	Receipt     *wireReceipt `json:"receipt"`
}

type wireConfirmation struct {
	PaymentCode   string       `json:"payment_code"`
	Channel       string       `json:"channel"`
	TransactionID string       `json:"transaction_id"`
	OutTradeNo    string       `json:"out_trade_no"`
	Amount        payments.Fen `json:"amount"`
	PaidAt        time.Time    `json:"paid_at"`
}

// confirmBody is POST /notices/{code}/payments.
type confirmBody struct {
	Channel       string       `json:"channel"`
	TransactionID string       `json:"transaction_id"`
	OutTradeNo    string       `json:"out_trade_no"`
	Amount        payments.Fen `json:"amount"`
	PaidAt        string       `json:"paid_at"`
}

type confirmAnswer struct {
	PaymentCode  string           `json:"payment_code"`
	Status       string           `json:"status"`
	Confirmation wireConfirmation `json:"confirmation"`
	Receipt      wireReceipt      `json:"receipt"`
}

// refundBody is POST /notices/{code}/refunds.
type refundBody struct {
	RefundNo   string       `json:"refund_no"`
	Amount     payments.Fen `json:"amount"`
	Reason     string       `json:"reason"`
	RefundedAt string       `json:"refunded_at"`
}

type refundAnswer struct {
	PaymentCode    string       `json:"payment_code"`
	RefundNo       string       `json:"refund_no"`
	Amount         payments.Fen `json:"amount"`
	RefundedAmount payments.Fen `json:"refunded_amount"`
	Status         string       `json:"status"`
}

type confirmationsAnswer struct {
	Date          string             `json:"date"`
	Count         int                `json:"count"`
	TotalAmount   payments.Fen       `json:"total_amount"`
	Confirmations []wireConfirmation `json:"confirmations"`
}

var noticeStatuses = map[string]payments.NoticeStatus{
	"unpaid": payments.NoticeUnpaid, "paid": payments.NoticePaid,
	"refunded": payments.NoticeRefunded, "cancelled": payments.NoticeCancelled,
}

// notice converts and checks a wire notice: a known status, items that
// add up, a receipt once paid. Anything else is ErrBadResponse.
func (w wireNotice) notice() (payments.Notice, error) {
	status, ok := noticeStatuses[w.Status]
	if !ok {
		return payments.Notice{}, fmt.Errorf("%w: notice status %q", ErrBadResponse, w.Status)
	}
	n := payments.Notice{
		PaymentCode: w.PaymentCode, PayerName: w.PayerName, PayerID: w.PayerID, Agency: w.Agency,
		Amount: w.Amount, IssuedAt: w.IssuedAt, DueAt: w.DueAt, CaseNumber: w.CaseNumber, Status: status,
	}
	var sum payments.Fen
	for _, it := range w.Items {
		n.Items = append(n.Items, payments.NoticeItem{Code: it.Code, Name: it.Name, Amount: it.Amount, Quantity: it.Quantity})
		sum += it.Amount
	}
	if sum != w.Amount || w.Amount <= 0 || !ValidPaymentCode(w.PaymentCode) {
		return payments.Notice{}, fmt.Errorf("%w: notice %s does not add up", ErrBadResponse, w.PaymentCode)
	}
	if w.Receipt != nil {
		r := w.Receipt.receipt()
		n.Receipt = &r
	}
	if (status == payments.NoticePaid || status == payments.NoticeRefunded) && n.Receipt == nil {
		return payments.Notice{}, fmt.Errorf("%w: paid notice %s without receipt", ErrBadResponse, w.PaymentCode)
	}
	return n, nil
}

func (w wireReceipt) receipt() payments.Receipt {
	return payments.Receipt{Number: w.Number, Code: w.Code, CheckSum: w.CheckSum, URL: w.URL, IssuedAt: w.IssuedAt}
}

func (w wireConfirmation) confirmation() payments.Confirmation {
	return payments.Confirmation{
		PaymentCode: w.PaymentCode, Channel: payments.Channel(w.Channel), TransactionID: w.TransactionID,
		OutTradeNo: w.OutTradeNo, Amount: w.Amount, PaidAt: w.PaidAt,
	}
}
