package alipay_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	sdk "github.com/smartwalle/alipay/v3"
	"golang.org/x/text/encoding/simplifiedchinese"

	"zwfw/sandbox/alipay"
)

// billFiles downloads the bill of date and returns its files by (decoded) name.
func (e *env) billFiles(date string, gbk bool) (map[string]string, string) {
	e.t.Helper()
	rsp, err := e.sdk.BillDownloadURLQuery(context.Background(), sdk.BillDownloadURLQuery{BillType: "trade", BillDate: date})
	if err != nil || !rsp.IsSuccess() {
		e.t.Fatalf("bill url: %+v %v", rsp, err)
	}
	res, err := http.Get(rsp.BillDownloadURL)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		e.t.Fatalf("download %d: %s", res.StatusCode, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		e.t.Fatal(err)
	}
	files := map[string]string{}
	dec := func(s string) string {
		if !gbk {
			return s
		}
		out, err := simplifiedchinese.GB18030.NewDecoder().String(s)
		if err != nil {
			e.t.Fatal(err)
		}
		return out
	}
	for _, f := range zr.File {
		if gbk == (f.Flags&0x800 != 0) {
			e.t.Fatalf("%q: UTF-8 flag %v", f.Name, f.Flags&0x800 != 0)
		}
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if gbk && utf8.Valid(b) {
			e.t.Fatalf("%s is not GBK", dec(f.Name))
		}
		files[dec(f.Name)] = dec(string(b))
	}
	return files, rsp.BillDownloadURL
}

// detailRows parses 业务明细: the header and the data lines, tabs trimmed.
func detailRows(t *testing.T, text string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(text))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
	}
	return recs
}

func TestDailyBill(t *testing.T) {
	e := newEnv(t, alipay.Options{})
	ctx := context.Background()
	e.paid("B1", "100.00") // 10:00
	e.clock.Advance(5 * time.Minute)
	e.paid("B2", "20.50") // 10:05
	// The merchant closes S1, but the payer was still in the cashier: surplus.
	if _, err := e.s.Open(e.appOrder("S1", "8.00")); err != nil {
		t.Fatal(err)
	}
	if rsp, _ := e.sdk.TradeClose(ctx, sdk.TradeClose{OutTradeNo: "S1"}); !rsp.IsSuccess() {
		t.Fatalf("close: %+v", rsp)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.s.Pay("S1", alipay.PayOptions{}); err == nil {
		t.Fatal("paid a closed trade without surplus")
	}
	if res, err := e.s.Pay("S1", alipay.PayOptions{Surplus: true}); err != nil || !res.Trade.Surplus {
		t.Fatalf("surplus: %+v %v", res, err)
	}
	e.clock.Advance(54 * time.Minute) // 11:00
	if rsp, _ := e.sdk.TradeRefund(ctx, sdk.TradeRefund{OutTradeNo: "B1", RefundAmount: "30.00", OutRequestNo: "RB1", RefundReason: "部分退费"}); !rsp.IsSuccess() {
		t.Fatalf("refund: %+v", rsp.Error)
	}

	// Not before the day is over.
	rsp, err := e.sdk.BillDownloadURLQuery(ctx, sdk.BillDownloadURLQuery{BillType: "trade", BillDate: "2026-03-02"})
	if err != nil || rsp.SubCode != alipay.SubBillNotExist {
		t.Fatalf("bill today: %+v %v", rsp, err)
	}
	e.clock.Advance(14 * time.Hour) // 01:00 on 3 March
	e.paid("B3", "1.00")            // another day's payment

	files, link := e.billFiles("2026-03-02", true)
	prefix := e.s.SellerID() + "0156_20260302_"
	detail, summary := files[prefix+"业务明细.csv"], files[prefix+"业务明细(汇总).csv"]
	if detail == "" || summary == "" || len(files) != 2 {
		t.Fatalf("files: %v", keys(files))
	}
	if !strings.Contains(detail, "#起始日期：[2026年03月02日 00:00:00]   终止日期：[2026年03月03日 00:00:00]") ||
		!strings.Contains(detail, "#交易合计：3笔，商家实收共：128.50元") ||
		!strings.Contains(detail, "#退款合计：1笔，商家实收退款共：-30.00元") ||
		!strings.Contains(detail, "\t,") {
		t.Fatalf("detail:\n%s", detail)
	}
	rows := detailRows(t, detail)
	if rows[0][0] != "支付宝交易号" || rows[0][11] != "订单金额（元）" || rows[0][21] != "退款批次号/请求号" {
		t.Fatalf("header: %v", rows[0])
	}
	want := [][]string{ // out_trade_no, type, completed, order amount, received, request no
		{"B1", "交易", "2026-03-02 10:00:00", "100.00", "100.00", ""},
		{"B2", "交易", "2026-03-02 10:05:00", "20.50", "20.50", ""},
		{"S1", "交易", "2026-03-02 10:06:00", "8.00", "8.00", ""},
		{"B1", "退款", "2026-03-02 11:00:00", "100.00", "-30.00", "RB1"},
	}
	if len(rows)-1 != len(want) {
		t.Fatalf("rows: %v", rows)
	}
	for i, w := range want {
		r := rows[i+1]
		got := []string{r[1], r[2], r[5], r[11], r[12], r[21]}
		if strings.Join(got, "|") != strings.Join(w, "|") || len(r[0]) != 28 {
			t.Errorf("row %d = %v, want %v", i, got, w)
		}
	}
	if !strings.Contains(summary, "合计\t,\t,3\t,1\t,128.50\t,98.50\t") {
		t.Fatalf("summary:\n%s", summary)
	}

	// The URL lasts 30 seconds and cannot be edited into another day.
	u, _ := url.Parse(link)
	q := u.Query()
	q.Set("bizDates", "20260303")
	u.RawQuery = q.Encode()
	if res, _ := http.Get(u.String()); res.StatusCode != http.StatusForbidden {
		t.Fatalf("edited URL: %d", res.StatusCode)
	}
	e.clock.Advance(31 * time.Second)
	if res, _ := http.Get(link); res.StatusCode != http.StatusForbidden {
		t.Fatalf("expired URL: %d", res.StatusCode)
	}

	// A quiet day has a bill without lines; other bill types and months are refused.
	files, _ = e.billFiles("2026-02-01", true)
	if rows := detailRows(t, files[e.s.SellerID()+"0156_20260201_业务明细.csv"]); len(rows) != 1 {
		t.Fatalf("quiet day: %v", rows)
	}
	for _, q := range []sdk.BillDownloadURLQuery{{BillType: "signcustomer", BillDate: "2026-03-01"}, {BillType: "trade", BillDate: "2026-02"}} {
		if rsp, _ := e.sdk.BillDownloadURLQuery(ctx, q); rsp.SubCode != alipay.SubInvalidParam {
			t.Fatalf("%+v: %+v", q, rsp.Error)
		}
	}
}

func TestBillInUTF8(t *testing.T) {
	e := newEnv(t, alipay.Options{BillUTF8: true})
	// A subject with a comma and a quote is quoted, the rest is not.
	if _, err := e.s.Open(e.appOrder("U1", "9.99", func(p *sdk.TradeAppPay) { p.Subject = `登记费,"加急"` })); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Pay("U1", alipay.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(24 * time.Hour)
	files, _ := e.billFiles("2026-03-02", false)
	rows := detailRows(t, files[e.s.SellerID()+"0156_20260302_业务明细.csv"])
	if len(rows) != 2 || rows[1][1] != "U1" || rows[1][3] != `登记费,"加急"` || len(rows[1]) != 25 {
		t.Fatalf("rows: %v", rows)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
