package alipay

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"zwfw/sandbox/fake"
)

// Trade states (trade_status).
const (
	StatusWaitBuyerPay = "WAIT_BUYER_PAY"
	StatusSuccess      = "TRADE_SUCCESS"
	StatusClosed       = "TRADE_CLOSED"
	StatusFinished     = "TRADE_FINISHED"
)

// trade is one trade as the gateway keeps it. Amounts are integer fen.
type trade struct {
	outTradeNo, tradeNo  string
	method, productCode  string
	subject, body        string
	ordered              int64 // total_amount of the order
	total                int64 // total_amount the trade reports (ordered, unless Pay overrode it)
	notifyURL, returnURL string
	passback             string
	expire               time.Time // zero: none
	status               string
	created, paid        time.Time
	closed               time.Time
	buyerID, buyerLogon  string
	refunds              []*refund
	refunded             int64
	surplus              bool // paid after the merchant closed it
}

// refund is one refund of a trade, keyed by out_request_no.
type refund struct {
	outRequestNo string
	amount       int64
	reason       string
	at           time.Time
}

// Trade is a trade as the sandbox shows it (GET /sandbox/alipay/trades).
type Trade struct {
	OutTradeNo     string     `json:"out_trade_no"`
	TradeNo        string     `json:"trade_no"`
	Method         string     `json:"method"` // alipay.trade.app.pay or alipay.trade.wap.pay
	ProductCode    string     `json:"product_code"`
	Subject        string     `json:"subject"`
	TotalAmount    string     `json:"total_amount"`             // yuan, what Alipay reports
	OrderedAmount  string     `json:"ordered_amount,omitempty"` // set when Pay overrode the amount
	Status         string     `json:"trade_status"`
	NotifyURL      string     `json:"notify_url,omitempty"`
	ReturnURL      string     `json:"return_url,omitempty"`
	PassbackParams string     `json:"passback_params,omitempty"`
	TimeExpire     *time.Time `json:"time_expire,omitempty"`
	CreatedAt      time.Time  `json:"gmt_create"`
	PaidAt         *time.Time `json:"gmt_payment,omitempty"`
	ClosedAt       *time.Time `json:"gmt_close,omitempty"`
	BuyerID        string     `json:"buyer_id,omitempty"`
	BuyerLogonID   string     `json:"buyer_logon_id,omitempty"`
	RefundedAmount string     `json:"refund_fee"`
	Refunds        []Refund   `json:"refunds"`
	Surplus        bool       `json:"surplus,omitempty"` // paid after the merchant closed it (长款)
}

// Refund is one refund of a trade.
type Refund struct {
	OutRequestNo string    `json:"out_request_no"`
	RefundAmount string    `json:"refund_amount"`
	Reason       string    `json:"refund_reason,omitempty"`
	At           time.Time `json:"gmt_refund_pay"`
}

// view is the trade's snapshot; the caller holds s.mu.
func (t *trade) view() Trade {
	v := Trade{
		OutTradeNo: t.outTradeNo, TradeNo: t.tradeNo, Method: t.method, ProductCode: t.productCode,
		Subject: t.subject, TotalAmount: yuan(t.total), Status: t.status,
		NotifyURL: t.notifyURL, ReturnURL: t.returnURL, PassbackParams: t.passback,
		CreatedAt: t.created, BuyerID: t.buyerID, BuyerLogonID: t.buyerLogon,
		RefundedAmount: yuan(t.refunded), Refunds: []Refund{}, Surplus: t.surplus,
	}
	if t.ordered != t.total {
		v.OrderedAmount = yuan(t.ordered)
	}
	if !t.expire.IsZero() {
		e := t.expire
		v.TimeExpire = &e
	}
	if !t.paid.IsZero() {
		p := t.paid
		v.PaidAt = &p
	}
	if !t.closed.IsZero() {
		c := t.closed
		v.ClosedAt = &c
	}
	for _, r := range t.refunds {
		v.Refunds = append(v.Refunds, Refund{OutRequestNo: r.outRequestNo, RefundAmount: yuan(r.amount), Reason: r.reason, At: r.at})
	}
	return v
}

// expireIfDue closes an unpaid trade whose time_expire has passed, as
// Alipay does on its own; the caller holds s.mu.
func (t *trade) expireIfDue(now time.Time) {
	if t.status == StatusWaitBuyerPay && !t.expire.IsZero() && now.After(t.expire) {
		t.status, t.closed = StatusClosed, t.expire
	}
}

// refundByNo finds a refund by out_request_no; the caller holds s.mu.
func (t *trade) refundByNo(no string) *refund {
	for _, r := range t.refunds {
		if r.outRequestNo == no {
			return r
		}
	}
	return nil
}

// lookup finds a trade by out_trade_no or trade_no (trade_no wins when both
// are given, as on Alipay) and expires it if due; the caller holds s.mu.
func (s *Server) lookup(outTradeNo, tradeNo string, now time.Time) *trade {
	var t *trade
	if tradeNo != "" {
		t = s.byNo[tradeNo]
		if t != nil && outTradeNo != "" && t.outTradeNo != outTradeNo {
			t = nil
		}
	} else {
		t = s.trades[outTradeNo]
	}
	if t != nil {
		t.expireIfDue(now)
	}
	return t
}

// newTradeNo is a 28-digit Alipay trade number: date, channel marker, random
// digits; unique among the fake's trades. The caller holds s.mu.
func (s *Server) newTradeNo(now time.Time) string {
	for {
		no := now.In(chinaTime).Format("20060102") + "22001" + fake.RandomString(fake.Digits, 15)
		if s.byNo[no] == nil {
			return no
		}
	}
}

// Trades lists the trades, oldest first; outTradeNo filters when not empty.
func (s *Server) Trades(outTradeNo string) []Trade {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := []Trade{}
	for _, t := range s.order {
		if outTradeNo != "" && t.outTradeNo != outTradeNo {
			continue
		}
		t.expireIfDue(now)
		out = append(out, t.view())
	}
	return out
}

// TradeByNo returns one trade by out_trade_no.
func (s *Server) TradeByNo(outTradeNo string) (Trade, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.lookup(outTradeNo, "", s.now())
	if t == nil {
		return Trade{}, false
	}
	return t.view(), true
}

// yuan formats fen as Alipay writes amounts ("12.30").
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// maxAmount is Alipay's largest total_amount: 100,000,000 yuan.
const maxAmount = 100_000_000 * 100

var errAmount = errors.New("amount must be yuan with at most two decimals, within [0.01, 100000000]")

// parseYuan reads an Alipay amount ("12", "12.3", "12.30") into fen,
// exactly; signs, exponents, spaces and more than two decimals are errors.
func parseYuan(s string) (int64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 9 || (dot && (frac == "" || len(frac) > 2)) {
		return 0, errAmount
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, errAmount
		}
	}
	y, _ := strconv.ParseInt(whole, 10, 64)
	frac += strings.Repeat("0", 2-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	fen := y*100 + f
	if fen <= 0 || fen > maxAmount {
		return 0, errAmount
	}
	return fen, nil
}

// eventsOn lists the payments and refunds whose time falls in [from, to),
// ordered by time; the caller holds s.mu.
func (s *Server) eventsOn(from, to time.Time) []billEvent {
	var out []billEvent
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(from) && t.Before(to) }
	for _, t := range s.order {
		if in(t.paid) {
			out = append(out, billEvent{t: t, at: t.paid})
		}
		for _, r := range t.refunds {
			if in(r.at) {
				out = append(out, billEvent{t: t, r: r, at: r.at})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// billEvent is one bill line: a payment (r nil) or a refund.
type billEvent struct {
	t  *trade
	r  *refund
	at time.Time
}
