package bff_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"zwfw/bff"
	"zwfw/payments"
	"zwfw/platform/testenv"
	"zwfw/sandbox/alipay"
	"zwfw/sandbox/fake"
	"zwfw/sandbox/nontax"
	sbprovince "zwfw/sandbox/province"
	"zwfw/sandbox/wechatpay"
)

// issueNotice has the non-tax platform issue a notice to the payer (a
// driving-licence fee, 10 yuan) and returns its payment code.
func (s *server) issueNotice(payerID, payerName string) string {
	s.t.Helper()
	n, err := s.app.Sandbox().NonTaxServer().Issue(nontax.IssueRequest{PayerID: payerID, PayerName: payerName,
		Items: []nontax.IssueItem{{Code: "103040300101"}}})
	if err != nil {
		s.t.Fatal(err)
	}
	return n.PaymentCode
}

type payResponse struct {
	OrderID      string            `json:"order_id"`
	Amount       int64             `json:"amount_fen"`
	WeChat       map[string]string `json:"wechat_params"`
	OrderString  string            `json:"alipay_order_string"`
	PayURL       string            `json:"alipay_pay_url"`
	ChannelLabel string            `json:"channel"`
}

func (s *server) payOrder(token, code, channel, key string) payResponse {
	s.t.Helper()
	r := s.request("POST", "/api/v1/payments/"+code+"/pay", token, map[string]string{"channel": channel}, "Idempotency-Key", key)
	if r.Status != 200 {
		s.t.Fatalf("pay %s by %s: %d %s", code, channel, r.Status, r.Body)
	}
	var p payResponse
	r.JSON(s.t, &p)
	return p
}

// userPays is the payer paying in the wallet the client opened.
func (s *server) userPays(channel string, p payResponse, wx wechatpay.PayOptions, ali alipay.PayOptions) {
	s.t.Helper()
	sb := s.app.Sandbox()
	switch channel {
	case "wechat_jsapi", "wechat_app":
		// The wallet checks the signed wx.requestPayment / PayReq parameters zwfw handed out.
		if _, err := sb.WeChatPayServer().PayParams(p.WeChat, wx); err != nil {
			s.t.Fatalf("wechat pay: %v", err)
		}
	case "alipay_app":
		no, err := sb.AlipayServer().Open(p.OrderString)
		if err != nil {
			s.t.Fatalf("alipay open: %v", err)
		}
		if _, err := sb.AlipayServer().Pay(no, ali); err != nil {
			s.t.Fatalf("alipay pay: %v", err)
		}
	case "alipay_wap":
		u, err := url.Parse(p.PayURL)
		if err != nil {
			s.t.Fatal(err)
		}
		no, err := sb.AlipayServer().OpenWap(u)
		if err != nil {
			s.t.Fatalf("alipay wap open: %v", err)
		}
		if _, err := sb.AlipayServer().Pay(no, ali); err != nil {
			s.t.Fatalf("alipay pay: %v", err)
		}
	}
}

func (s *server) payment(token, code string) map[string]any {
	s.t.Helper()
	r := s.request("GET", "/api/v1/payments/"+code, token, nil)
	if r.Status != 200 {
		s.t.Fatalf("payment %s: %d %s", code, r.Status, r.Body)
	}
	return r.M(s.t)
}

// eventCount counts the log's events of a type about a payment.
func (s *server) eventCount(code, typ string) int {
	s.t.Helper()
	evs, err := s.app.Events().ReadSubject(context.Background(), payments.Subject(code), 0, 1000)
	if err != nil {
		s.t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func fastCallbacks(c *bff.Config) {
	c.SandboxRetryDelays = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
}

// One notice paid through each of the four channels, each ending with an e-receipt.
func TestPaymentJourneyFourChannels(t *testing.T) {
	s := start(t, fastCallbacks)
	me, zhang := s.verifiedCitizen("zhangsan")
	codes := map[string]string{}
	for _, ch := range []string{"wechat_jsapi", "wechat_app", "alipay_app", "alipay_wap"} {
		codes[ch] = s.issueNotice(zhang.IDNumber, zhang.Name)
	}
	r := s.request("GET", "/api/v1/payments?status=unpaid", me.Access, nil)
	var list struct {
		Items []struct {
			ID     string `json:"id"`
			Amount int64  `json:"amount_fen"`
		} `json:"items"`
	}
	r.JSON(t, &list)
	seen := map[string]bool{}
	for _, it := range list.Items {
		seen[it.ID] = true
	}
	for ch, code := range codes {
		if !seen[code] {
			t.Fatalf("notice for %s not in my unpaid list: %s", ch, r.Body)
		}
	}
	for ch, code := range codes {
		p := s.payOrder(me.Access, code, ch, "pay-"+ch)
		if p.Amount != 1000 {
			t.Fatalf("%s: amount %d", ch, p.Amount)
		}
		switch {
		case strings.HasPrefix(ch, "wechat") && p.WeChat == nil,
			ch == "alipay_app" && p.OrderString == "",
			ch == "alipay_wap" && p.PayURL == "":
			t.Fatalf("%s: nothing to pay with: %+v", ch, p)
		}
		s.userPays(ch, p, wechatpay.PayOptions{}, alipay.PayOptions{})
	}
	for ch, code := range codes {
		var got map[string]any
		testenv.WaitFor(t, ch+" paid with an e-receipt", func() bool {
			got = s.payment(me.Access, code)
			return got["status"] == "paid" && got["receipt"] != nil
		})
		paid := got["paid"].(map[string]any)
		if paid["channel"] != ch || paid["amount_fen"].(float64) != 1000 {
			t.Errorf("%s: paid %v", ch, paid)
		}
		receipt := got["receipt"].(map[string]any)
		res, err := http.Get(receipt["url"].(string))
		if err != nil || res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "pdf") {
			t.Errorf("%s: receipt download %v %v", ch, err, res)
		}
		if res != nil {
			res.Body.Close()
		}
		// The non-tax platform booked it.
		if n, _ := s.app.Sandbox().NonTaxServer().NoticeByCode(code); n.Status != "paid" {
			t.Errorf("%s: platform says %s", ch, n.Status)
		}
	}
	// Paying again is refused; a stranger cannot even see it.
	wantError(t, s.request("POST", "/api/v1/payments/"+codes["wechat_app"]+"/pay", me.Access,
		map[string]string{"channel": "alipay_app"}, "Idempotency-Key", "again"), 409, "PAYMENT_ALREADY_PAID")
	other := s.loginWeChat("lisi")
	wantError(t, s.request("GET", "/api/v1/payments/"+codes["wechat_app"], other.Access, nil), 404, "PAYMENT_NOT_FOUND")
}

// A business pays a notice it received on paper, by payment code; switching
// channel closes the first order at its channel.
func TestPayByCodeAndSwitchChannel(t *testing.T) {
	s := start(t, fastCallbacks)
	code := s.issueNotice("91350102MA2XK8L3RP", "福州榕城餐饮管理有限公司")
	clerk := s.loginWeChat("accountant")
	wantError(t, s.request("GET", "/api/v1/payments/lookup?payment_code=123", clerk.Access, nil), 400, "PAYMENT_CODE_INVALID")
	wantError(t, s.request("GET", "/api/v1/payments/"+code, clerk.Access, nil), 404, "PAYMENT_NOT_FOUND")
	r := s.request("GET", "/api/v1/payments/lookup?payment_code="+code, clerk.Access, nil)
	if r.Status != 200 || r.M(t)["payer_kind"] != "company" {
		t.Fatalf("lookup: %d %s", r.Status, r.Body)
	}
	wantError(t, s.request("POST", "/api/v1/payments/"+code+"/pay", clerk.Access, map[string]string{"channel": "wechat_app"}), 400, "IDEMPOTENCY_KEY_REQUIRED")
	wantError(t, s.request("POST", "/api/v1/payments/"+code+"/pay", clerk.Access, map[string]string{"channel": "cash"}, "Idempotency-Key", "k0"), 400, "PAYMENT_CHANNEL_INVALID")

	first := s.payOrder(clerk.Access, code, "wechat_app", "k1")
	if again := s.payOrder(clerk.Access, code, "wechat_app", "k1"); again.OrderID != first.OrderID {
		t.Fatal("a retried request opened a second order")
	}
	second := s.payOrder(clerk.Access, code, "alipay_app", "k2")
	if second.OrderID == first.OrderID {
		t.Fatal("switching channel reused the WeChat order")
	}
	if o, _ := s.app.Sandbox().WeChatPayServer().Order(first.OrderID); o.State != "CLOSED" {
		t.Fatalf("the WeChat order is %s at WeChat Pay", o.State)
	}
	s.userPays("alipay_app", second, wechatpay.PayOptions{}, alipay.PayOptions{})
	testenv.WaitFor(t, "paid", func() bool { return s.payment(clerk.Access, code)["status"] == "paid" })
	d := s.payment(clerk.Access, code)
	orders := d["orders"].([]any)
	if len(orders) != 2 {
		t.Fatalf("orders %v", orders)
	}
}

// Fifty copies of one notify at once count the money once; forged and
// wrong-amount notifies change nothing and are recorded.
func TestPaymentNotifyReplayAndForgery(t *testing.T) {
	s := start(t, fastCallbacks)
	me, zhang := s.verifiedCitizen("zhangsan")
	code := s.issueNotice(zhang.IDNumber, zhang.Name)
	p := s.payOrder(me.Access, code, "wechat_app", "k")
	s.userPays("wechat_app", p, wechatpay.PayOptions{Notify: wechatpay.NotifyDrop}, alipay.PayOptions{})
	var body string
	for _, n := range s.app.Sandbox().WeChatPayServer().Notifies() {
		if n.OutTradeNo == p.OrderID && n.Kind == wechatpay.KindPaid {
			body = n.Body
		}
	}
	if body == "" {
		t.Fatal("no notify recorded")
	}
	// Forged: the amount changed after signing.
	forged := strings.Replace(body, "<total_fee><![CDATA[1000]]></total_fee>", "<total_fee><![CDATA[1]]></total_fee>", 1)
	if forged == body {
		t.Fatalf("notify has no total_fee 1000: %s", body)
	}
	r := s.request("POST", "/api/v1/callbacks/wechatpay/notify", "", forged, "Content-Type", "text/xml")
	if r.Status != 401 || !strings.Contains(string(r.Body), "FAIL") {
		t.Fatalf("forged notify: %d %s", r.Status, r.Body)
	}
	if got := s.payment(me.Access, code); got["status"] != "unpaid" {
		t.Fatalf("forged notify changed the payment: %v", got["status"])
	}
	// An Alipay notify signed by someone else than Alipay.
	form := url.Values{"notify_type": {"trade_status_sync"}, "app_id": {s.app.Sandbox().Alipay().AppID}, "out_trade_no": {p.OrderID},
		"total_amount": {"10.00"}, "trade_status": {"TRADE_SUCCESS"}, "trade_no": {"2026112322001400001"}, "sign_type": {"RSA2"},
		"sign": {"bm90IGFsaXBheQ=="}, "charset": {"utf-8"}, "notify_id": {"n1"}}
	r = s.request("POST", "/api/v1/callbacks/alipay/notify", "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	if r.Status != 401 || string(r.Body) != "fail" {
		t.Fatalf("forged alipay notify: %d %s", r.Status, r.Body)
	}

	var wg sync.WaitGroup
	statuses := make([]int, 50)
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := http.Post(s.base+"/api/v1/callbacks/wechatpay/notify", "text/xml", strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}(i)
	}
	wg.Wait()
	for i, st := range statuses {
		if st != 200 {
			t.Fatalf("copy %d answered %d", i, st)
		}
	}
	// The event rides in the payment's write; the relay appends it to the log once.
	testenv.WaitFor(t, "payment.succeeded in the log", func() bool { return s.eventCount(code, payments.EventSucceeded) > 0 })
	time.Sleep(200 * time.Millisecond) // a second copy would be relayed by now
	if n := s.eventCount(code, payments.EventSucceeded); n != 1 {
		t.Fatalf("%d payment.succeeded events for 50 copies", n)
	}
	if got := s.payment(me.Access, code); got["status"] != "paid" || len(got["orders"].([]any)) != 1 {
		t.Fatalf("payment %v", got)
	}

	// A correctly signed notify with the wrong amount: recorded for review, not paid.
	code2 := s.issueNotice(zhang.IDNumber, zhang.Name)
	p2 := s.payOrder(me.Access, code2, "wechat_jsapi", "k2")
	s.userPays("wechat_jsapi", p2, wechatpay.PayOptions{AmountFen: 999}, alipay.PayOptions{})
	admin := s.admin()
	var anomalies struct {
		Items []map[string]any `json:"items"`
	}
	testenv.WaitFor(t, "the wrong amount is flagged", func() bool {
		s.request("GET", "/api/v1/admin/payments/anomalies", admin, nil).JSON(t, &anomalies)
		for _, a := range anomalies.Items {
			if a["kind"] == "amount_mismatch" && a["order_id"] == p2.OrderID {
				return true
			}
		}
		return false
	})
	kinds := map[any]int{}
	for _, a := range anomalies.Items {
		kinds[a["kind"]]++
	}
	if kinds["forged_notify"] != 2 { // the WeChat one and the Alipay one
		t.Fatalf("anomalies %v", kinds)
	}
	if got := s.payment(me.Access, code2); got["status"] != "unpaid" {
		t.Fatalf("wrong amount marked paid: %v", got["status"])
	}
}

// Refunds: partial, then the rest; never more than paid; idempotent.
func TestRefundThroughTheChannel(t *testing.T) {
	s := start(t, fastCallbacks)
	me, zhang := s.verifiedCitizen("zhangsan")
	admin := s.admin()
	for _, ch := range []string{"wechat_app", "alipay_app"} {
		code := s.issueNotice(zhang.IDNumber, zhang.Name)
		s.userPays(ch, s.payOrder(me.Access, code, ch, "k-"+ch), wechatpay.PayOptions{}, alipay.PayOptions{})
		testenv.WaitFor(t, "paid", func() bool { return s.payment(me.Access, code)["status"] == "paid" })

		refund := func(amount int64, key string) *response {
			return s.request("POST", "/api/v1/admin/payments/"+code+"/refund", admin,
				map[string]any{"amount_fen": amount, "reason": "多收工本费"}, "Idempotency-Key", ch+"-"+key)
		}
		wantError(t, refund(1001, "too-much"), 400, "PAYMENT_REFUND_AMOUNT_INVALID")
		wantError(t, s.request("POST", "/api/v1/admin/payments/"+code+"/refund", me.Access,
			map[string]any{"amount_fen": 100, "reason": "x"}, "Idempotency-Key", "citizen"), 403, "AUTH_FORBIDDEN")
		r1 := refund(400, "r1")
		if r1.Status != 202 {
			t.Fatalf("%s refund: %d %s", ch, r1.Status, r1.Body)
		}
		if again := refund(400, "r1"); again.M(t)["id"] != r1.M(t)["id"] || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("a retried refund is another refund")
		}
		wantError(t, refund(300, "r1"), 422, "IDEMPOTENCY_KEY_REUSED")
		wantError(t, refund(700, "r2"), 400, "PAYMENT_REFUND_AMOUNT_INVALID")
		if r := refund(600, "r3"); r.Status != 202 {
			t.Fatalf("rest: %d %s", r.Status, r.Body)
		}
		testenv.WaitFor(t, ch+" refunded", func() bool {
			s.app.Sandbox().WeChatPayServer().Advance() // WeChat settles refunds later and notifies
			return s.payment(me.Access, code)["status"] == "refunded"
		})
		if r := s.request("GET", "/api/v1/admin/payments/"+code, admin, nil); r.Status != 200 || len(r.M(t)["refunds"].([]any)) != 2 {
			t.Fatalf("admin view: %d %s", r.Status, r.Body)
		}
		d := s.payment(me.Access, code)
		if d["refunded_fen"].(float64) != 1000 || len(d["refunds"].([]any)) != 2 {
			t.Fatalf("%s: %v", ch, d)
		}
	}
}

// A day with a lost notify, a notice paid twice (a close that raced the
// payer at WeChat Pay) and an amount mismatch, reconciled after the
// channels publish the day's bills.
func TestReconciliationDay(t *testing.T) {
	clock := fake.NewManualClock(time.Now())
	s := start(t, fastCallbacks, func(c *bff.Config) { c.SandboxClock = clock.Now })
	me, zhang := s.verifiedCitizen("zhangsan")
	admin := s.admin()
	day := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")

	okCode := s.issueNotice(zhang.IDNumber, zhang.Name)
	okPay := s.payOrder(me.Access, okCode, "wechat_app", "ok")
	s.userPays("wechat_app", okPay, wechatpay.PayOptions{}, alipay.PayOptions{})

	lostCode := s.issueNotice(zhang.IDNumber, zhang.Name)
	lost := s.payOrder(me.Access, lostCode, "wechat_jsapi", "lost")
	s.userPays("wechat_jsapi", lost, wechatpay.PayOptions{Notify: wechatpay.NotifyDrop}, alipay.PayOptions{})

	mismCode := s.issueNotice(zhang.IDNumber, zhang.Name)
	mism := s.payOrder(me.Access, mismCode, "alipay_app", "mism")
	s.userPays("alipay_app", mism, wechatpay.PayOptions{}, alipay.PayOptions{Amount: "9.99"})

	dupCode := s.issueNotice(zhang.IDNumber, zhang.Name)
	closed := s.payOrder(me.Access, dupCode, "wechat_app", "s1")
	wap := s.payOrder(me.Access, dupCode, "alipay_wap", "s2") // closes the WeChat order at WeChat Pay
	s.userPays("alipay_wap", wap, wechatpay.PayOptions{}, alipay.PayOptions{})
	testenv.WaitFor(t, "the notice paid by Alipay", func() bool { return s.payment(me.Access, dupCode)["status"] == "paid" })
	// The payer was still in WeChat's cashier: the close raced the payment.
	if err := s.app.Sandbox().WeChatPayServer().Surplus(closed.OrderID, wechatpay.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the payments confirmed and the second one refunded", func() bool {
		s.app.Sandbox().WeChatPayServer().Advance() // WeChat settles refunds later
		d := s.payment(me.Access, dupCode)
		refunds, _ := d["refunds"].([]any)
		return s.payment(me.Access, okCode)["receipt"] != nil && d["receipt"] != nil &&
			len(refunds) == 1 && refunds[0].(map[string]any)["status"] == "succeeded"
	})
	if got := s.payment(me.Access, lostCode); got["status"] != "unpaid" {
		t.Fatalf("the lost notify's payment is %v before reconciliation", got["status"])
	}

	wantError(t, s.request("GET", "/api/v1/admin/reconciliation?date="+day, admin, nil), 404, "RECONCILIATION_NOT_FOUND")
	wantError(t, s.request("POST", "/api/v1/admin/reconciliation/run?date=2026-13-01", admin, nil), 400, "PAYMENT_DATE_INVALID")
	clock.Advance(36 * time.Hour) // the channels publish the day's bills the next morning
	r := s.request("POST", "/api/v1/admin/reconciliation/run?date="+day, admin, nil)
	if r.Status != 200 {
		t.Fatalf("run: %d %s", r.Status, r.Body)
	}
	var rep struct {
		Complete    bool `json:"complete"`
		NeedsPerson int  `json:"needs_person"`
		Lines       []struct {
			Kind        string `json:"kind"`
			OutTradeNo  string `json:"out_trade_no"`
			OutRefundNo string `json:"out_refund_no"`
			Action      string `json:"action"`
		} `json:"lines"`
	}
	r.JSON(t, &rep)
	got := map[string]string{}
	for _, l := range rep.Lines {
		got[l.OutTradeNo+"/"+l.OutRefundNo] = l.Kind + "/" + l.Action
	}
	dupRefund := s.payment(me.Access, dupCode)["refunds"].([]any)[0].(map[string]any)["id"].(string)
	want := map[string]string{
		okPay.OrderID + "/":              "matched/none",
		lost.OrderID + "/":               "matched/auto_fixed",
		mism.OrderID + "/":               "amount_mismatch/needs_person",
		wap.OrderID + "/":                "matched/none",
		closed.OrderID + "/":             "duplicate/auto_fixed",
		closed.OrderID + "/" + dupRefund: "refund_matched/none",
	}
	for order, w := range want {
		if got[order] != w {
			t.Errorf("%s: %q, want %q", order, got[order], w)
		}
	}
	if !rep.Complete || len(rep.Lines) != len(want) || rep.NeedsPerson != 1 {
		t.Fatalf("report %s", r.Body)
	}
	if got := s.payment(me.Access, lostCode); got["status"] != "paid" {
		t.Fatalf("lost notify not repaired: %v", got["status"])
	}
	if r := s.request("GET", "/api/v1/admin/reconciliation?date="+day, admin, nil); r.Status != 200 {
		t.Fatalf("stored report: %d", r.Status)
	}
}

// A fee issued for a case shows on the case and in the hotline's view of it.
func TestCaseShowsItsPayments(t *testing.T) {
	s := start(t, fastCallbacks)
	me, id, number := s.submittedCase("zhangsan")
	zhang := sbprovince.DemoPeople[0]
	n, err := s.app.Sandbox().NonTaxServer().Issue(nontax.IssueRequest{PayerID: zhang.IDNumber, PayerName: zhang.Name,
		Items: []nontax.IssueItem{{Code: "103040300101"}}, CaseNumber: number})
	if err != nil {
		t.Fatal(err)
	}
	s.request("GET", "/api/v1/payments", me.Access, nil) // the phone refreshes its notices
	// The case's file reads its index, which the notice's event fills a moment later.
	c := s.waitCase(me.Access, id, "the notice in the case's file", func(c map[string]any) bool {
		return len(c["links"].(map[string]any)["payments"].([]any)) > 0
	})
	links := c["links"].(map[string]any)["payments"].([]any)
	if len(links) != 1 || links[0] != n.PaymentCode {
		t.Fatalf("case links %v", c["links"])
	}
	if ps := c["payments"].([]any); ps[0].(map[string]any)["status"] != "unpaid" {
		t.Fatalf("case payments %v", ps)
	}
}
