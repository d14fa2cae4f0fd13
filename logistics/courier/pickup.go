package courier

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Party is a sender or receiver of a pickup. Kuaidi100 takes the address
// as one line (sendManPrintAddr), built from the parts here; it carries no
// division code, so none is asked for.
type Party struct {
	Name     string
	Phone    string // 11-digit mainland mobile
	Province string
	City     string
	District string
	Detail   string
}

// printAddr is the one-line address: province, city (once, for a
// municipality whose city repeats the province), district, detail.
func (p Party) printAddr() string {
	city := p.City
	if city == p.Province {
		city = ""
	}
	return p.Province + city + p.District + p.Detail
}

// Window is when the courier may come. Start and End lie on the same day
// (China time): today, tomorrow or the day after, as Kuaidi100 books
// pickups; minutes only.
type Window struct {
	Start, End time.Time
}

// PickupRequest books a courier to collect a parcel (上门取件).
type PickupRequest struct {
	Carrier  string // Kuaidi100 company code, e.g. "ems", "shunfeng"
	Sender   Party
	Receiver Party
	Cargo    string // what is sent, e.g. "申请材料"
	// WeightGrams is the estimated weight; 0 leaves it to the courier.
	WeightGrams int
	Remark      string
	// Window is when to come; zero lets the carrier choose (顺丰 requires one).
	Window Window
	// CallbackURL receives the waybill's tracking pushes (the pickup
	// subscribes at once, Kuaidi100's op=1), signed with Salt.
	CallbackURL string
	Salt        string
	// OrderCallbackURL receives Kuaidi100's order-status callbacks
	// (callBackUrl, required by Kuaidi100); default CallbackURL, where
	// ParsePush answers them with ErrNotTrackingPush.
	OrderCallbackURL string
	// IdempotencyKey is zwfw's own reference of the pickup, sent as
	// thirdOrderId: the same key within 48 hours answers the first order
	// instead of booking a second courier. Keys over 32 characters are
	// sent as their MD5 (32 hex characters). Required.
	IdempotencyKey string
}

// Pickup is a booked pickup.
type Pickup struct {
	Carrier string
	// WaybillNumber is the carrier's number; some carriers assign it only
	// at collection, and then it is "" here and comes with the first push.
	WaybillNumber string
	// OrderID is the aggregator's reference of the order, opaque to zwfw:
	// Kuaidi100 needs its taskId and orderId to cancel, kept together as
	// "<taskId>:<orderId>". Store it whole; CancelPickup takes it.
	OrderID string
}

// CreatePickup books a pickup. Returns ErrInvalidRequest (checked here or
// refused by the aggregator), ErrAuthFailed, ErrUnavailable, ErrTimeout,
// ErrBadResponse or ErrRejected. A retry with the same IdempotencyKey is
// safe: it returns the first booking.
func (c *Client) CreatePickup(ctx context.Context, req PickupRequest) (Pickup, error) {
	p, err := c.orderParam(req)
	if err != nil {
		return Pickup{}, err
	}
	env, err := c.order(ctx, "bOrder", p)
	if err != nil {
		return Pickup{}, err
	}
	if e := orderError(env); e != nil {
		return Pickup{}, e
	}
	var d struct {
		TaskID    string     `json:"taskId"`
		OrderID   flexString `json:"orderId"`
		Kuaidinum string     `json:"kuaidinum"`
		Kuaidicom string     `json:"kuaidicom"`
	}
	if err := json.Unmarshal(env.Data, &d); err != nil || d.TaskID == "" || d.OrderID == "" {
		return Pickup{}, ErrBadResponse.WithCause(fmt.Errorf("kuaidi100 bOrder data: %.200s", env.Data))
	}
	carrier := d.Kuaidicom
	if carrier == "" {
		carrier = req.Carrier // Kuaidi100's answer does not repeat the carrier
	}
	return Pickup{Carrier: carrier, WaybillNumber: d.Kuaidinum, OrderID: d.TaskID + ":" + string(d.OrderID)}, nil
}

// CancelPickup cancels a pickup the courier has not collected yet.
// carrier is not sent (Kuaidi100 cancels by its own reference) but kept so
// that other aggregators fit the same call. A pickup cancelled before
// counts as success. Returns ErrAlreadyPickedUp, ErrOrderNotFound,
// ErrInvalidRequest, ErrAuthFailed, ErrUnavailable, ErrTimeout,
// ErrBadResponse or ErrRejected.
func (c *Client) CancelPickup(ctx context.Context, carrier, orderID, reason string) error {
	taskID, kdOrderID, ok := strings.Cut(orderID, ":")
	if !ok || taskID == "" || kdOrderID == "" {
		return ErrInvalidRequest.WithCause(fmt.Errorf("courier: order id %q is not <taskId>:<orderId>", orderID))
	}
	if strings.TrimSpace(reason) == "" {
		reason = "用户取消寄件"
	}
	param, err := json.Marshal(map[string]string{"taskId": taskID, "orderId": kdOrderID, "cancelMsg": reason})
	if err != nil {
		return err
	}
	env, err := c.order(ctx, "cancel", string(param))
	if err != nil {
		return err
	}
	if env.ReturnCode == "30004" {
		return nil // already cancelled: a retried cancel
	}
	return orderError(env)
}

// order POSTs a signed borderapi.do request.
func (c *Client) order(ctx context.Context, method, param string) (envelope, error) {
	t := strconv.FormatInt(c.now().UnixMilli(), 10)
	form := url.Values{
		"method": {method},
		"key":    {c.key},
		"t":      {t},
		"param":  {param},
		"sign":   {md5Upper(param, t, c.key, c.secret)},
	}
	body, err := c.post(ctx, "/order/borderapi.do", form)
	if err != nil {
		return envelope{}, err
	}
	return decodeEnvelope(body)
}

// orderError maps a borderapi.do answer; nil on success.
func orderError(env envelope) error {
	switch {
	case env.ReturnCode == "200" && *env.Result:
		return nil
	case env.ReturnCode == "30003":
		return refused(ErrAlreadyPickedUp, env)
	case env.ReturnCode == "30002":
		return refused(ErrOrderNotFound, env)
	case env.ReturnCode == "500":
		return refused(ErrUnavailable, env)
	case commonError(env) != nil:
		return commonError(env)
	}
	return refused(ErrRejected, env)
}

// orderParam checks req and renders Kuaidi100's bOrder param.
func (c *Client) orderParam(req PickupRequest) (string, error) {
	invalid := func(format string, a ...any) error {
		return ErrInvalidRequest.WithCause(fmt.Errorf("courier: "+format, a...))
	}
	switch {
	case req.Carrier == "":
		return "", invalid("carrier is required")
	case req.IdempotencyKey == "":
		return "", invalid("idempotency key is required")
	case req.CallbackURL == "" || req.Salt == "":
		return "", invalid("callback URL and salt are required")
	case strings.TrimSpace(req.Cargo) == "":
		return "", invalid("cargo is required")
	case req.WeightGrams < 0:
		return "", invalid("weight must not be negative")
	}
	third := req.IdempotencyKey
	if len(third) > 32 || !utf8.ValidString(third) {
		sum := md5.Sum([]byte(third))
		third = hex.EncodeToString(sum[:])
	}
	orderCallback := req.OrderCallbackURL
	if orderCallback == "" {
		orderCallback = req.CallbackURL
	}
	p := map[string]string{
		"kuaidicom":        req.Carrier,
		"sendManName":      req.Sender.Name,
		"sendManMobile":    req.Sender.Phone,
		"sendManPrintAddr": req.Sender.printAddr(),
		"recManName":       req.Receiver.Name,
		"recManMobile":     req.Receiver.Phone,
		"recManPrintAddr":  req.Receiver.printAddr(),
		"cargo":            req.Cargo,
		"callBackUrl":      orderCallback,
		"salt":             req.Salt,
		"op":               "1",
		"pollCallBackUrl":  req.CallbackURL,
		"resultv2":         resultv2,
		"thirdOrderId":     third,
	}
	if req.WeightGrams > 0 {
		p["weight"] = kilograms(req.WeightGrams)
	}
	if req.Remark != "" {
		p["remark"] = req.Remark
	}
	if !req.Window.Start.IsZero() || !req.Window.End.IsZero() {
		day, start, end, err := c.pickupDay(req.Window)
		if err != nil {
			return "", err
		}
		p["dayType"], p["pickupStartTime"], p["pickupEndTime"] = day, start, end
	}
	b, err := json.Marshal(p)
	return string(b), err
}

// kilograms writes grams as Kuaidi100's weight in kg: 1500 → "1.5".
func kilograms(g int) string {
	s := strconv.Itoa(g/1000) + "." + fmt.Sprintf("%03d", g%1000)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// dayTypes name the pickup days Kuaidi100 books, by days from today.
var dayTypes = []string{"今天", "明天", "后天"}

// pickupDay turns a window into dayType and HH:mm times (China time).
func (c *Client) pickupDay(w Window) (day, start, end string, err error) {
	s, e := w.Start.In(chinaTime), w.End.In(chinaTime)
	y, m, d := c.now().In(chinaTime).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
	sy, sm, sd := s.Date()
	ey, em, ed := e.Date()
	offset := int(time.Date(sy, sm, sd, 0, 0, 0, 0, chinaTime).Sub(today).Hours() / 24)
	switch {
	case w.Start.IsZero() || w.End.IsZero():
		err = ErrInvalidRequest.WithMessage("请同时填写预约取件的开始和结束时间")
	case sy != ey || sm != em || sd != ed:
		err = ErrInvalidRequest.WithMessage("预约取件时段须在同一天内")
	case !e.After(s) || e.Format("15:04") <= s.Format("15:04"):
		err = ErrInvalidRequest.WithMessage("预约取件结束时间须晚于开始时间")
	case offset < 0 || offset >= len(dayTypes):
		err = ErrInvalidRequest.WithMessage("预约取件日期只能是今天、明天或后天")
	default:
		return dayTypes[offset], s.Format("15:04"), e.Format("15:04"), nil
	}
	return "", "", "", err
}
