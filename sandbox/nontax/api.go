package nontax

import (
	"net/http"
	"time"
)

// The API handlers: parse, call the service methods, shape data.

// withBase makes a notice's receipt link absolute for the caller.
func withBase(n Notice, base string) Notice {
	if n.Receipt != nil {
		n.Receipt.URL = base + n.Receipt.URL
	}
	return n
}

// apiNotice: GET /api/v1/notices/{payment_code}
func (s *Server) apiNotice(c *call) (any, *Error) {
	s.mu.Lock()
	n, e := s.lookup(c.r.PathValue("payment_code"))
	var v Notice
	if e == nil {
		v = n.view()
	}
	s.mu.Unlock()
	if e != nil {
		return nil, e
	}
	return withBase(v, c.base), nil
}

// apiNoticesOf: GET /api/v1/notices?payer_id=&status=
func (s *Server) apiNoticesOf(c *call) (any, *Error) {
	q := c.r.URL.Query()
	payer := q.Get("payer_id")
	if payer == "" {
		return nil, invalid("缺少参数 payer_id（身份证号码或统一社会信用代码）")
	}
	id, _, e := payerType(payer)
	if e != nil {
		return nil, e
	}
	status := q.Get("status")
	switch status {
	case "", StatusUnpaid, StatusPaid, StatusRefunded, StatusCancelled:
	default:
		return nil, invalid("status 应为 unpaid、paid、refunded 或 cancelled")
	}
	list := s.Notices(id, status)
	for i := range list {
		list[i] = withBase(list[i], c.base)
	}
	return map[string]any{"notices": list}, nil
}

// apiReceipt: GET /api/v1/notices/{payment_code}/receipt
func (s *Server) apiReceipt(c *call) (any, *Error) {
	s.mu.Lock()
	n, e := s.lookup(c.r.PathValue("payment_code"))
	var r *Receipt
	if e == nil && n.Receipt != nil {
		cp := *n.Receipt
		r = &cp
	}
	s.mu.Unlock()
	if e != nil {
		return nil, e
	}
	if r == nil {
		return nil, errorf(http.StatusNotFound, CodeReceiptNotFound, "缴款通知书尚未缴款，没有电子票据")
	}
	r.URL = c.base + r.URL
	return r, nil
}

// apiConfirm: POST /api/v1/notices/{payment_code}/payments
func (s *Server) apiConfirm(c *call) (any, *Error) {
	var req struct {
		Channel       string `json:"channel"`
		TransactionID string `json:"transaction_id"`
		OutTradeNo    string `json:"out_trade_no"`
		Amount        int64  `json:"amount"`
		PaidAt        string `json:"paid_at"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	paidAt, err := time.Parse(time.RFC3339, req.PaidAt)
	if err != nil {
		return nil, invalid("paid_at 应为带时区的 RFC 3339 时间")
	}
	res, e := s.confirm(c.r.PathValue("payment_code"), ConfirmRequest{
		Channel: req.Channel, TransactionID: req.TransactionID, OutTradeNo: req.OutTradeNo,
		Amount: req.Amount, PaidAt: paidAt,
	}, c.now)
	if e != nil {
		return nil, e
	}
	res.Receipt.URL = c.base + res.Receipt.URL
	return res, nil
}

// apiRefund: POST /api/v1/notices/{payment_code}/refunds
func (s *Server) apiRefund(c *call) (any, *Error) {
	var req struct {
		RefundNo   string `json:"refund_no"`
		Amount     int64  `json:"amount"`
		Reason     string `json:"reason"`
		RefundedAt string `json:"refunded_at"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	at, err := time.Parse(time.RFC3339, req.RefundedAt)
	if err != nil {
		return nil, invalid("refunded_at 应为带时区的 RFC 3339 时间")
	}
	res, e := s.refund(c.r.PathValue("payment_code"), RefundRequest{
		RefundNo: req.RefundNo, Amount: req.Amount, Reason: req.Reason, RefundedAt: at,
	}, c.now)
	if e != nil {
		return nil, e
	}
	return res, nil
}

// apiConfirmations: GET /api/v1/confirmations?date=YYYY-MM-DD
func (s *Server) apiConfirmations(c *call) (any, *Error) {
	date := c.r.URL.Query().Get("date")
	day, err := time.ParseInLocation(time.DateOnly, date, chinaTime)
	if err != nil {
		return nil, invalid("date 应为 YYYY-MM-DD")
	}
	list := s.Confirmations(day)
	var total int64
	for _, cf := range list {
		total += cf.Amount
	}
	return map[string]any{"date": date, "count": len(list), "total_amount": total, "confirmations": list}, nil
}
