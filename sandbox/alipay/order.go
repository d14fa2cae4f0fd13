package alipay

import (
	"net/url"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// orderBiz is the biz_content of alipay.trade.app.pay and
// alipay.trade.wap.pay, the fields the fake acts on.
type orderBiz struct {
	OutTradeNo     string `json:"out_trade_no"`
	TotalAmount    string `json:"total_amount"`
	Subject        string `json:"subject"`
	ProductCode    string `json:"product_code"`
	Body           string `json:"body"`
	TimeExpire     string `json:"time_expire"`
	TimeoutExpress string `json:"timeout_express"`
	PassbackParams string `json:"passback_params"`
}

var outTradeNoPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// Open is the payer's Alipay app receiving an order string (what
// TradeAppPay returns): it verifies the order string as the gateway does
// and creates the trade (WAIT_BUYER_PAY) unless it exists; opening the same
// order again is harmless. It returns the out_trade_no. Errors are *Error
// with Alipay's codes: isv.* for a bad signature or parameters,
// ACQ.CONTEXT_INCONSISTENT when the out_trade_no was opened with another
// amount or subject, ACQ.TRADE_HAS_SUCCESS / ACQ.TRADE_HAS_CLOSE when the
// trade is already paid or closed (those two come with the out_trade_no).
func (s *Server) Open(orderString string) (string, error) {
	values, err := url.ParseQuery(orderString)
	if err != nil {
		return "", invalidArg(SubInvalidParam, "订单串无法解析：%v", err)
	}
	return s.open(values, methodAppPay)
}

// OpenWap is a browser opening the WAP cashier URL (what TradeWapPay
// returns); otherwise as Open.
func (s *Server) OpenWap(u *url.URL) (string, error) {
	return s.open(u.Query(), methodWapPay)
}

// open checks a client-side pay request and records its trade.
func (s *Server) open(values url.Values, want string) (string, error) {
	now := s.now()
	method, e := s.checkRequest(values, now)
	if e != nil {
		return "", e
	}
	if method != want {
		return "", invalidArg(SubInvalidMethod, "这里需要 %s，收到 %s", want, method)
	}
	c := &call{method: method, values: values, now: now}
	var o orderBiz
	if e := c.decodeBiz(&o); e != nil {
		return "", e
	}
	t, e := s.newTrade(method, values, o, now)
	if e != nil {
		return "", e
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.lookup(o.OutTradeNo, "", now); old != nil {
		switch {
		case old.ordered != t.ordered || old.subject != t.subject:
			return "", bizError(SubContextInconsistent, "交易信息被篡改：同一商户订单号的金额或标题与首次下单不一致")
		case old.status == StatusSuccess || old.status == StatusFinished:
			return old.outTradeNo, bizError(SubTradeHasSuccess, "交易已被支付")
		case old.status == StatusClosed:
			return old.outTradeNo, bizError(SubTradeHasClose, "交易已经关闭")
		}
		return old.outTradeNo, nil
	}
	t.tradeNo = s.newTradeNo(now)
	s.trades[t.outTradeNo], s.byNo[t.tradeNo] = t, t
	s.order = append(s.order, t)
	t.expireIfDue(now) // an order opened after its time_expire is closed at once
	if t.status == StatusClosed {
		return t.outTradeNo, bizError(SubTradeHasClose, "交易已经关闭：订单已超过 time_expire")
	}
	s.log.Info("alipay trade opened", "out_trade_no", t.outTradeNo, "trade_no", t.tradeNo, "amount", yuan(t.total))
	return t.outTradeNo, nil
}

// newTrade validates an order's parameters into an unsaved trade.
func (s *Server) newTrade(method string, values url.Values, o orderBiz, now time.Time) (*trade, *Error) {
	if !outTradeNoPattern.MatchString(o.OutTradeNo) {
		return nil, bizError(SubInvalidParameter, "参数无效：out_trade_no 须为 1-64 位字母、数字或下划线")
	}
	fen, err := parseYuan(o.TotalAmount)
	if err != nil {
		return nil, bizError(SubInvalidParameter, "参数无效：total_amount "+strconv.Quote(o.TotalAmount)+" 须为 0.01-100000000 元，最多两位小数")
	}
	if o.Subject == "" || utf8.RuneCountInString(o.Subject) > 256 {
		return nil, bizError(SubInvalidParameter, "参数无效：subject 不能为空且不超过 256 个字符")
	}
	switch {
	case method == methodAppPay && o.ProductCode != "" && o.ProductCode != "QUICK_MSECURITY_PAY":
		return nil, bizError(SubInvalidParameter, "参数无效：App 支付的 product_code 应为 QUICK_MSECURITY_PAY")
	case method == methodWapPay && o.ProductCode != "QUICK_WAP_WAY" && o.ProductCode != "QUICK_WAP_PAY":
		return nil, bizError(SubInvalidParameter, "参数无效：手机网站支付的 product_code 应为 QUICK_WAP_WAY")
	}
	for _, name := range []string{"notify_url", "return_url"} {
		if v := values.Get(name); v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, invalidArg(SubInvalidParam, "%s 须为 http(s) 绝对地址", name)
			}
		}
	}
	t := &trade{
		outTradeNo: o.OutTradeNo, method: method, productCode: o.ProductCode,
		subject: o.Subject, body: o.Body, ordered: fen, total: fen,
		notifyURL: values.Get("notify_url"), returnURL: values.Get("return_url"),
		passback: o.PassbackParams, status: StatusWaitBuyerPay, created: now,
	}
	if t.productCode == "" {
		t.productCode = "QUICK_MSECURITY_PAY"
	}
	if o.TimeExpire != "" {
		exp, err := time.ParseInLocation(timeLayout, o.TimeExpire, chinaTime)
		if err != nil {
			// Older documents give the WAP time_expire to the minute.
			if exp, err = time.ParseInLocation("2006-01-02 15:04", o.TimeExpire, chinaTime); err != nil {
				return nil, bizError(SubInvalidParameter, "参数无效：time_expire 格式应为 yyyy-MM-dd HH:mm:ss")
			}
		}
		t.expire = exp
	} else if o.TimeoutExpress != "" {
		exp, ok := timeoutExpress(o.TimeoutExpress, now)
		if !ok {
			return nil, bizError(SubInvalidParameter, "参数无效：timeout_express 取值 1m～15d 或 1c")
		}
		t.expire = exp
	}
	return t, nil
}

// timeoutExpress reads Alipay's relative timeouts: 1m-15d in minutes (m),
// hours (h) or days (d), or 1c (the end of today).
func timeoutExpress(v string, now time.Time) (time.Time, bool) {
	if v == "1c" {
		y, m, d := now.In(chinaTime).Date()
		return time.Date(y, m, d+1, 0, 0, 0, 0, chinaTime), true
	}
	if len(v) < 2 {
		return time.Time{}, false
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[v[len(v)-1]]
	if unit == 0 || time.Duration(n)*unit > 15*24*time.Hour {
		return time.Time{}, false
	}
	return now.Add(time.Duration(n) * unit), true
}
