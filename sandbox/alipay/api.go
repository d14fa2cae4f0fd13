package alipay

import "slices"

// The trade OpenAPI methods. Each answers Alipay's response fields (code
// 10000 "Success" and the method's own) or an Error.

// tradeRef names a trade in a request: out_trade_no or trade_no.
type tradeRef struct {
	OutTradeNo   string   `json:"out_trade_no"`
	TradeNo      string   `json:"trade_no"`
	QueryOptions []string `json:"query_options"`
}

// find resolves the request's trade; the caller holds s.mu.
func (s *Server) find(c *call, ref tradeRef) (*trade, *Error) {
	if ref.OutTradeNo == "" && ref.TradeNo == "" {
		return nil, bizError(SubInvalidParameter, "参数无效：out_trade_no 与 trade_no 不能同时为空")
	}
	t := s.lookup(ref.OutTradeNo, ref.TradeNo, c.now)
	if t == nil {
		return nil, errTradeNotExist()
	}
	return t, nil
}

type queryResponse struct {
	Code           string     `json:"code"`
	Msg            string     `json:"msg"`
	TradeNo        string     `json:"trade_no"`
	OutTradeNo     string     `json:"out_trade_no"`
	BuyerLogonID   string     `json:"buyer_logon_id,omitempty"`
	TradeStatus    string     `json:"trade_status"`
	TotalAmount    string     `json:"total_amount"`
	BuyerPayAmount string     `json:"buyer_pay_amount"`
	PointAmount    string     `json:"point_amount"`
	InvoiceAmount  string     `json:"invoice_amount"`
	SendPayDate    string     `json:"send_pay_date,omitempty"`
	ReceiptAmount  string     `json:"receipt_amount"`
	BuyerUserID    string     `json:"buyer_user_id,omitempty"`
	Subject        string     `json:"subject,omitempty"`
	PassbackParams string     `json:"passback_params,omitempty"`
	FundBillList   []fundBill `json:"fund_bill_list,omitempty"`
}

type fundBill struct {
	FundChannel string `json:"fund_channel"`
	Amount      string `json:"amount"`
	RealAmount  string `json:"real_amount"`
}

// apiQuery: alipay.trade.query.
func (s *Server) apiQuery(c *call) (any, *Error) {
	var ref tradeRef
	if e := c.decodeBiz(&ref); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.find(c, ref)
	if e != nil {
		return nil, e
	}
	r := queryResponse{
		Code: CodeSuccess, Msg: msgSuccess, TradeNo: t.tradeNo, OutTradeNo: t.outTradeNo,
		BuyerLogonID: t.buyerLogon, TradeStatus: t.status, TotalAmount: yuan(t.total),
		BuyerPayAmount: "0.00", PointAmount: "0.00", InvoiceAmount: "0.00", ReceiptAmount: "0.00",
		BuyerUserID: t.buyerID, Subject: t.subject, PassbackParams: t.passback,
	}
	if !t.paid.IsZero() {
		paid := yuan(t.total)
		r.BuyerPayAmount, r.InvoiceAmount, r.ReceiptAmount = paid, paid, paid
		r.SendPayDate = fmtTime(t.paid)
		if slices.Contains(ref.QueryOptions, "fund_bill_list") {
			r.FundBillList = []fundBill{{FundChannel: "ALIPAYACCOUNT", Amount: paid, RealAmount: paid}}
		}
	}
	return r, nil
}

type closeResponse struct {
	Code       string `json:"code"`
	Msg        string `json:"msg"`
	TradeNo    string `json:"trade_no"`
	OutTradeNo string `json:"out_trade_no"`
}

// apiClose: alipay.trade.close. Only a trade waiting for the payer can be
// closed; anything else is ACQ.TRADE_STATUS_ERROR, as on Alipay.
func (s *Server) apiClose(c *call) (any, *Error) {
	var ref tradeRef
	if e := c.decodeBiz(&ref); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.find(c, ref)
	if e != nil {
		return nil, e
	}
	if t.status != StatusWaitBuyerPay {
		return nil, bizError(SubTradeStatusError, "交易状态不合法：当前状态 "+t.status)
	}
	t.status, t.closed = StatusClosed, c.now
	s.log.Info("alipay trade closed", "out_trade_no", t.outTradeNo)
	return closeResponse{Code: CodeSuccess, Msg: msgSuccess, TradeNo: t.tradeNo, OutTradeNo: t.outTradeNo}, nil
}

type refundRequest struct {
	tradeRef
	RefundAmount string `json:"refund_amount"`
	RefundReason string `json:"refund_reason"`
	OutRequestNo string `json:"out_request_no"`
}

type refundResponse struct {
	Code                 string     `json:"code"`
	Msg                  string     `json:"msg"`
	TradeNo              string     `json:"trade_no"`
	OutTradeNo           string     `json:"out_trade_no"`
	BuyerLogonID         string     `json:"buyer_logon_id"`
	FundChange           string     `json:"fund_change"`
	RefundFee            string     `json:"refund_fee"`
	GmtRefundPay         string     `json:"gmt_refund_pay"`
	BuyerUserID          string     `json:"buyer_user_id"`
	RefundDetailItemList []fundBill `json:"refund_detail_item_list,omitempty"`
	SendBackFee          string     `json:"send_back_fee,omitempty"`
}

// apiRefund: alipay.trade.refund. Refunds settle at once. A repeated
// out_request_no with the same amount answers success again with
// fund_change N; with another amount ACQ.DISCORDANT_REPEAT_REQUEST. The
// refunds of a trade never exceed its total (ACQ.REFUND_AMT_NOT_EQUAL_TOTAL);
// the last one closes it (TRADE_CLOSED). A refund sends the trade notify
// with out_biz_no, refund_fee and gmt_refund.
func (s *Server) apiRefund(c *call) (any, *Error) {
	var req refundRequest
	if e := c.decodeBiz(&req); e != nil {
		return nil, e
	}
	amount, err := parseYuan(req.RefundAmount)
	if err != nil {
		return nil, bizError(SubRefundFeeError, "退款金额无效："+req.RefundAmount)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.find(c, req.tradeRef)
	if e != nil {
		return nil, e
	}
	reqNo := req.OutRequestNo
	if reqNo == "" {
		reqNo = t.outTradeNo // Alipay's rule for a refund without out_request_no
	}
	if old := t.refundByNo(reqNo); old != nil {
		if old.amount != amount {
			return nil, bizError(SubDiscordantRepeat, "请求信息不一致：同一退款请求号的退款金额与首次请求不同")
		}
		return s.refundResponse(t, old, req.QueryOptions, "N"), nil
	}
	switch {
	case t.status == StatusFinished:
		return nil, bizError(SubTradeHasFinished, "交易已完结")
	case t.status == StatusClosed:
		return nil, bizError(SubTradeHasClose, "交易已经关闭")
	case t.status != StatusSuccess:
		return nil, bizError(SubTradeStatusError, "交易状态不合法：当前状态 "+t.status)
	case t.refunded+amount > t.total:
		return nil, bizError(SubRefundAmtNotEqual, "退款金额超限：已退 "+yuan(t.refunded)+" 元，订单金额 "+yuan(t.total)+" 元")
	}
	r := &refund{outRequestNo: reqNo, amount: amount, reason: req.RefundReason, at: c.now}
	t.refunds = append(t.refunds, r)
	t.refunded += amount
	if t.refunded == t.total {
		t.status, t.closed = StatusClosed, c.now
	}
	s.addNotify(t, s.tradeNotify(t, r, c.now), NotifySend)
	s.log.Info("alipay refund", "out_trade_no", t.outTradeNo, "out_request_no", reqNo, "amount", yuan(amount))
	return s.refundResponse(t, r, req.QueryOptions, "Y"), nil
}

// refundResponse answers a refund; the caller holds s.mu.
func (s *Server) refundResponse(t *trade, r *refund, options []string, fundChange string) refundResponse {
	res := refundResponse{
		Code: CodeSuccess, Msg: msgSuccess, TradeNo: t.tradeNo, OutTradeNo: t.outTradeNo,
		BuyerLogonID: t.buyerLogon, FundChange: fundChange, RefundFee: yuan(t.refunded),
		GmtRefundPay: fmtTime(r.at), BuyerUserID: t.buyerID,
	}
	if slices.Contains(options, "refund_detail_item_list") {
		res.RefundDetailItemList = []fundBill{{FundChannel: "ALIPAYACCOUNT", Amount: yuan(r.amount), RealAmount: yuan(r.amount)}}
		res.SendBackFee = yuan(r.amount)
	}
	return res
}

type refundQueryResponse struct {
	Code         string `json:"code"`
	Msg          string `json:"msg"`
	TradeNo      string `json:"trade_no,omitempty"`
	OutTradeNo   string `json:"out_trade_no,omitempty"`
	OutRequestNo string `json:"out_request_no,omitempty"`
	TotalAmount  string `json:"total_amount,omitempty"`
	RefundAmount string `json:"refund_amount,omitempty"`
	RefundStatus string `json:"refund_status,omitempty"`
	GmtRefundPay string `json:"gmt_refund_pay,omitempty"`
	SendBackFee  string `json:"send_back_fee,omitempty"`
}

// apiRefundQuery: alipay.trade.fastpay.refund.query. An unknown
// out_request_no of a known trade answers 10000 without refund fields,
// which is how Alipay says "no such refund".
func (s *Server) apiRefundQuery(c *call) (any, *Error) {
	var req refundRequest
	if e := c.decodeBiz(&req); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.find(c, req.tradeRef)
	if e != nil {
		return nil, e
	}
	reqNo := req.OutRequestNo
	if reqNo == "" {
		return nil, bizError(SubInvalidParameter, "参数无效：out_request_no 不能为空")
	}
	r := t.refundByNo(reqNo)
	if r == nil {
		return refundQueryResponse{Code: CodeSuccess, Msg: msgSuccess}, nil
	}
	res := refundQueryResponse{
		Code: CodeSuccess, Msg: msgSuccess, TradeNo: t.tradeNo, OutTradeNo: t.outTradeNo,
		OutRequestNo: r.outRequestNo, TotalAmount: yuan(t.total), RefundAmount: yuan(r.amount),
		RefundStatus: "REFUND_SUCCESS", SendBackFee: yuan(r.amount),
	}
	if slices.Contains(req.QueryOptions, "gmt_refund_pay") {
		res.GmtRefundPay = fmtTime(r.at)
	}
	return res, nil
}
