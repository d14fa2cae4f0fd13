package courier

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"zwfw/sandbox/fake"
)

// bOrderParam is the param of method=bOrder (商家寄件, 官方快递), with
// Kuaidi100's field names; every value is a string, as Kuaidi100's SDKs send it.
type bOrderParam struct {
	Kuaidicom        string `json:"kuaidicom"`
	RecManName       string `json:"recManName"`
	RecManMobile     string `json:"recManMobile"`
	RecManPrintAddr  string `json:"recManPrintAddr"`
	SendManName      string `json:"sendManName"`
	SendManMobile    string `json:"sendManMobile"`
	SendManPrintAddr string `json:"sendManPrintAddr"`
	Cargo            string `json:"cargo"`
	Weight           string `json:"weight"` // kg, e.g. "1.5"
	Remark           string `json:"remark"`
	Salt             string `json:"salt"`
	CallBackURL      string `json:"callBackUrl"`
	ServiceType      string `json:"serviceType"`
	DayType          string `json:"dayType"`         // 今天, 明天, 后天
	PickupStartTime  string `json:"pickupStartTime"` // HH:mm
	PickupEndTime    string `json:"pickupEndTime"`   // HH:mm
	ValinsPay        string `json:"valinsPay"`
	Op               string `json:"op"` // "1": subscribe tracking to pollCallBackUrl
	PollCallBackURL  string `json:"pollCallBackUrl"`
	Resultv2         string `json:"resultv2"`
	ThirdOrderID     string `json:"thirdOrderId"`
	Payment          string `json:"payment"`
}

// cancelParam is the param of method=cancel.
type cancelParam struct {
	TaskID    string `json:"taskId"`
	OrderID   string `json:"orderId"`
	CancelMsg string `json:"cancelMsg"`
}

// orderData is bOrder's answer data. kuaidicom is the sandbox's addition
// (Kuaidi100 answers taskId, orderId, kuaidinum): a client must fall back
// on the carrier it asked for.
type orderData struct {
	TaskID    string `json:"taskId"`
	OrderID   string `json:"orderId"`
	Kuaidinum string `json:"kuaidinum"`
	Kuaidicom string `json:"kuaidicom"`
}

// order is one pickup order.
type order struct {
	data        orderData
	third       string
	param       bOrderParam
	createdAt   time.Time
	pickupFrom  time.Time // zero when no window was asked for
	pickupTo    time.Time
	cancelled   bool
	cancelMsg   string
	cancelledAt time.Time
}

// Order is a pickup order as the controls show it.
type Order struct {
	TaskID       string     `json:"taskId"`
	OrderID      string     `json:"orderId"`
	ThirdOrderID string     `json:"thirdOrderId,omitempty"`
	Kuaidicom    string     `json:"kuaidicom"`
	Kuaidinum    string     `json:"kuaidinum"`
	Sender       Person     `json:"sender"`
	Receiver     Person     `json:"receiver"`
	Cargo        string     `json:"cargo"`
	Weight       string     `json:"weight,omitempty"`
	Remark       string     `json:"remark,omitempty"`
	CallbackURL  string     `json:"callBackUrl"`
	PollCallback string     `json:"pollCallBackUrl,omitempty"`
	PickupStart  *time.Time `json:"pickup_start,omitempty"`
	PickupEnd    *time.Time `json:"pickup_end,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	Status       string     `json:"status"` // created, picked_up, cancelled
	CancelMsg    string     `json:"cancel_msg,omitempty"`
	Parcel       Parcel     `json:"parcel"`
}

// Person is a sender or receiver of an order.
type Person struct {
	Name    string `json:"name"`
	Mobile  string `json:"mobile"`
	Address string `json:"address"`
}

// Orders lists the pickup orders, oldest first.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.orderSeq))
	for _, id := range s.orderSeq {
		o := s.orders[id]
		v := Order{
			TaskID: o.data.TaskID, OrderID: o.data.OrderID, ThirdOrderID: o.third,
			Kuaidicom: o.data.Kuaidicom, Kuaidinum: o.data.Kuaidinum,
			Sender:   Person{o.param.SendManName, o.param.SendManMobile, o.param.SendManPrintAddr},
			Receiver: Person{o.param.RecManName, o.param.RecManMobile, o.param.RecManPrintAddr},
			Cargo:    o.param.Cargo, Weight: o.param.Weight, Remark: o.param.Remark,
			CallbackURL: o.param.CallBackURL, PollCallback: o.param.PollCallBackURL,
			CreatedAt: o.createdAt.In(chinaTime), Status: "created", CancelMsg: o.cancelMsg,
		}
		if !o.pickupFrom.IsZero() {
			a, b := o.pickupFrom.In(chinaTime), o.pickupTo.In(chinaTime)
			v.PickupStart, v.PickupEnd = &a, &b
		}
		p := s.parcels[o.data.Kuaidinum]
		switch {
		case o.cancelled:
			v.Status = "cancelled"
		case len(p.events) > 0:
			v.Status = "picked_up"
		}
		v.Parcel = p.view()
		out = append(out, v)
	}
	return out
}

// borderAPI serves POST /courier/order/borderapi.do (method=bOrder, cancel).
func (s *Server) borderAPI(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, fake.MaxBody)
	if err := r.ParseForm(); err != nil {
		writeFail(w, fail(CodeBadParam, "请求格式错误，应为 application/x-www-form-urlencoded"))
		return
	}
	f := r.Form // a servlet's getParameter: body and query alike
	method, key, t, sign, param := f.Get("method"), f.Get("key"), f.Get("t"), f.Get("sign"), f.Get("param")
	if method == "" || key == "" || t == "" || sign == "" || param == "" {
		writeFail(w, fail(CodeBadParam, "参数不完整：method、key、t、sign、param 均为必填"))
		return
	}
	if key != s.key {
		writeFail(w, fail(CodeBadKey, "授权key错误"))
		return
	}
	if !signOK(sign, OrderSign(param, t, key, s.secret)) {
		s.log.Warn("courier order refused: bad signature", "method", method)
		writeFail(w, fail(CodeBadSign, "验证签名失败"))
		return
	}
	now := s.now()
	ms, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		writeFail(w, fail(CodeTimestamp, "t 应为毫秒时间戳"))
		return
	}
	if d := now.Sub(time.UnixMilli(ms)); d > MaxSkew || d < -MaxSkew {
		writeFail(w, fail(CodeTimestamp, "t 与服务器时间相差过大"))
		return
	}
	switch method {
	case "bOrder":
		data, e := s.placeOrder(param, now)
		if e != nil {
			writeFail(w, e)
			return
		}
		writeOK(w, "提交成功", data)
	case "cancel":
		if e := s.cancelOrder(param, now); e != nil {
			writeFail(w, e)
			return
		}
		writeOK(w, "取消成功", nil)
	default:
		writeFail(w, fail(CodeUnknownMethod, "不支持的 method: "+method))
	}
}

var (
	mobilePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	hhmmPattern   = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	weightPattern = regexp.MustCompile(`^[0-9]{1,4}(\.[0-9]{1,3})?$`)
)

// dayOffsets are the pickup days Kuaidi100 takes in dayType.
var dayOffsets = map[string]int{"今天": 0, "明天": 1, "后天": 2}

// placeOrder checks a bOrder param and books the pickup, or answers the
// first order again for a known thirdOrderId.
func (s *Server) placeOrder(raw string, now time.Time) (orderData, *apiError) {
	var p bOrderParam
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return orderData{}, fail(CodeBadParam, "param 不是合法的 JSON（字段值均应为字符串）")
	}
	c, ok := lookupCarrier(p.Kuaidicom)
	if !ok {
		return orderData{}, fail(CodeBadParam, "不支持的快递公司编码: "+p.Kuaidicom)
	}
	if e := checkOrder(p, c); e != nil {
		return orderData{}, e
	}
	var from, to time.Time
	if p.DayType != "" {
		day := now.In(chinaTime).AddDate(0, 0, dayOffsets[p.DayType])
		from, to = atClock(day, p.PickupStartTime), atClock(day, p.PickupEndTime)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ThirdOrderID != "" {
		if o, ok := s.third[p.ThirdOrderID]; ok && now.Sub(o.createdAt) < IdempotencyWindow {
			s.log.Info("courier order repeated", "thirdOrderId", p.ThirdOrderID, "orderId", o.data.OrderID)
			return o.data, nil
		}
	}
	orderID := ""
	for orderID == "" || s.orders[orderID] != nil {
		orderID = strconv.Itoa(10_000_000 + s.rng.IntN(90_000_000))
	}
	pc := s.newParcelLocked(c, "", parsePlace(p.SendManPrintAddr), parsePlace(p.RecManPrintAddr), p.SendManMobile, p.RecManMobile, orderID, now)
	o := &order{
		data:  orderData{TaskID: upperHex(32), OrderID: orderID, Kuaidinum: pc.num, Kuaidicom: c.code},
		third: p.ThirdOrderID, param: p, createdAt: now, pickupFrom: from, pickupTo: to,
	}
	s.orders[orderID] = o
	s.orderSeq = append(s.orderSeq, orderID)
	if p.ThirdOrderID != "" {
		s.third[p.ThirdOrderID] = o
	}
	if p.Op == "1" {
		s.subs[subKey{c.code, pc.num}] = &subscription{
			com: c.code, num: pc.num, callbackURL: p.PollCallBackURL, salt: p.Salt,
			phone: p.RecManMobile, resultv2: p.Resultv2, active: true,
		}
	}
	s.log.Info("courier pickup booked", "orderId", orderID, "kuaidicom", c.code, "kuaidinum", pc.num)
	return o.data, nil
}

// checkOrder validates a bOrder param as Kuaidi100 documents its fields.
func checkOrder(p bOrderParam, c carrier) *apiError {
	bad := func(msg string) *apiError { return fail(CodeBadParam, msg) }
	switch {
	case strings.TrimSpace(p.SendManName) == "" || strings.TrimSpace(p.RecManName) == "":
		return bad("寄件人姓名和收件人姓名必填")
	case !mobilePattern.MatchString(p.SendManMobile):
		return bad("寄件人手机号格式不正确")
	case !mobilePattern.MatchString(p.RecManMobile):
		return bad("收件人手机号格式不正确")
	case strings.TrimSpace(p.SendManPrintAddr) == "" || strings.TrimSpace(p.RecManPrintAddr) == "":
		return bad("寄件人地址和收件人地址必填")
	case utf8.RuneCountInString(p.SendManPrintAddr) > 200 || utf8.RuneCountInString(p.RecManPrintAddr) > 200:
		return bad("地址过长")
	case strings.TrimSpace(p.Cargo) == "":
		return bad("物品名称 cargo 必填")
	case p.Weight != "" && !weightPattern.MatchString(p.Weight):
		return bad("重量 weight 应为以千克计的数字，如 1.5")
	case !httpURL(p.CallBackURL):
		return bad("callBackUrl 必须是 http(s) 地址")
	case p.Op == "1" && !httpURL(p.PollCallBackURL):
		return bad("op=1 时 pollCallBackUrl 必填，且必须是 http(s) 地址")
	case p.Op != "" && p.Op != "0" && p.Op != "1":
		return bad("op 只能是 0 或 1")
	case utf8.RuneCountInString(p.ThirdOrderID) > 32:
		return bad("thirdOrderId 最长32位")
	case p.Resultv2 != "" && p.Resultv2 != "0" && p.Resultv2 != "1" && p.Resultv2 != "4":
		return bad("resultv2 只能是 0、1 或 4")
	}
	if _, ok := dayOffsets[p.DayType]; p.DayType != "" && !ok {
		return bad("dayType 只能是 今天、明天 或 后天")
	}
	hasTimes := p.PickupStartTime != "" || p.PickupEndTime != ""
	switch {
	case c.needPhone && (p.DayType == "" || !hasTimes):
		return bad(c.name + "下单须填写预约日期 dayType 和取件时间 pickupStartTime、pickupEndTime")
	case hasTimes && p.DayType == "":
		return bad("填写取件时间时 dayType 必填")
	case hasTimes && (!hhmmPattern.MatchString(p.PickupStartTime) || !hhmmPattern.MatchString(p.PickupEndTime)):
		return bad("pickupStartTime、pickupEndTime 格式应为 HH:mm")
	case hasTimes && p.PickupStartTime >= p.PickupEndTime:
		return bad("pickupStartTime 应早于 pickupEndTime")
	}
	return nil
}

// atClock is day's date at "HH:mm" (China time); day's midnight when hhmm is empty.
func atClock(day time.Time, hhmm string) time.Time {
	var h, m int
	if hhmm != "" {
		_, _ = fmt.Sscanf(hhmm, "%d:%d", &h, &m)
	}
	y, mo, d := day.Date()
	return time.Date(y, mo, d, h, m, 0, 0, chinaTime)
}

// httpURL reports whether u is an absolute http(s) URL.
func httpURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// cancelOrder cancels a pickup that has not been collected.
func (s *Server) cancelOrder(raw string, now time.Time) *apiError {
	var p cancelParam
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return fail(CodeBadParam, "param 不是合法的 JSON")
	}
	if p.TaskID == "" || p.OrderID == "" || strings.TrimSpace(p.CancelMsg) == "" {
		return fail(CodeBadParam, "taskId、orderId、cancelMsg 均为必填")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[p.OrderID]
	if !ok || o.data.TaskID != p.TaskID {
		return fail(CodeOrderNotFound, "订单不存在")
	}
	if o.cancelled {
		return fail(CodeAlreadyCancelled, "订单已取消")
	}
	pc := s.parcels[o.data.Kuaidinum]
	if len(pc.events) > 0 {
		return fail(CodeAlreadyPickedUp, "快递员已揽收，订单无法取消")
	}
	o.cancelled, o.cancelMsg, o.cancelledAt = true, p.CancelMsg, now
	pc.cancelled = true
	if sub := s.subs[subKey{pc.com, pc.num}]; sub != nil {
		sub.active = false
	}
	s.log.Info("courier pickup cancelled", "orderId", p.OrderID)
	return nil
}
