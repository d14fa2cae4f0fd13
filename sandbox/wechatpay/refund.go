package wechatpay

import (
	"regexp"
	"strconv"
	"time"

	"zwfw/sandbox/fake"
)

// Refund states of refundquery.
const (
	RefundProcessing = "PROCESSING"
	RefundSuccess    = "SUCCESS"
	RefundClosed     = "REFUNDCLOSE"
)

// outRefundNoPattern: the out_trade_no alphabet, up to 64 characters.
var outRefundNoPattern = regexp.MustCompile(`^[A-Za-z0-9_\-|*@]{1,64}$`)

// refundTimeLayout is how refundquery and refund notifies write times.
const refundTimeLayout = "2006-01-02 15:04:05"

// refund is one refund (out_refund_no) of an order.
type refund struct {
	OutRefundNo, RefundID string
	RefundFee             int64
	TotalFee              int64 // the order's total as the refund request gave it
	Desc, NotifyURL       string
	Status                string
	Created, SuccessAt    time.Time
	seq                   int // orders events of the same second in the bill
	order                 *order
}

// refund serves /secapi/pay/refund (behind requireClientCert).
func (s *Server) refund(req *request) result {
	for _, p := range []string{"out_refund_no", "total_fee", "refund_fee"} {
		if req.get(p) == "" {
			return fail("PARAM_ERROR", "缺少参数"+p)
		}
	}
	if req.get("transaction_id") == "" && req.get("out_trade_no") == "" {
		return fail("PARAM_ERROR", "缺少参数out_trade_no或transaction_id")
	}
	outRefundNo := req.get("out_refund_no")
	if !outRefundNoPattern.MatchString(outRefundNo) {
		return fail("PARAM_ERROR", "out_refund_no参数错误")
	}
	total, err1 := strconv.ParseInt(req.get("total_fee"), 10, 64)
	amount, err2 := strconv.ParseInt(req.get("refund_fee"), 10, 64)
	if err1 != nil || err2 != nil || total <= 0 || amount <= 0 {
		return fail("PARAM_ERROR", "total_fee或refund_fee参数错误")
	}
	if amount > total {
		return fail("PARAM_ERROR", "退款金额refund_fee不能大于订单金额total_fee")
	}
	if len([]rune(req.get("refund_desc"))) > 80 {
		return fail("PARAM_ERROR", "refund_desc参数长度有误")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrder(req)
	if o == nil {
		return fail("ORDERNOTEXIST", "订单不存在")
	}
	if r, ok := s.refunds[outRefundNo]; ok {
		// Idempotent on out_refund_no: the same request gets the same refund.
		if r.order != o || r.RefundFee != amount || r.TotalFee != total {
			return fail("PARAM_ERROR", "订单金额或退款金额与之前请求不一致，请核实后再试")
		}
		return result{fields: refundAnswer(r)}
	}
	switch {
	case !o.paid():
		return fail("ERROR", "订单状态错误：订单未支付")
	case total != o.PaidFee:
		return fail("PARAM_ERROR", "订单金额total_fee与实际支付金额不一致")
	case req.now.Sub(o.PaidAt) > RefundWindow:
		return fail("TRADE_OVERDUE", "订单已经超过退款期限")
	case len(o.refunds) >= MaxRefundsPerOrder:
		return fail("ERROR", "退款次数超过限制")
	case o.refunded() >= o.PaidFee:
		return fail("ERROR", "订单已全额退款")
	case o.refunded()+amount > o.PaidFee:
		return fail("ERROR", "申请退款金额超过订单可退金额")
	}
	r := &refund{
		OutRefundNo: outRefundNo,
		RefundID:    "5030" + req.now.In(shanghai).Format("20060102") + fake.RandomString(fake.Digits, 17),
		RefundFee:   amount, TotalFee: total,
		Desc: req.get("refund_desc"), NotifyURL: req.get("notify_url"),
		Status: RefundProcessing, Created: req.now, order: o, seq: s.nextSeq(),
	}
	s.refunds[outRefundNo] = r
	o.refunds = append(o.refunds, r)
	o.State = StateRefunded
	s.log.Info("wechatpay refund accepted", "out_trade_no", o.OutTradeNo, "out_refund_no", outRefundNo, "refund_fee", amount)
	if s.refundDelay <= 0 && !s.closed { // s.mu is held: Close cannot be waiting yet
		// Due at once: settle right after answering, so that the refund
		// notify comes without waiting for the next request.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.settleDue(s.now())
		}()
	}
	return result{fields: refundAnswer(r)}
}

// refundAnswer are the business fields of a refund's answer.
func refundAnswer(r *refund) Message {
	o := r.order
	return Message{
		{"transaction_id", o.TransactionID},
		{"out_trade_no", o.OutTradeNo},
		{"out_refund_no", r.OutRefundNo},
		{"refund_id", r.RefundID},
		{"refund_channel", ""},
		{"refund_fee", strconv.FormatInt(r.RefundFee, 10)},
		{"coupon_refund_fee", "0"},
		{"total_fee", strconv.FormatInt(o.PaidFee, 10)},
		{"cash_fee", strconv.FormatInt(o.PaidFee, 10)},
		{"cash_refund_fee", strconv.FormatInt(r.RefundFee, 10)},
	}
}

// refundQuery serves /pay/refundquery: by refund_id or out_refund_no one
// refund, by transaction_id or out_trade_no all refunds of the order.
func (s *Server) refundQuery(req *request) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*refund
	var o *order
	switch {
	case req.get("refund_id") != "" || req.get("out_refund_no") != "":
		for _, r := range s.refunds {
			if (req.get("refund_id") != "" && r.RefundID == req.get("refund_id")) ||
				(req.get("refund_id") == "" && r.OutRefundNo == req.get("out_refund_no")) {
				list, o = []*refund{r}, r.order
			}
		}
	case req.get("transaction_id") != "" || req.get("out_trade_no") != "":
		if o = s.findOrder(req); o != nil {
			list = o.refunds
		}
	default:
		return fail("PARAM_ERROR", "缺少参数：out_refund_no、out_trade_no、transaction_id、refund_id 四选一")
	}
	if len(list) == 0 || o.AppID != req.appID {
		return fail("REFUNDNOTEXIST", "退款订单查询失败")
	}
	f := Message{
		{"transaction_id", o.TransactionID},
		{"out_trade_no", o.OutTradeNo},
		{"total_fee", strconv.FormatInt(o.PaidFee, 10)},
		{"fee_type", o.FeeType},
		{"cash_fee", strconv.FormatInt(o.PaidFee, 10)},
		{"refund_count", strconv.Itoa(len(list))},
	}
	for n, r := range list {
		i := "_" + strconv.Itoa(n)
		f = append(f,
			Field{"out_refund_no" + i, r.OutRefundNo},
			Field{"refund_id" + i, r.RefundID},
			Field{"refund_channel" + i, "ORIGINAL"},
			Field{"refund_fee" + i, strconv.FormatInt(r.RefundFee, 10)},
			Field{"coupon_refund_fee" + i, "0"},
			Field{"refund_status" + i, r.Status},
			Field{"refund_account" + i, "REFUND_SOURCE_UNSETTLED_FUNDS"},
			Field{"refund_recv_accout" + i, "支付用户的零钱"},
		)
		if r.Status == RefundSuccess {
			f = append(f, Field{"refund_success_time" + i, r.SuccessAt.In(shanghai).Format(refundTimeLayout)})
		}
	}
	return result{fields: f}
}

// settleDue moves refunds whose delay has passed on the fake clock to
// SUCCESS and sends their notifies.
func (s *Server) settleDue(now time.Time) {
	s.mu.Lock()
	var settled []*refund
	for _, r := range s.refunds {
		if r.Status == RefundProcessing && !now.Before(r.Created.Add(s.refundDelay)) {
			r.Status, r.SuccessAt = RefundSuccess, r.Created.Add(s.refundDelay)
			settled = append(settled, r)
		}
	}
	mode := s.notifyMode
	var sends []pendingNotify
	for _, r := range settled {
		s.log.Info("wechatpay refund settled", "out_refund_no", r.OutRefundNo)
		if r.NotifyURL != "" {
			sends = append(sends, s.queueNotify(KindRefund, r.order.OutTradeNo, r.OutRefundNo, r.NotifyURL, s.refundNotify(r), mode, now)...)
		}
	}
	s.mu.Unlock()
	s.deliverAll(sends)
}

// Advance applies the passage of the fake clock: refunds whose delay has
// passed succeed and their notifies are sent. API requests do the same.
func (s *Server) Advance() { s.settleDue(s.now()) }
