package wechatpay_test

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/pay/notify"

	"zwfw/sandbox/wechatpay"
)

// refundEnv is an env with the TLS listener and a paid order R (10000 fen).
func refundEnv(t *testing.T, mod ...func(*wechatpay.Options)) (*env, string) {
	t.Helper()
	e := newEnv(t, mod...)
	tlsURL, err := e.StartTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.order("R", "10000")
	if err := e.Pay("R", wechatpay.PayOptions{Notify: wechatpay.NotifyDrop}); err != nil {
		t.Fatal(err)
	}
	return e, tlsURL
}

func (e *env) refund(base string, client *http.Client, outRefundNo, total, amount string) wechatpay.Message {
	e.t.Helper()
	ans, _ := e.call(client, base, "/secapi/pay/refund", map[string]string{"out_trade_no": "R", "out_refund_no": outRefundNo,
		"total_fee": total, "refund_fee": amount, "notify_url": e.recv.srv.URL + "/refund"}, wechatpay.SignHMACSHA256)
	return ans
}

func TestRefundNeedsClientCertificate(t *testing.T) {
	e, tlsURL := refundEnv(t)
	// Plain HTTP: refused.
	ans, status := e.call(http.DefaultClient, e.url, "/secapi/pay/refund", map[string]string{"out_trade_no": "R", "out_refund_no": "F1", "total_fee": "10000", "refund_fee": "1"}, wechatpay.SignMD5)
	if status != http.StatusForbidden || ans.Get("return_code") != "FAIL" {
		t.Errorf("plain HTTP: %d %v", status, ans)
	}
	// TLS without the merchant certificate: the handshake fails.
	if _, err := e.tlsClient(false).Post(tlsURL+"/secapi/pay/refund", "text/xml", strings.NewReader("<xml></xml>")); err == nil {
		t.Error("TLS without a client certificate must fail")
	}
	// With it (decoded by the SDK's pkcs12 decoder): accepted.
	if ans := e.refund(tlsURL, e.tlsClient(true), "F1", "10000", "1"); ans.Get("result_code") != "SUCCESS" || !verifyAnswer(ans, e.APIKey(), wechatpay.SignHMACSHA256) {
		t.Errorf("with the certificate: %v", ans)
	}
}

func TestRefundRules(t *testing.T) {
	e, tlsURL := refundEnv(t, func(o *wechatpay.Options) { o.RefundDelay = time.Minute })
	c := e.tlsClient(true)
	steps := []struct {
		name, outRefundNo, total, amount, errCode string
	}{
		{"partial", "F1", "10000", "3000", ""},
		{"same out_refund_no is idempotent", "F1", "10000", "3000", ""},
		{"same out_refund_no, other amount", "F1", "10000", "2000", "PARAM_ERROR"},
		{"wrong total", "F2", "9999", "100", "PARAM_ERROR"},
		{"more than refundable", "F2", "10000", "7001", "ERROR"},
		{"the rest", "F2", "10000", "7000", ""},
		{"fully refunded", "F3", "10000", "1", "ERROR"},
		{"zero", "F4", "10000", "0", "PARAM_ERROR"},
	}
	var firstID string
	for _, s := range steps {
		ans := e.refund(tlsURL, c, s.outRefundNo, s.total, s.amount)
		if ans.Get("return_code") != "SUCCESS" || ans.Get("err_code") != s.errCode {
			t.Errorf("%s: %v", s.name, ans)
			continue
		}
		if s.outRefundNo == "F1" && s.errCode == "" {
			if firstID == "" {
				firstID = ans.Get("refund_id")
			} else if ans.Get("refund_id") != firstID {
				t.Errorf("%s: refund_id changed", s.name)
			}
		}
	}
	o, _ := e.Order("R")
	if o.State != wechatpay.StateRefunded || o.RefundedFee != 10000 || len(o.Refunds) != 2 {
		t.Errorf("order after refunds: %+v", o)
	}

	// PROCESSING until the delay passes on the fake clock.
	q := func(by, v string) wechatpay.Message {
		ans, _ := e.call(http.DefaultClient, e.url, "/pay/refundquery", map[string]string{by: v}, wechatpay.SignMD5)
		return ans
	}
	if a := q("out_refund_no", "F1"); a.Get("refund_count") != "1" || a.Get("refund_status_0") != "PROCESSING" || a.Get("refund_fee_0") != "3000" {
		t.Errorf("before the delay: %v", a)
	}
	e.clock.Advance(time.Minute)
	e.Advance()
	a := q("out_trade_no", "R")
	if a.Get("refund_count") != "2" || a.Get("out_refund_no_0") != "F1" || a.Get("refund_status_1") != "SUCCESS" ||
		a.Get("refund_success_time_0") != "2026-03-02 10:01:00" || !verifyAnswer(a, e.APIKey(), wechatpay.SignMD5) {
		t.Errorf("after the delay: %v", a)
	}
	if a := q("out_refund_no", "NOPE"); a.Get("err_code") != "REFUNDNOTEXIST" {
		t.Errorf("unknown refund: %v", a)
	}

	// Two refund notifies, decryptable by the SDK with the merchant key.
	e.recv.wait(t, 2)
	n := e.sdk(e.MiniProgramAppID()).GetNotify()
	seen := map[string]bool{}
	for _, body := range e.recv.all() {
		var res notify.RefundedResult
		if err := xml.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		info, err := n.DecryptReqInfo(&res)
		if err != nil {
			t.Fatalf("SDK cannot decrypt req_info: %v", err)
		}
		if *info.RefundStatus != "SUCCESS" || *info.OutTradeNO != "R" || *info.TotalFee != 10000 || *info.SuccessTime != "2026-03-02 10:01:00" {
			t.Errorf("req_info: %+v", info)
		}
		seen[*info.OutRefundNO] = true
	}
	if !seen["F1"] || !seen["F2"] {
		t.Errorf("notified refunds: %v", seen)
	}
}

// With no delay the refund is settled by the next request and notified
// without one.
func TestRefundImmediate(t *testing.T) {
	e, tlsURL := refundEnv(t)
	if ans := e.refund(tlsURL, e.tlsClient(true), "F1", "10000", "500"); ans.Get("result_code") != "SUCCESS" {
		t.Fatal(ans)
	}
	e.recv.wait(t, 1)
	ans, _ := e.call(http.DefaultClient, e.url, "/pay/refundquery", map[string]string{"out_refund_no": "F1"}, wechatpay.SignMD5)
	if ans.Get("refund_status_0") != "SUCCESS" {
		t.Error(ans)
	}
	// Unpaid orders cannot be refunded.
	e.order("U", "100")
	ans, _ = e.call(e.tlsClient(true), tlsURL, "/secapi/pay/refund", map[string]string{"out_trade_no": "U", "out_refund_no": "F9", "total_fee": "100", "refund_fee": "100"}, wechatpay.SignMD5)
	if ans.Get("err_code") != "ERROR" {
		t.Errorf("refund of an unpaid order: %v", ans)
	}
}
