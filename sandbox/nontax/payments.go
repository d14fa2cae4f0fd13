package nontax

import (
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Channels the platform accepts confirmations from (the payment channels
// zwfw offers; a real platform has its own list of 缴费渠道 codes).
var Channels = []string{"wechat_jsapi", "wechat_app", "alipay_app", "alipay_wap"}

// Confirmation is a payment booked against a notice.
type Confirmation struct {
	PaymentCode   string    `json:"payment_code"`
	Channel       string    `json:"channel"`
	TransactionID string    `json:"transaction_id"` // the channel's trade number
	OutTradeNo    string    `json:"out_trade_no"`   // zwfw's order number at the channel
	Amount        int64     `json:"amount"`
	PaidAt        time.Time `json:"paid_at"`      // when the payer paid, as the channel says
	ConfirmedAt   time.Time `json:"confirmed_at"` // when the platform booked it
}

// ConfirmRequest is a confirmation as zwfw sends it.
type ConfirmRequest struct {
	Channel       string
	TransactionID string
	OutTradeNo    string
	Amount        int64
	PaidAt        time.Time
}

// ConfirmResult answers a confirmation: the notice's state and its receipt.
type ConfirmResult struct {
	PaymentCode  string       `json:"payment_code"`
	Status       string       `json:"status"`
	Confirmation Confirmation `json:"confirmation"`
	Receipt      Receipt      `json:"receipt"`
}

// Refund is a refund registered against a paid notice.
type Refund struct {
	RefundNo     string    `json:"refund_no"`
	Amount       int64     `json:"amount"`
	Reason       string    `json:"reason"`
	RefundedAt   time.Time `json:"refunded_at"`
	RegisteredAt time.Time `json:"registered_at"`
}

// RefundRequest is a refund registration as zwfw sends it.
type RefundRequest struct {
	RefundNo   string
	Amount     int64
	Reason     string
	RefundedAt time.Time
}

// RefundResult answers a refund registration.
type RefundResult struct {
	PaymentCode    string `json:"payment_code"`
	RefundNo       string `json:"refund_no"`
	Amount         int64  `json:"amount"`
	RefundedAmount int64  `json:"refunded_amount"` // all refunds of the notice so far
	Status         string `json:"status"`          // paid, or refunded once wholly refunded
}

const (
	maxTransactionID = 64
	maxOutTradeNo    = 32
	maxRefundNo      = 64
	maxReasonRunes   = 200
)

// tradeID reports whether s is 1..max characters of A-Z a-z 0-9 _ -, the
// form of WeChat Pay and Alipay trade and refund numbers.
func tradeID(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// lookup finds a notice by a payment code the caller sent: PAYMENT_CODE_INVALID
// for a malformed one, NOTICE_NOT_FOUND for an unknown one. Callers hold s.mu.
func (s *Server) lookup(code string) (*notice, *Error) {
	if e := checkCode(code); e != nil {
		return nil, e
	}
	n, ok := s.notices[code]
	if !ok {
		return nil, errorf(http.StatusNotFound, CodeNoticeNotFound, "缴款通知书不存在，请核对缴款码")
	}
	return n, nil
}

// checkCode is PAYMENT_CODE_INVALID for a malformed payment code.
func checkCode(code string) *Error {
	if err := ValidatePaymentCode(code); err != nil {
		return errorf(http.StatusBadRequest, CodePaymentCodeInvalid, "%s", err.Error())
	}
	return nil
}

// Confirm books a payment of a notice through a channel and issues its
// e-receipt. A repeat with the same transaction id and amount returns the
// same answer. Errors (*Error): PAYMENT_CODE_INVALID, NOTICE_NOT_FOUND,
// PARAM_INVALID, AMOUNT_MISMATCH (not the notice's amount, or a repeat of
// the transaction with another amount), TRANSACTION_DUPLICATE (the
// transaction paid another notice), NOTICE_CANCELLED, NOTICE_ALREADY_PAID
// (paid by another transaction), NOTICE_EXPIRED (paid after the due date).
// The receipt's URL starts with Options.PublicURL (a bare path without it;
// the API builds it from the request's Host).
func (s *Server) Confirm(code string, req ConfirmRequest) (ConfirmResult, error) {
	res, e := s.confirm(code, req, s.now())
	if e != nil {
		return ConfirmResult{}, e
	}
	res.Receipt.URL = s.publicURL + res.Receipt.URL
	return res, nil
}

// confirm is Confirm with the receipt URL as a path below the sandbox root.
func (s *Server) confirm(code string, req ConfirmRequest, now time.Time) (ConfirmResult, *Error) {
	if e := checkCode(code); e != nil {
		return ConfirmResult{}, e
	}
	if !slices.Contains(Channels, req.Channel) {
		return ConfirmResult{}, invalid("缴费渠道 %q 无效，应为 %s 之一", req.Channel, strings.Join(Channels, "、"))
	}
	if !tradeID(req.TransactionID, maxTransactionID) {
		return ConfirmResult{}, invalid("渠道交易号应为1至%d位字母、数字、下划线或连字符", maxTransactionID)
	}
	if !tradeID(req.OutTradeNo, maxOutTradeNo) {
		return ConfirmResult{}, invalid("商户订单号应为1至%d位字母、数字、下划线或连字符", maxOutTradeNo)
	}
	if req.Amount < 1 || req.Amount > maxNoticeFen {
		return ConfirmResult{}, invalid("缴款金额应为正整数（分）")
	}
	if req.PaidAt.IsZero() || req.PaidAt.After(now.Add(PaidAtLeeway)) {
		return ConfirmResult{}, invalid("支付时间无效：不能晚于平台当前时间")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, e := s.lookup(code)
	if e != nil {
		return ConfirmResult{}, e
	}
	if c := n.Confirmation; c != nil && c.TransactionID == req.TransactionID {
		if c.Amount != req.Amount {
			return ConfirmResult{}, errorf(http.StatusConflict, CodeAmountMismatch, "该交易已以 %s 元入账，与本次金额 %s 元不符", yuan(c.Amount), yuan(req.Amount))
		}
		return ConfirmResult{PaymentCode: code, Status: n.Status, Confirmation: *c, Receipt: *n.Receipt}, nil
	}
	if other, used := s.transactions[req.TransactionID]; used && other != code {
		return ConfirmResult{}, errorf(http.StatusConflict, CodeTransactionDuplicate, "该渠道交易已用于缴纳其他缴款通知书")
	}
	switch n.Status {
	case StatusCancelled:
		return ConfirmResult{}, errorf(http.StatusConflict, CodeNoticeCancelled, "缴款通知书已作废，不能缴款")
	case StatusPaid, StatusRefunded:
		return ConfirmResult{}, errorf(http.StatusConflict, CodeNoticeAlreadyPaid, "缴款通知书已由其他交易缴款")
	}
	if req.Amount != n.Amount {
		return ConfirmResult{}, errorf(http.StatusConflict, CodeAmountMismatch, "缴款金额 %s 元与应缴金额 %s 元不符", yuan(req.Amount), yuan(n.Amount))
	}
	if req.PaidAt.After(n.DueAt) {
		return ConfirmResult{}, errorf(http.StatusConflict, CodeNoticeExpired, "已超过缴款期限（%s），请联系执收单位", n.DueAt.Format("2006-01-02"))
	}
	at := now.In(chinaTime).Truncate(time.Second)
	c := Confirmation{
		PaymentCode: code, Channel: req.Channel, TransactionID: req.TransactionID, OutTradeNo: req.OutTradeNo,
		Amount: req.Amount, PaidAt: req.PaidAt.In(chinaTime), ConfirmedAt: at,
	}
	r := s.issueReceipt(n, at)
	n.Status, n.PaidAmount, n.Confirmation, n.Receipt = StatusPaid, req.Amount, &c, &r
	s.transactions[req.TransactionID] = code
	s.log.Info("nontax payment confirmed", "payment_code", code, "channel", req.Channel, "amount", req.Amount, "receipt", r.Code+r.Number)
	return ConfirmResult{PaymentCode: code, Status: n.Status, Confirmation: c, Receipt: r}, nil
}

// RegisterRefund records a refund of a paid notice. A repeat of a refund
// number with the same amount returns the notice's current refund state.
// Errors (*Error): PAYMENT_CODE_INVALID, NOTICE_NOT_FOUND, PARAM_INVALID,
// REFUND_NO_CONFLICT (the number was used for another notice or amount),
// NOTICE_NOT_PAID, REFUND_EXCEEDS_PAID.
func (s *Server) RegisterRefund(code string, req RefundRequest) (RefundResult, error) {
	res, e := s.refund(code, req, s.now())
	if e != nil {
		return RefundResult{}, e
	}
	return res, nil
}

func (s *Server) refund(code string, req RefundRequest, now time.Time) (RefundResult, *Error) {
	if e := checkCode(code); e != nil {
		return RefundResult{}, e
	}
	if !tradeID(req.RefundNo, maxRefundNo) {
		return RefundResult{}, invalid("退款单号应为1至%d位字母、数字、下划线或连字符", maxRefundNo)
	}
	if req.Amount < 1 || req.Amount > maxNoticeFen {
		return RefundResult{}, invalid("退款金额应为正整数（分）")
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" || utf8.RuneCountInString(reason) > maxReasonRunes {
		return RefundResult{}, invalid("退款原因不能为空且不超过%d个字", maxReasonRunes)
	}
	if req.RefundedAt.IsZero() || req.RefundedAt.After(now.Add(PaidAtLeeway)) {
		return RefundResult{}, invalid("退款时间无效：不能晚于平台当前时间")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, e := s.lookup(code)
	if e != nil {
		return RefundResult{}, e
	}
	result := func(amount int64) RefundResult {
		return RefundResult{PaymentCode: code, RefundNo: req.RefundNo, Amount: amount, RefundedAmount: n.RefundedAmount, Status: n.Status}
	}
	if other, used := s.refundNos[req.RefundNo]; used {
		if other == code {
			for _, r := range n.Refunds {
				if r.RefundNo == req.RefundNo && r.Amount == req.Amount {
					return result(r.Amount), nil
				}
			}
		}
		return RefundResult{}, errorf(http.StatusConflict, CodeRefundNoConflict, "退款单号已用于另一笔退款")
	}
	if n.Status != StatusPaid {
		if n.Status == StatusRefunded {
			return RefundResult{}, errorf(http.StatusConflict, CodeRefundExceedsPaid, "缴款已全额退还，不能再退款")
		}
		return RefundResult{}, errorf(http.StatusConflict, CodeNoticeNotPaid, "缴款通知书未缴款，不能登记退款")
	}
	if n.RefundedAmount+req.Amount > n.PaidAmount {
		return RefundResult{}, errorf(http.StatusConflict, CodeRefundExceedsPaid, "退款金额超过可退金额 %s 元", yuan(n.PaidAmount-n.RefundedAmount))
	}
	n.Refunds = append(n.Refunds, Refund{
		RefundNo: req.RefundNo, Amount: req.Amount, Reason: reason,
		RefundedAt: req.RefundedAt.In(chinaTime), RegisteredAt: now.In(chinaTime).Truncate(time.Second),
	})
	n.RefundedAmount += req.Amount
	if n.RefundedAmount == n.PaidAmount {
		n.Status = StatusRefunded
	}
	s.refundNos[req.RefundNo] = code
	s.log.Info("nontax refund registered", "payment_code", code, "refund_no", req.RefundNo, "amount", req.Amount)
	return result(req.Amount), nil
}

// Confirmations lists the confirmations whose paid_at falls on day
// (Asia/Shanghai; only day's date counts), by paid_at. A zero day lists
// every confirmation.
func (s *Server) Confirmations(day time.Time) []Confirmation {
	var from, to time.Time
	if !day.IsZero() {
		d := day.In(chinaTime)
		from = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, chinaTime)
		to = from.AddDate(0, 0, 1)
	}
	s.mu.Lock()
	out := []Confirmation{}
	for _, code := range s.order {
		c := s.notices[code].Confirmation
		if c != nil && (day.IsZero() || !c.PaidAt.Before(from) && c.PaidAt.Before(to)) {
			out = append(out, *c)
		}
	}
	s.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Confirmation) int { return a.PaidAt.Compare(b.PaidAt) })
	return out
}
