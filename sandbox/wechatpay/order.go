package wechatpay

import (
	"net/url"
	"regexp"
	"strconv"
	"time"

	"zwfw/sandbox/fake"
)

// Trade states of orderquery.
const (
	StateNotPaid  = "NOTPAY"
	StateSuccess  = "SUCCESS"
	StateRefunded = "REFUND"
	StateClosed   = "CLOSED"
)

// order is one merchant order (out_trade_no) at WeChat Pay.
type order struct {
	AppID, TradeType, OpenID string
	Body, Detail, Attach     string
	OutTradeNo, FeeType      string
	NotifyURL, SignType      string
	ClientIP                 string
	TotalFee                 int64
	Created, TimeExpire      time.Time // TimeExpire zero = none
	PrepayID                 string
	PrepayAt                 time.Time
	State                    string
	TransactionID, BankType  string
	PaidFee                  int64 // what the payer paid (a control may override the order's total)
	PaidAt, ClosedAt         time.Time
	paidSeq                  int    // orders events of the same second in the bill
	Surplus                  bool   // paid after the merchant closed it
	key                      string // the parameters an identical repeat must match
	refunds                  []*refund
}

// paid reports whether money was received.
func (o *order) paid() bool { return o.State == StateSuccess || o.State == StateRefunded }

// refunded is the sum of the order's refunds (processing ones included:
// the money is committed).
func (o *order) refunded() int64 {
	var n int64
	for _, r := range o.refunds {
		if r.Status != RefundClosed {
			n += r.RefundFee
		}
	}
	return n
}

// outTradeNoPattern: WeChat allows letters, digits and _-|*@, up to 32.
var outTradeNoPattern = regexp.MustCompile(`^[A-Za-z0-9_\-|*@]{1,32}$`)

// timeLayout is WeChat's yyyyMMddHHmmss (Asia/Shanghai).
const timeLayout = "20060102150405"

// unifiedOrder serves /pay/unifiedorder.
func (s *Server) unifiedOrder(req *request) result {
	for _, p := range []string{"body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type"} {
		if req.get(p) == "" {
			return fail("LACK_PARAMS", "缺少参数"+p)
		}
	}
	tradeType := req.get("trade_type")
	switch tradeType {
	case "JSAPI":
		if req.get("openid") == "" {
			return fail("PARAM_ERROR", "JSAPI支付必须传openid")
		}
	case "APP":
	default:
		return fail("NOAUTH", "商户无此接口权限："+tradeType)
	}
	outTradeNo := req.get("out_trade_no")
	if !outTradeNoPattern.MatchString(outTradeNo) {
		return fail("PARAM_ERROR", "out_trade_no参数长度有误或含非法字符")
	}
	total, err := strconv.ParseInt(req.get("total_fee"), 10, 64)
	if err != nil || total <= 0 || strconv.FormatInt(total, 10) != req.get("total_fee") {
		return fail("PARAM_ERROR", "total_fee参数错误：须为大于0的整数(分)")
	}
	if ft := req.get("fee_type"); ft != "" && ft != "CNY" {
		return fail("PARAM_ERROR", "fee_type参数错误")
	}
	if len(req.get("body")) > 128 {
		return fail("PARAM_ERROR", "body参数长度有误")
	}
	if len(req.get("attach")) > 127 {
		return fail("PARAM_ERROR", "attach参数长度有误")
	}
	if u, err := url.Parse(req.get("notify_url")); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fail("PARAM_ERROR", "notify_url参数错误：须为不带参数的http(s)地址")
	}
	var expire time.Time
	if te := req.get("time_expire"); te != "" {
		expire, err = time.ParseInLocation(timeLayout, te, shanghai)
		if err != nil {
			return fail("PARAM_ERROR", "time_expire时间格式错误")
		}
		if expire.Before(req.now.Add(MinExpire)) {
			return fail("PARAM_ERROR", "time_expire时间过短，至少1分钟")
		}
	}
	key := orderKey(req)

	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[outTradeNo]; ok {
		switch {
		case o.paid():
			return fail("ORDERPAID", "该订单已支付")
		case o.State == StateClosed:
			return fail("ORDERCLOSED", "该订单已关闭")
		case o.key != key:
			// What WeChat answers when an out_trade_no comes back with other
			// parameters (e.g. another amount): the documented code is
			// OUT_TRADE_NO_USED, the answer seen in practice this one.
			return fail("INVALID_REQUEST", "201 商户订单号重复")
		}
		if req.now.Sub(o.PrepayAt) >= PrepayTTL {
			o.PrepayID, o.PrepayAt = newPrepayID(req.now), req.now
		}
		return result{fields: Message{{"trade_type", o.TradeType}, {"prepay_id", o.PrepayID}}}
	}
	o := &order{
		AppID: req.appID, TradeType: tradeType, OpenID: req.get("openid"),
		Body: req.get("body"), Detail: req.get("detail"), Attach: req.get("attach"),
		OutTradeNo: outTradeNo, FeeType: "CNY", NotifyURL: req.get("notify_url"),
		SignType: req.signType, ClientIP: req.get("spbill_create_ip"),
		TotalFee: total, Created: req.now, TimeExpire: expire,
		PrepayID: newPrepayID(req.now), PrepayAt: req.now,
		State: StateNotPaid, key: key,
	}
	s.orders[outTradeNo] = o
	s.orderList = append(s.orderList, o)
	s.log.Info("wechatpay order created", "out_trade_no", outTradeNo, "trade_type", tradeType, "total_fee", total)
	return result{fields: Message{{"trade_type", o.TradeType}, {"prepay_id", o.PrepayID}}}
}

// orderKey joins the parameters that make two unifiedorder calls "the
// same order" (the nonce and sign differ on every call).
func orderKey(req *request) string {
	var k string
	for _, p := range []string{"appid", "trade_type", "openid", "body", "detail", "attach", "total_fee", "fee_type", "time_start", "time_expire", "goods_tag", "product_id", "limit_pay", "notify_url"} {
		k += p + "=" + req.get(p) + "\x00"
	}
	return k
}

// newPrepayID: "wx" + time + 20 hex characters (36 in all, like WeChat's).
func newPrepayID(now time.Time) string {
	return "wx" + now.In(shanghai).Format(timeLayout) + fake.RandomString(fake.Hex, 20)
}

// newTransactionID: 28 digits, "4200" + 6 + yyyyMMdd + 10, like WeChat's.
func newTransactionID(now time.Time) string {
	return "4200" + fake.RandomString(fake.Digits, 6) + now.In(shanghai).Format("20060102") + fake.RandomString(fake.Digits, 10)
}

// findOrder looks an order up by transaction_id or out_trade_no for the
// request's app id. An order placed under the other bound app id is not
// found: WeChat scopes queries to the app id that created the order.
// Callers hold s.mu.
func (s *Server) findOrder(req *request) *order {
	var o *order
	if txn := req.get("transaction_id"); txn != "" {
		o = s.byTxn[txn]
	} else {
		o = s.orders[req.get("out_trade_no")]
	}
	if o == nil || o.AppID != req.appID {
		return nil
	}
	return o
}

// orderQuery serves /pay/orderquery.
func (s *Server) orderQuery(req *request) result {
	if req.get("transaction_id") == "" && req.get("out_trade_no") == "" {
		return fail("LACK_PARAMS", "缺少参数out_trade_no或transaction_id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrder(req)
	if o == nil {
		return fail("ORDERNOTEXIST", "订单不存在")
	}
	f := Message{{"device_info", ""}}
	if o.paid() {
		f = append(f, paidFields(o)...)
	} else {
		f = append(f, Field{"out_trade_no", o.OutTradeNo}, Field{"total_fee", strconv.FormatInt(o.TotalFee, 10)}, Field{"attach", o.Attach})
	}
	f = append(f, Field{"trade_state", o.State}, Field{"trade_state_desc", stateDesc(o)})
	return result{fields: f}
}

// paidFields are the trade fields of a paid order, as orderquery and the
// paid notify carry them.
func paidFields(o *order) Message {
	fee := strconv.FormatInt(o.PaidFee, 10)
	return Message{
		{"openid", o.OpenID},
		{"is_subscribe", "N"},
		{"trade_type", o.TradeType},
		{"bank_type", o.BankType},
		{"total_fee", fee},
		{"fee_type", o.FeeType},
		{"cash_fee", fee},
		{"transaction_id", o.TransactionID},
		{"out_trade_no", o.OutTradeNo},
		{"attach", o.Attach},
		{"time_end", o.PaidAt.In(shanghai).Format(timeLayout)},
	}
}

func stateDesc(o *order) string {
	switch o.State {
	case StateSuccess:
		return "支付成功"
	case StateRefunded:
		return "订单发生过退款"
	case StateClosed:
		return "订单已关闭"
	}
	return "订单未支付"
}

// closeOrder serves /pay/closeorder.
func (s *Server) closeOrder(req *request) result {
	if req.get("out_trade_no") == "" {
		return fail("LACK_PARAMS", "缺少参数out_trade_no")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrder(req)
	switch {
	case o == nil:
		return fail("ORDERNOTEXIST", "订单不存在")
	case o.paid():
		return fail("ORDERPAID", "订单已支付，不能发起关单")
	case o.State == StateClosed:
		return fail("ORDERCLOSED", "订单已关闭，无法重复关闭")
	}
	o.State, o.ClosedAt = StateClosed, req.now
	s.log.Info("wechatpay order closed", "out_trade_no", o.OutTradeNo)
	return result{fields: Message{{"result_msg", "OK"}}}
}
