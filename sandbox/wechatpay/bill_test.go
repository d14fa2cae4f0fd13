package wechatpay_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/wechatpay"
)

// downloadBill asks for a bill and returns the raw answer.
func (e *env) downloadBill(date, billType string) string {
	e.t.Helper()
	p := map[string]string{"appid": e.MiniProgramAppID(), "mch_id": e.MchID(), "nonce_str": fake.RandomString(fake.Alphanumeric, 32), "bill_date": date, "bill_type": billType}
	var msg wechatpay.Message
	for k, v := range p {
		msg = append(msg, wechatpay.Field{Name: k, Value: v})
	}
	msg = append(msg, wechatpay.Field{Name: "sign", Value: wechatpay.Sign(p, e.APIKey(), wechatpay.SignMD5)})
	res, err := http.Post(e.url+"/pay/downloadbill", "text/xml", strings.NewReader(string(msg.Encode())))
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func TestDownloadBill(t *testing.T) {
	e, tlsURL := refundEnv(t) // order R paid at 10:00 on 2026-03-02
	e.order("S", "123")
	_ = e.Pay("S", wechatpay.PayOptions{Notify: wechatpay.NotifyDrop})
	e.clock.Advance(time.Hour)
	if ans := e.refund(tlsURL, e.tlsClient(true), "F1", "10000", "2500"); ans.Get("result_code") != "SUCCESS" {
		t.Fatal(ans)
	}
	if got := e.downloadBill("20260302", "ALL"); !strings.Contains(got, "No Bill Exist") || !strings.Contains(got, "20002") {
		t.Fatalf("bill before the day ended: %s", got)
	}
	e.clock.Advance(14 * time.Hour) // 2026-03-03 01:00 CST
	all := e.downloadBill("20260302", "ALL")
	lines := strings.Split(strings.TrimRight(all, "\r\n"), "\r\n")
	if len(lines) != 6 {
		t.Fatalf("ALL bill: %q", all)
	}
	if !strings.HasPrefix(lines[0], "交易时间,公众账号ID,商户号,特约商户号,") || len(strings.Split(lines[0], ",")) != 27 {
		t.Errorf("header %s", lines[0])
	}
	for _, l := range lines[1:4] {
		if !strings.HasPrefix(l, "`2026-03-02 1") || len(strings.Split(l, ",`")) != 27 {
			t.Errorf("line %s", l)
		}
	}
	if !strings.Contains(lines[1], ",`R,") || !strings.Contains(lines[1], "`SUCCESS,") || !strings.Contains(lines[1], ",`100.00,`0.00,`0,`0,") {
		t.Errorf("payment line %s", lines[1])
	}
	if !strings.Contains(lines[3], "`REFUND,") || !strings.Contains(lines[3], ",`F1,`25.00,") || !strings.HasPrefix(lines[3], "`2026-03-02 11:00:00") {
		t.Errorf("refund line %s", lines[3])
	}
	if lines[4] != "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额" ||
		lines[5] != "`3,`101.23,`25.00,`0.00,`0.45738,`101.23,`25.00" {
		t.Errorf("summary %q %q", lines[4], lines[5])
	}
	if s := e.downloadBill("20260302", "SUCCESS"); strings.Count(s, "\r\n") != 5 || strings.Contains(s, "REFUND") {
		t.Errorf("SUCCESS bill %q", s)
	}
	if s := e.downloadBill("20260302", "REFUND"); strings.Count(s, "\r\n") != 4 || !strings.Contains(s, "退款申请时间") || !strings.Contains(s, "`2026-03-02 11:00:00,`2026-03-02 11:00:00,") {
		t.Errorf("REFUND bill %q", s)
	}
	if s := e.downloadBill("20260301", "ALL"); !strings.Contains(s, "No Bill Exist") {
		t.Errorf("day without trades: %s", s)
	}
	if s := e.downloadBill("20260302", "TODAY"); !strings.Contains(s, "invalid bill_type") {
		t.Errorf("bad bill_type: %s", s)
	}
}
