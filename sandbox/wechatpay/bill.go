package wechatpay

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"zwfw/sandbox/fake"
)

// Bill layouts (the header row) by bill_type, as WeChat Pay writes them.
var billHeaders = map[string][]string{
	"ALL": strings.Split("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"+
		"应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注", ","),
	"SUCCESS": strings.Split("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"+
		"应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注", ","),
	"REFUND": strings.Split("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"+
		"应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注", ","),
}

// billSummaryHeader is the header of the summary after the trade lines.
var billSummaryHeader = strings.Split("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额", ",")

// FeeRate is the sandbox merchant's fee rate: 0.60% (手续费 in 1/100000 yuan = fen × 6).
const FeeRate = "0.60%"

// downloadBill serves /pay/downloadbill. The bill is plain text (header,
// backtick-prefixed lines, summary); failures are XML with error_code.
func (s *Server) downloadBill(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, fake.MaxBody))
	if err != nil {
		billFail(w, "post数据为空", "20001")
		return
	}
	msg, err := ParseMessage(body)
	if err != nil {
		billFail(w, "XML格式错误", "20001")
		return
	}
	req, refusal := s.authenticate(msg)
	if refusal != "" {
		billFail(w, refusal, "20001")
		return
	}
	now := s.now()
	s.settleDue(now)
	day, err := time.ParseInLocation("20060102", req.get("bill_date"), shanghai)
	if err != nil {
		billFail(w, "invalid bill_date", "20001")
		return
	}
	billType := req.get("bill_type")
	if billType == "" {
		billType = "SUCCESS"
	}
	if _, ok := billHeaders[billType]; !ok {
		billFail(w, "invalid bill_type", "20001")
		return
	}
	if tar := req.get("tar_type"); tar != "" {
		billFail(w, "sandbox: tar_type is not supported", "20001")
		return
	}
	end := day.AddDate(0, 0, 1)
	if now.Before(end) { // the day's bill is produced after the day ends
		billFail(w, "No Bill Exist", "20002")
		return
	}
	rows := s.billRows(day, end, billType)
	if len(rows) == 0 {
		billFail(w, "No Bill Exist", "20002")
		return
	}
	w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, renderBill(billType, rows))
}

// billFail answers a downloadbill failure.
func billFail(w http.ResponseWriter, msg, code string) {
	writeMessage(w, http.StatusOK, Message{{"return_code", "FAIL"}, {"return_msg", msg}, {"error_code", code}})
}

// billRow is one trade line by column name, with its time for ordering.
type billRow struct {
	at   time.Time
	seq  int
	cols map[string]string
}

// billRows collects the day's lines: payments by payment time, refunds by
// the time they were requested.
func (s *Server) billRows(start, end time.Time, billType string) []billRow {
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []billRow
	for _, o := range s.orderList {
		if o.paid() && in(o.PaidAt) && billType != "REFUND" {
			c := s.tradeCols(o, o.PaidAt)
			c["交易状态"] = "SUCCESS"
			c["应结订单金额"], c["订单金额"] = yuan(o.PaidFee), yuan(o.PaidFee)
			c["微信退款单号"], c["商户退款单号"] = "0", "0"
			c["手续费"] = fee(o.PaidFee)
			rows = append(rows, billRow{o.PaidAt, o.paidSeq, c})
		}
		if billType == "SUCCESS" {
			continue
		}
		for _, r := range o.refunds {
			if !in(r.Created) {
				continue
			}
			at := r.Created
			if billType == "REFUND" {
				at = o.PaidAt // the REFUND layout shows the trade's time and the refund's in their own columns
			}
			c := s.tradeCols(o, at)
			c["交易状态"] = "REFUND"
			c["应结订单金额"], c["订单金额"] = yuan(0), yuan(0)
			if billType == "REFUND" {
				c["应结订单金额"], c["订单金额"] = yuan(o.PaidFee), yuan(o.PaidFee)
				c["退款申请时间"] = r.Created.In(shanghai).Format(refundTimeLayout)
				if r.Status == RefundSuccess {
					c["退款成功时间"] = r.SuccessAt.In(shanghai).Format(refundTimeLayout)
				}
			}
			c["微信退款单号"], c["商户退款单号"] = r.RefundID, r.OutRefundNo
			c["退款金额"], c["申请退款金额"] = yuan(r.RefundFee), yuan(r.RefundFee)
			c["退款类型"], c["退款状态"] = "ORIGINAL", r.Status
			c["手续费"] = "-" + fee(r.RefundFee)
			rows = append(rows, billRow{r.Created, r.seq, c})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].at.Equal(rows[j].at) {
			return rows[i].at.Before(rows[j].at)
		}
		return rows[i].seq < rows[j].seq
	})
	return rows
}

// tradeCols are the columns every line of an order shares.
func (s *Server) tradeCols(o *order, at time.Time) map[string]string {
	return map[string]string{
		"交易时间": at.In(shanghai).Format(refundTimeLayout), "公众账号ID": o.AppID, "商户号": s.mchID,
		"特约商户号": "0", "设备号": "", "微信订单号": o.TransactionID, "商户订单号": o.OutTradeNo,
		"用户标识": o.OpenID, "交易类型": o.TradeType, "付款银行": o.BankType, "货币种类": "CNY",
		"代金券金额": yuan(0), "退款金额": yuan(0), "充值券退款金额": yuan(0), "申请退款金额": yuan(0),
		"商品名称": o.Body, "商户数据包": o.Attach, "费率": FeeRate, "费率备注": "",
	}
}

// renderBill writes the header, the lines and the summary, every value
// prefixed with a backtick (so that spreadsheet tools keep long numbers
// as text), lines ending in CRLF.
func renderBill(billType string, rows []billRow) string {
	header := billHeaders[billType]
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\r\n")
	var settle, refund, feeSum, total, applied int64
	for _, r := range rows {
		vals := make([]string, len(header))
		for i, h := range header {
			vals[i] = "`" + r.cols[h]
		}
		b.WriteString(strings.Join(vals, ",") + "\r\n")
		settle += fen(r.cols["应结订单金额"])
		refund += fen(r.cols["退款金额"])
		total += fen(r.cols["订单金额"])
		applied += fen(r.cols["申请退款金额"])
		f := fen(strings.TrimPrefix(r.cols["手续费"], "-"))
		if strings.HasPrefix(r.cols["手续费"], "-") {
			f = -f
		}
		feeSum += f
	}
	if billType == "REFUND" {
		settle, total = 0, 0 // the REFUND layout repeats the trades' amounts; its summary counts refunds only
	}
	b.WriteString(strings.Join(billSummaryHeader, ",") + "\r\n")
	sum := []string{strconv.Itoa(len(rows)), yuan(settle), yuan(refund), yuan(0), signedFee(feeSum), yuan(total), yuan(applied)}
	b.WriteString("`" + strings.Join(sum, ",`") + "\r\n")
	return b.String()
}

// yuan formats fen as yuan with two decimals.
func yuan(f int64) string { return fmt.Sprintf("%d.%02d", f/100, f%100) }

// fee is the 0.60% fee of fen in yuan with five decimals (fen × 6 × 0.00001 yuan).
func fee(f int64) string { u := f * 6; return fmt.Sprintf("%d.%05d", u/100000, u%100000) }

func signedFee(u int64) string {
	sign := ""
	if u < 0 {
		sign, u = "-", -u
	}
	return fmt.Sprintf("%s%d.%05d", sign, u/100000, u%100000)
}

// fen parses the fake's own "12.34" (2 decimals) or "0.00006" (5 decimals:
// returned in 1/100000 yuan) amounts; only for its own summaries.
func fen(s string) int64 {
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	if len(frac) == 5 {
		return w*100000 + f
	}
	return w*100 + f
}
