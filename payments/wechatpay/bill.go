package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"zwfw/payments"
)

// Bill implements payments.Gateway with /pay/downloadbill (bill_type ALL,
// signed with util.ParamSign, sent by util.HTTPPostContext) and parses
// WeChat's text bill: a header row, one backtick-prefixed line per payment
// (交易状态 SUCCESS) or refund (REFUND), and a summary whose count and
// totals are checked against the lines.
//
// WeChat answers "No Bill Exist" both before it has produced a day's bill
// and for a day without trades. Until Config.BillReadyAfter past the day's
// end (Asia/Shanghai) that is payments.ErrBillNotReady; afterwards it is
// an empty bill. A day that has not ended is ErrBillNotReady without
// asking. Other failures are errors (temporary).
func (c *Client) Bill(ctx context.Context, day time.Time) ([]payments.BillLine, error) {
	y, m, d := day.In(shanghai).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, shanghai)
	end := start.AddDate(0, 0, 1)
	now := c.cfg.Now()
	if now.Before(end) {
		return nil, fmt.Errorf("%w: %s has not ended", payments.ErrBillNotReady, start.Format("2006-01-02"))
	}
	params := map[string]string{
		"appid": c.apps[0].id, "mch_id": c.cfg.MchID, "nonce_str": util.RandomStr(32),
		"sign_type": c.cfg.SignType, "bill_date": start.Format("20060102"), "bill_type": "ALL",
	}
	sign, err := util.ParamSign(params, c.cfg.Key)
	if err != nil {
		return nil, err
	}
	body, err := c.post(ctx, downloadBillURL, encodeRequest(params, sign))
	if err != nil {
		return nil, err
	}
	if text := strings.TrimSpace(string(body)); strings.HasPrefix(text, "<xml>") {
		fields, err := parseFields(body)
		if err != nil {
			return nil, fmt.Errorf("wechatpay downloadbill: unreadable answer")
		}
		msg := fields["return_msg"]
		notYet := strings.EqualFold(msg, "No Bill Exist") || strings.EqualFold(msg, "Bill Creating")
		switch {
		case notYet && now.Before(end.Add(c.cfg.BillReadyAfter)):
			return nil, fmt.Errorf("%w: %s (%s)", payments.ErrBillNotReady, msg, fields["error_code"])
		case strings.EqualFold(msg, "No Bill Exist"):
			return []payments.BillLine{}, nil
		}
		return nil, fmt.Errorf("wechatpay downloadbill: %s (%s)", msg, fields["error_code"])
	}
	return parseBill(string(body))
}

// Column names of the bill this parser reads.
const (
	colTime        = "交易时间"
	colTxn         = "微信订单号"
	colOutTradeNo  = "商户订单号"
	colState       = "交易状态"
	colSettle      = "应结订单金额"
	colTotal       = "订单金额"
	colRefundID    = "微信退款单号"
	colOutRefundNo = "商户退款单号"
	colRefund      = "退款金额"
	colApplied     = "申请退款金额"
	summaryFirst   = "总交易单数"
)

// errBill: the text is not a complete WeChat bill.
var errBill = errors.New("wechatpay: malformed bill")

// parseBill reads a bill_type ALL bill into lines; columns are found by
// name, so layout changes that keep the names are harmless.
func parseBill(text string) ([]payments.BillLine, error) {
	text = strings.TrimPrefix(text, "\ufeff")
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("%w: %d lines", errBill, len(lines))
	}
	header := strings.Split(strings.TrimSpace(lines[0]), ",")
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{colTime, colTxn, colOutTradeNo, colState, colSettle, colRefundID, colOutRefundNo, colRefund} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%w: no column %s", errBill, need)
		}
	}
	out := []payments.BillLine{}
	var settle, refunded payments.Fen
	i := 1
	for ; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if strings.HasPrefix(line, summaryFirst) {
			break
		}
		if line == "" {
			continue
		}
		vals := splitBillLine(line)
		if len(vals) != len(header) {
			return nil, fmt.Errorf("%w: line %d has %d fields, header %d", errBill, i+1, len(vals), len(header))
		}
		l, s, r, err := billLine(vals, col)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", errBill, i+1, err)
		}
		settle, refunded = settle+s, refunded+r
		if l.Kind != "" {
			out = append(out, l)
		}
	}
	if i+1 >= len(lines) {
		return nil, fmt.Errorf("%w: no summary", errBill)
	}
	sum := splitBillLine(strings.TrimSpace(lines[i+1]))
	if len(sum) < 3 {
		return nil, fmt.Errorf("%w: summary", errBill)
	}
	count, err := strconv.Atoi(sum[0])
	sumSettle, err2 := payments.ParseYuan(sum[1])
	sumRefund, err3 := payments.ParseYuan(sum[2])
	if err != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("%w: summary %q", errBill, lines[i+1])
	}
	// A truncated download would pass every line's checks: compare with the totals.
	if lineCount := countTradeLines(lines[1:i]); count != lineCount || sumSettle != settle || sumRefund != refunded {
		return nil, fmt.Errorf("%w: summary says %d lines, %s settled, %s refunded; lines give %d, %s, %s",
			errBill, count, sumSettle.Yuan(), sumRefund.Yuan(), lineCount, settle.Yuan(), refunded.Yuan())
	}
	return out, nil
}

// billLine reads one trade line; it also returns the line's settled and
// refunded amounts for the summary check.
func billLine(vals []string, col map[string]int) (payments.BillLine, payments.Fen, payments.Fen, error) {
	get := func(name string) string {
		if i, ok := col[name]; ok {
			return vals[i]
		}
		return ""
	}
	amount := func(name string) (payments.Fen, error) {
		v := get(name)
		if v == "" {
			return 0, nil
		}
		f, err := payments.ParseYuan(v)
		if err != nil {
			return 0, fmt.Errorf("%s %q", name, v)
		}
		return f, nil
	}
	at, err := time.ParseInLocation("2006-01-02 15:04:05", get(colTime), shanghai)
	if err != nil {
		return payments.BillLine{}, 0, 0, fmt.Errorf("%s %q", colTime, get(colTime))
	}
	settle, err := amount(colSettle)
	if err != nil {
		return payments.BillLine{}, 0, 0, err
	}
	refunded, err := amount(colRefund)
	if err != nil {
		return payments.BillLine{}, 0, 0, err
	}
	l := payments.BillLine{OutTradeNo: get(colOutTradeNo), TransactionID: get(colTxn), At: at}
	switch get(colState) {
	case "SUCCESS":
		l.Kind, l.Amount = payments.BillPayment, settle
		if total, err := amount(colTotal); err == nil && total > 0 {
			l.Amount = total // what the payer paid; the settled amount excludes coupons
		}
	case "REFUND":
		l.Kind, l.Amount = payments.BillRefund, refunded
		if applied, err := amount(colApplied); err == nil && applied > 0 {
			l.Amount = applied
		}
		l.RefundID, l.OutRefundNo = get(colRefundID), get(colOutRefundNo)
	default:
		// REVOKED and other states move no money for JSAPI/APP: not a line.
	}
	return l, settle, refunded, nil
}

// splitBillLine splits "`a,`b,`c": every value starts with a backtick, so
// ",`" separates values even when a value (商品名称) contains a comma.
func splitBillLine(line string) []string {
	vals := strings.Split(strings.TrimPrefix(line, "`"), ",`")
	for i := range vals {
		vals[i] = strings.TrimSpace(vals[i])
	}
	return vals
}

func countTradeLines(lines []string) int {
	n := 0
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return n
}
