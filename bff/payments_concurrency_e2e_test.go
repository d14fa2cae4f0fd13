package bff_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"zwfw/bff"
	"zwfw/payments"
	"zwfw/pii"
	"zwfw/platform/testenv"
	"zwfw/sandbox/alipay"
	"zwfw/sandbox/wechatpay"
)

// payTaps is how many copies of one payment write a phone sends at once.
const payTaps = 20

// payVolley sends the request once per key (all at the same moment) and
// returns the answers, each validated against the OpenAPI document.
func (s *server) payVolley(path, token string, body any, keys []string) []*response {
	s.t.Helper()
	raw, _ := json.Marshal(body)
	reqs := make([]*http.Request, len(keys))
	for i, k := range keys {
		req, err := http.NewRequest("POST", s.base+path, bytes.NewReader(raw))
		if err != nil {
			s.t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", k)
		reqs[i] = req
	}
	out := make([]*response, len(keys))
	errs := make([]error, len(keys))
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			res, err := s.http.Do(reqs[i])
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			out[i] = &response{Status: res.StatusCode, Header: res.Header, Body: b}
		}()
	}
	close(ready)
	wg.Wait()
	for i := range reqs {
		if errs[i] != nil {
			s.t.Fatalf("copy %d: %v", i, errs[i])
		}
		s.validate(reqs[i], out[i])
	}
	return out
}

// payKeys is n copies of one key, or n different keys (a real double tap).
func payKeys(prefix string, n int, same bool) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix
		if !same {
			out[i] = fmt.Sprintf("%s-%02d", prefix, i)
		}
	}
	return out
}

func errorCode(t *testing.T, r *response) string {
	t.Helper()
	var e struct {
		Code string `json:"code"`
	}
	r.JSON(t, &e)
	return fmt.Sprintf("%d %s", r.Status, e.Code)
}

// sandboxMoney is what the payer paid and got back at the channels for a
// notice's orders, as the channels themselves count it.
func (s *server) sandboxMoney(t *testing.T, orderIDs []string) (in, out int64, paidOrders int) {
	t.Helper()
	sb := s.app.Sandbox()
	for _, id := range orderIDs {
		if o, ok := sb.WeChatPayServer().Order(id); ok {
			if o.State == wechatpay.StateSuccess || o.State == wechatpay.StateRefunded {
				in += o.PaidFee
				paidOrders++
			}
			for _, r := range o.Refunds {
				if r.Status == wechatpay.RefundSuccess {
					out += r.RefundFee
				}
			}
		}
		if tr, ok := sb.AlipayServer().TradeByNo(id); ok && tr.PaidAt != nil {
			f, err := payments.ParseYuan(tr.TotalAmount)
			if err != nil {
				t.Fatal(err)
			}
			in += int64(f)
			paidOrders++
			for _, r := range tr.Refunds {
				f, err := payments.ParseYuan(r.RefundAmount)
				if err != nil {
					t.Fatal(err)
				}
				out += int64(f)
			}
		}
	}
	return in, out, paidOrders
}

// payWithParams is the payer paying with one set of parameters zwfw handed
// out; the channel may refuse it (a closed or paid order), which is not an
// error here. It reports whether money was taken.
func (s *server) payWithParams(channel string, p payResponse) bool {
	sb := s.app.Sandbox()
	switch channel {
	case "wechat_jsapi", "wechat_app":
		_, err := sb.WeChatPayServer().PayParams(p.WeChat, wechatpay.PayOptions{})
		return err == nil
	case "alipay_app":
		no, err := sb.AlipayServer().Open(p.OrderString)
		if err != nil {
			return false
		}
		_, err = sb.AlipayServer().Pay(no, alipay.PayOptions{})
		return err == nil
	default:
		u, err := url.Parse(p.PayURL)
		if err != nil {
			s.t.Fatal(err)
		}
		no, err := sb.AlipayServer().OpenWap(u)
		if err != nil {
			return false
		}
		_, err = sb.AlipayServer().Pay(no, alipay.PayOptions{})
		return err == nil
	}
}

// A double tap on Pay, on each of the four channels: 20 copies under one key
// and 20 with a key each open exactly one order, and every 200 carries it.
// Then the payer switches channel and pays with every set of parameters
// zwfw ever handed out (and, at WeChat Pay, a close that raced the payer
// takes the money anyway): the channels end up holding exactly the notice's
// amount, a second payment having gone back automatically, recorded as an
// anomaly naming its refund, with the payer told.
func TestPayDoubleTapOneOrderNeverChargedTwice(t *testing.T) {
	s := start(t, fastCallbacks, func(c *bff.Config) { c.RatePerUser, c.RatePerIP = 1_000_000, 1_000_000 })
	me, zhang := s.verifiedCitizen("double-payer")
	admin := s.admin()
	other := map[string]string{"wechat_jsapi": "alipay_app", "wechat_app": "alipay_wap", "alipay_app": "wechat_app", "alipay_wap": "wechat_jsapi"}
	for _, ch := range []string{"wechat_jsapi", "wechat_app", "alipay_app", "alipay_wap"} {
		code := s.issueNotice(zhang.IDNumber, zhang.Name)
		path := "/api/v1/payments/" + code + "/pay"
		body := map[string]string{"channel": ch}
		route := "POST /api/v1/payments/{id}/pay " + ch
		var handedOut []payResponse
		var orderID string
		for _, same := range []bool{true, false} {
			answers := s.payVolley(path, me.Access, body, payKeys("pay-"+ch, payTaps, same))
			firstHand, replayed, refused := 0, 0, map[string]int{}
			var first *response
			for _, r := range answers {
				if r.Status != 200 {
					refused[errorCode(t, r)]++
					continue
				}
				if r.Header.Get("Idempotent-Replayed") == "true" {
					replayed++
				} else {
					firstHand++
				}
				var p payResponse
				r.JSON(t, &p)
				if orderID == "" {
					orderID = p.OrderID
				}
				if p.OrderID != orderID {
					t.Fatalf("%s: two orders handed out: %s and %s", route, orderID, p.OrderID)
				}
				if same && first != nil && !bytes.Equal(r.Body, first.Body) {
					t.Fatalf("%s: answers under one key differ:\n%s\n%s", route, first.Body, r.Body)
				}
				if first == nil {
					first = r
				}
				handedOut = append(handedOut, p)
			}
			keys := "different keys"
			if same {
				keys = "one key"
			}
			n := 0
			for code, c := range refused {
				n += c
				if !same || code != "409 IDEMPOTENCY_KEY_IN_USE" {
					t.Fatalf("%s (%s): a copy got %s", route, keys, code)
				}
			}
			// winners: orders opened; replayed: answers that carried the open order again.
			t.Logf("concurrency %s (%s): requests=%d winners=1 replayed=%d refused=%d (first-hand 200s %d, replay headers %d)",
				route, keys, len(answers), firstHand+replayed-1, n, firstHand, replayed)
			if same && firstHand != 1 {
				t.Fatalf("%s (one key): %d first-hand answers", route, firstHand)
			}
		}
		d := s.request("GET", "/api/v1/admin/payments/"+code, admin, nil).M(t)
		if orders := d["orders"].([]any); len(orders) != 1 || orders[0].(map[string]any)["id"] != orderID {
			t.Fatalf("%s: orders stored %v, want one: %s", ch, orders, orderID)
		}

		// The payer switches channel, then pays with everything ever handed out.
		switched := s.payOrder(me.Access, code, other[ch], "switch-"+ch)
		if switched.OrderID == orderID {
			t.Fatalf("%s: switching channel kept the order", ch)
		}
		if !s.payWithParams(other[ch], switched) {
			t.Fatalf("%s: the switched order could not be paid", ch)
		}
		for _, p := range handedOut {
			s.payWithParams(ch, p)
		}
		if strings.HasPrefix(ch, "wechat") {
			// WeChat Pay refused the closed order; a close that raced the payer takes the money anyway.
			if err := s.app.Sandbox().WeChatPayServer().Surplus(orderID, wechatpay.PayOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		var in, out int64
		var paid int
		testenv.WaitFor(t, ch+": the second payment back with the payer", func() bool {
			s.app.Sandbox().WeChatPayServer().Advance() // WeChat settles refunds later
			in, out, paid = s.sandboxMoney(t, []string{orderID, switched.OrderID})
			if paid != 2 || in-out != 1000 {
				return false
			}
			d = s.request("GET", "/api/v1/admin/payments/"+code, admin, nil).M(t)
			refunds, _ := d["refunds"].([]any)
			return len(refunds) == 1 && refunds[0].(map[string]any)["status"] == "succeeded"
		})
		refunds := d["refunds"].([]any)
		if d["status"] != "paid" || d["refunded_fen"].(float64) != 0 || len(refunds) != 1 {
			t.Fatalf("%s: payment %v", ch, d)
		}
		rd := refunds[0].(map[string]any)
		if rd["kind"] != "duplicate" || rd["amount_fen"].(float64) != 1000 || rd["status"] != "succeeded" {
			t.Fatalf("%s: refund %v", ch, rd)
		}
		var anomalies struct {
			Items []map[string]any `json:"items"`
		}
		s.request("GET", "/api/v1/admin/payments/anomalies?all=true", admin, nil).JSON(t, &anomalies)
		recorded := 0
		for _, a := range anomalies.Items {
			if a["payment_id"] == code {
				recorded++
				if a["kind"] != "duplicate_payment" || a["refund_id"] != rd["id"] || a["resolved"] != true {
					t.Fatalf("%s: anomaly %v", ch, a)
				}
			}
		}
		if recorded != 1 {
			t.Fatalf("%s: %d anomalies recorded for the notice: %v", ch, recorded, anomalies.Items)
		}
		t.Logf("money %s: in=%d out=%d at the channels (%d orders paid), the payer charged %d fen once", ch, in, out, paid, in-out)
	}
	// The payer is told, once per second payment.
	testenv.WaitFor(t, "a reminder per second payment", func() bool {
		var inbox struct {
			Items []struct {
				Rule string `json:"rule"`
			} `json:"items"`
		}
		s.request("GET", "/api/v1/me/notifications", me.Access, nil).JSON(t, &inbox)
		n := 0
		for _, it := range inbox.Items {
			if it.Rule == "payment.duplicate" {
				n++
			}
		}
		return n == 4
	})
}

// Refunds sent 20 times at once: under one key one refund, the copies get
// its answer; under a key each the limit holds (never more than paid) and
// every accepted key has exactly one refund.
func TestRefundDoubleTap(t *testing.T) {
	s := start(t, fastCallbacks, func(c *bff.Config) { c.RatePerUser, c.RatePerIP = 1_000_000, 1_000_000 })
	me, zhang := s.verifiedCitizen("refunded")
	admin := s.admin()
	code := s.issueNotice(zhang.IDNumber, zhang.Name)
	s.userPays("alipay_app", s.payOrder(me.Access, code, "alipay_app", "k"), wechatpay.PayOptions{}, alipay.PayOptions{})
	testenv.WaitFor(t, "paid", func() bool { return s.payment(me.Access, code)["status"] == "paid" })

	path := "/api/v1/admin/payments/" + code + "/refund"
	body := map[string]any{"amount_fen": 300, "reason": "多收工本费"}
	accepted := map[string]bool{}
	for _, same := range []bool{true, false} {
		answers := s.payVolley(path, admin, body, payKeys("refund", payTaps, same))
		winners, refused := 0, map[string]int{}
		var first *response
		var replays []*response
		for _, r := range answers {
			switch {
			case r.Status == 202 && r.Header.Get("Idempotent-Replayed") == "true":
				replays = append(replays, r)
			case r.Status == 202:
				winners++
				if first == nil {
					first = r
				}
				id := r.M(t)["id"].(string)
				if accepted[id] {
					t.Fatalf("refund %s answered to two keys", id)
				}
				accepted[id] = true
			default:
				refused[errorCode(t, r)]++
			}
		}
		for _, r := range replays {
			if first == nil || !bytes.Equal(r.Body, first.Body) {
				t.Fatalf("a replay differs from the first answer:\n%s", r.Body)
			}
		}
		replayed := len(replays)
		keys, want, allowed := "different keys", 2, "400 PAYMENT_REFUND_AMOUNT_INVALID"
		if same {
			keys, want, allowed = "one key", 1, "409 IDEMPOTENCY_KEY_IN_USE"
		}
		n := 0
		for code, c := range refused {
			n += c
			if code != allowed {
				t.Fatalf("refund (%s): a copy got %s, want %s", keys, code, allowed)
			}
		}
		t.Logf("concurrency POST /api/v1/admin/payments/{id}/refund (%s): requests=%d winners=%d replayed=%d refused=%d",
			keys, len(answers), winners, replayed, n)
		if winners != want {
			t.Fatalf("refund (%s): %d refunds accepted, want %d", keys, winners, want)
		}
	}
	// Three refunds of 3 yuan on 10 yuan paid, one per accepted key, all settled at Alipay.
	testenv.WaitFor(t, "the refunds settled", func() bool {
		d := s.payment(me.Access, code)
		return d["refunded_fen"].(float64) == 900 && d["refunding_fen"].(float64) == 0
	})
	d := s.payment(me.Access, code)
	if refunds := d["refunds"].([]any); len(refunds) != 3 || d["status"] != "partially_refunded" {
		t.Fatalf("payment %v", d)
	}
	for _, r := range d["refunds"].([]any) {
		if !accepted[r.(map[string]any)["id"].(string)] {
			t.Fatalf("refund %v answered to no key", r)
		}
	}
	wantError(t, s.request("POST", path, admin, map[string]any{"amount_fen": 101, "reason": "再退"}, "Idempotency-Key", "more"), 400, "PAYMENT_REFUND_AMOUNT_INVALID")
}

// The look-up by payment code shows a person's name masked: anyone holding
// the 20-digit code may look it up.
func TestLookupByCodeMasksThePayersName(t *testing.T) {
	s := start(t, fastCallbacks)
	_, zhang := s.verifiedCitizen("zhangsan")
	code := s.issueNotice(zhang.IDNumber, zhang.Name)
	stranger := s.loginWeChat("holder-of-the-paper")
	r := s.request("GET", "/api/v1/payments/lookup?payment_code="+code, stranger.Access, nil)
	if r.Status != 200 {
		t.Fatalf("lookup: %d %s", r.Status, r.Body)
	}
	got := r.M(t)
	if got["payer_name"] != pii.MaskName(zhang.Name) || strings.Contains(string(r.Body), zhang.Name) {
		t.Fatalf("look-up shows %v (name %s)", got["payer_name"], zhang.Name)
	}
	if d := s.payment(stranger.Access, code); d["payer_name"] != pii.MaskName(zhang.Name) {
		t.Fatalf("detail shows %v", d["payer_name"])
	}
}
