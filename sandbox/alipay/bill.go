package alipay

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// The daily trade bill (业务账单, bill_type trade): a zip holding
// <account>_<yyyyMMdd>_业务明细.csv (one line per payment and refund) and
// <account>_<yyyyMMdd>_业务明细(汇总).csv, GBK-encoded (GB18030 here, a
// superset that also takes characters GBK lacks) with GBK file names, as
// Alipay delivers it.

type billRequest struct {
	BillType string `json:"bill_type"`
	BillDate string `json:"bill_date"`
}

type billURLResponse struct {
	Code            string `json:"code"`
	Msg             string `json:"msg"`
	BillDownloadURL string `json:"bill_download_url"`
}

// apiBillURL: alipay.data.dataservice.bill.downloadurl.query. A day's bill
// exists once the day (GMT+8) has ended on the fake's clock; before that
// isp.bill_not_exist. A day without trades has a bill without lines.
func (s *Server) apiBillURL(c *call) (any, *Error) {
	var req billRequest
	if e := c.decodeBiz(&req); e != nil {
		return nil, e
	}
	if req.BillType != "trade" {
		return nil, invalidArg(SubInvalidParam, "bill_type %q：沙箱只提供 trade（业务账单）", req.BillType)
	}
	day, err := time.ParseInLocation(dateLayout, req.BillDate, chinaTime)
	if err != nil {
		return nil, invalidArg(SubInvalidParam, "bill_date %q：沙箱只提供日账单，格式 yyyy-MM-dd", req.BillDate)
	}
	if c.now.Before(day.AddDate(0, 0, 1)) {
		return nil, bizError(SubBillNotExist, "账单不存在")
	}
	return billURLResponse{Code: CodeSuccess, Msg: msgSuccess, BillDownloadURL: s.billURL(c.base, day, c.now)}, nil
}

// billURL is a download URL shaped like Alipay's, with a token over its
// parameters so that it cannot be edited into another day.
func (s *Server) billURL(base string, day, now time.Time) string {
	date := day.Format("20060102")
	q := url.Values{
		"bizType": {"trade"}, "userId": {s.sellerID}, "fileType": {"csv.zip"}, "bizDates": {date},
		"downloadFileName": {s.account() + "_" + date + ".csv.zip"},
		"fileId":           {"/trade/" + s.sellerID + "/" + date},
		"timestamp":        {strconv.FormatInt(now.UnixMilli(), 10)},
	}
	q.Set("token", s.billToken(q))
	return base + BillPath + "?" + q.Encode()
}

func (s *Server) billToken(q url.Values) string {
	mac := hmac.New(sha256.New, s.billKey)
	mac.Write([]byte(SignContent(q, "token")))
	return hex.EncodeToString(mac.Sum(nil))
}

// account is the merchant's cash account as bills name it.
func (s *Server) account() string { return s.sellerID + "0156" }

// downloadBill: GET /alipay/bill/downloadBillFile.resource?...&token=
func (s *Server) downloadBill(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := s.now()
	ms, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil || !hmac.Equal([]byte(q.Get("token")), []byte(s.billToken(q))) {
		http.Error(w, "账单下载地址无效", http.StatusForbidden)
		return
	}
	if now.Sub(time.UnixMilli(ms)) > BillURLTTL {
		http.Error(w, "账单下载地址已过期（有效期 30 秒），请重新获取", http.StatusForbidden)
		return
	}
	day, err := time.ParseInLocation("20060102", q.Get("bizDates"), chinaTime)
	if err != nil {
		http.Error(w, "账单日期无效", http.StatusBadRequest)
		return
	}
	body := s.billZip(day, now)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+q.Get("downloadFileName")+`"`)
	_, _ = w.Write(body)
}

// detailColumns is the header of 业务明细.
var detailColumns = []string{
	"支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称",
	"操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）",
	"支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）",
	"卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注",
}

// summaryColumns is the header of 业务明细(汇总).
var summaryColumns = []string{
	"门店编号", "门店名称", "交易订单总笔数", "退款订单总笔数", "已收入总金额（元）", "商家实收（元）",
	"支付宝优惠（元）", "商家优惠（元）", "卡消费金额（元）", "服务费（元）", "分润（元）", "实收净额（元）",
}

// billZip builds the bill of day (GMT+8) as of now.
func (s *Server) billZip(day, now time.Time) []byte {
	from, to := day, day.AddDate(0, 0, 1)
	var rows [][]string
	var payments, refunds int
	var paid, refunded int64
	s.mu.Lock()
	for _, ev := range s.eventsOn(from, to) {
		t := ev.t
		row := []string{t.tradeNo, t.outTradeNo, "交易", t.subject, fmtTime(t.created), fmtTime(ev.at), "", "", "", "",
			t.buyerLogon, yuan(t.total), yuan(t.total), "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00", "", "0.00", "0.00", ""}
		if ev.r != nil {
			row[2], row[12], row[21], row[24] = "退款", yuan(-ev.r.amount), ev.r.outRequestNo, ev.r.reason
			refunds++
			refunded += ev.r.amount
		} else {
			payments++
			paid += t.total
		}
		rows = append(rows, row)
	}
	s.mu.Unlock()

	period := fmt.Sprintf("#起始日期：[%s]   终止日期：[%s]", cnTime(from), cnTime(to))
	exported := fmt.Sprintf("#导出时间：[%s]", cnTime(now))
	var detail strings.Builder
	comment(&detail, "#支付宝业务明细查询", "#账号：["+s.account()+"]", period,
		"#-----------------------------------------业务明细列表----------------------------------------")
	writeCSV(&detail, [][]string{detailColumns}, false)
	writeCSV(&detail, rows, true)
	comment(&detail, "#-----------------------------------------业务明细列表结束------------------------------------",
		fmt.Sprintf("#交易合计：%d笔，商家实收共：%s元，商家优惠共：0.00元", payments, yuan(paid)),
		fmt.Sprintf("#退款合计：%d笔，商家实收退款共：%s元，商家优惠退款共：0.00元", refunds, yuan(-refunded)),
		exported)

	var summary strings.Builder
	comment(&summary, "#支付宝业务汇总查询", "#账号：["+s.account()+"]", period,
		"#-----------------------------------------业务汇总列表----------------------------------------")
	writeCSV(&summary, [][]string{summaryColumns}, false)
	net := yuan(paid - refunded)
	writeCSV(&summary, [][]string{{"合计", "", strconv.Itoa(payments), strconv.Itoa(refunds), yuan(paid), net, "0.00", "0.00", "0.00", "0.00", "0.00", net}}, true)
	comment(&summary, "#-----------------------------------------业务汇总列表结束-----------------------------------", exported)

	prefix := s.account() + "_" + day.Format("20060102") + "_"
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{
		{prefix + "业务明细.csv", detail.String()},
		{prefix + "业务明细(汇总).csv", summary.String()},
	} {
		h := &zip.FileHeader{Name: s.encode(f.name), Method: zip.Deflate, Modified: now.In(chinaTime), NonUTF8: !s.billUTF8}
		fw, err := zw.CreateHeader(h)
		if err == nil {
			_, err = fw.Write([]byte(s.encode(f.body)))
		}
		if err != nil {
			panic(err) // writing to memory does not fail
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// encode is the bill's text encoding: GB18030 (GBK), or UTF-8 when asked.
func (s *Server) encode(text string) string {
	if s.billUTF8 {
		return text
	}
	out, err := simplifiedchinese.GB18030.NewEncoder().String(text)
	if err != nil {
		panic(err) // GB18030 encodes every Unicode character
	}
	return out
}

// comment writes lines as they are, CRLF-terminated.
func comment(b *strings.Builder, lines ...string) {
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
}

// writeCSV writes records with CRLF line ends; padded cells carry the tab
// Alipay appends to each value (it keeps spreadsheets from reading long
// numbers as floats). encoding/csv would quote every cell that starts
// with the tab of an empty value, which Alipay does not; values are quoted
// only when they hold a comma, a quote or a line break.
func writeCSV(b *strings.Builder, records [][]string, padded bool) {
	for _, rec := range records {
		for i, v := range rec {
			if i > 0 {
				b.WriteByte(',')
			}
			if padded {
				v += "\t"
			}
			if strings.ContainsAny(v, ",\"\r\n") {
				v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			}
			b.WriteString(v)
		}
		b.WriteString("\r\n")
	}
}

// cnTime is the bills' date format: 2026年03月02日 00:00:00.
func cnTime(t time.Time) string { return t.In(chinaTime).Format("2006年01月02日 15:04:05") }
