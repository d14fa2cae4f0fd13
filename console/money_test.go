package console_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zwfw/identity"
	"zwfw/platform/testenv"
	"zwfw/platform/workdays"
	"zwfw/sandbox/alipay"
	"zwfw/sandbox/nontax"
	"zwfw/sandbox/wechatpay"
)

// payments seeds a day of payments through the API and the sandbox's
// wallets: one paid by WeChat Pay, one whose WeChat notify was lost (the
// reconciliation repairs it), one Alipay paid with another amount (an
// anomaly waiting for a person). It returns the codes and their order ids.
func (z *zwfw) paymentsDay(token string, payerID, payerName string) (codes, orders map[string]string) {
	z.t.Helper()
	sb := z.app.Sandbox()
	codes, orders = map[string]string{}, map[string]string{}
	for _, k := range []struct{ name, channel string }{{"ok", "wechat_app"}, {"lost", "wechat_jsapi"}, {"mism", "alipay_app"}} {
		n, err := sb.NonTaxServer().Issue(nontax.IssueRequest{PayerID: payerID, PayerName: payerName, Items: []nontax.IssueItem{{Code: "103040300101"}}})
		if err != nil {
			z.t.Fatal(err)
		}
		status, p := z.api("POST", "/api/v1/payments/"+n.PaymentCode+"/pay", token, map[string]string{"channel": k.channel}, "Idempotency-Key", "pay-"+k.name)
		if status != 200 {
			z.t.Fatalf("pay %s: %d %v", k.name, status, p)
		}
		codes[k.name], orders[k.name] = n.PaymentCode, p["order_id"].(string)
		switch k.name {
		case "ok", "lost":
			params := map[string]string{}
			for key, v := range p["wechat_params"].(map[string]any) {
				params[key], _ = v.(string)
			}
			opts := wechatpay.PayOptions{}
			if k.name == "lost" {
				opts.Notify = wechatpay.NotifyDrop
			}
			if _, err := sb.WeChatPayServer().PayParams(params, opts); err != nil {
				z.t.Fatalf("wechat pay: %v", err)
			}
		case "mism":
			no, err := sb.AlipayServer().Open(p["alipay_order_string"].(string))
			if err != nil {
				z.t.Fatal(err)
			}
			if _, err := sb.AlipayServer().Pay(no, alipay.PayOptions{Amount: "9.99"}); err != nil {
				z.t.Fatal(err)
			}
		}
	}
	testenv.WaitFor(z.t, "the WeChat payment booked", func() bool {
		_, m := z.api("GET", "/api/v1/payments/"+codes["ok"], token, nil)
		return m["status"] == "paid"
	})
	return codes, orders
}

// An admin reconciles the day from the money page: the lost notify shows
// as fixed automatically, the Alipay amount as waiting for a person (and
// as an anomaly). From the payment's page the admin refunds 4 yuan; the
// same form posted twice at once, and once more by the browser, makes one
// refund, and all three posts show that refund. A supervisor sees the
// money pages but no refund form, and cannot post one.
func TestMoneyReconciliationAndRefundOnceInChromium(t *testing.T) {
	z := start(t)
	token, person := z.citizen("payer", 0)
	codes, orders := z.paymentsDay(token, person.IDNumber, person.Name)
	z.staff("admin71", "Admin-pass-2026", identity.RoleAdmin)
	z.staff("jiancha71", "Jiancha-pass-2026", identity.RoleSupervisor)
	adminAPI := z.loginStaffAPI("admin71", "Admin-pass-2026")
	testenv.WaitFor(t, "the amount mismatch recorded", func() bool {
		_, m := z.api("GET", "/api/v1/admin/payments/anomalies", adminAPI, nil)
		items, _ := m["items"].([]any)
		return len(items) > 0
	})
	// The day the WeChat payment was made (Asia/Shanghai), not the test's
	// "now": a run across midnight reconciles the right day.
	_, paid := z.api("GET", "/api/v1/payments/"+codes["ok"], token, nil)
	paidAt, err := time.Parse(time.RFC3339, paid["paid"].(map[string]any)["paid_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	today := workdays.DateOf(paidAt)
	z.app.Sandbox().CloseDay(today.Start()) // the channels publish the day's bills

	b := newBrowser(t)
	admin := b.user()
	admin.navigate(z.base + "/console/money")
	if status := admin.login("admin71", "Admin-pass-2026"); status != 200 || !strings.HasSuffix(admin.location(), "/console/money") {
		t.Fatalf("admin login: %d at %s", status, admin.location())
	}
	if r := admin.text("#report"); !strings.Contains(r, "尚未对账") {
		t.Fatalf("before the run: %q", r)
	}
	resp := admin.submit(chromedp.SetValue(chromedp.ID("date"), today.String()), chromedp.Click(chromedp.ID("reconcile")))
	if resp.Status != 200 || !strings.Contains(admin.text(".notice"), "已完成 "+today.String()+" 的对账") {
		t.Fatalf("reconcile: %d %s", resp.Status, admin.location())
	}
	needs, fixed, matched := admin.text("#needs-person"), admin.text("#auto-fixed"), admin.text("#matched")
	if !strings.Contains(needs, orders["mism"]) || !strings.Contains(needs, "金额不符") {
		t.Fatalf("waiting for a person: %q", needs)
	}
	if !strings.Contains(fixed, orders["lost"]) || strings.Contains(fixed, orders["mism"]) {
		t.Fatalf("fixed automatically: %q", fixed)
	}
	if !strings.Contains(matched, orders["ok"]) {
		t.Fatalf("matched: %q", matched)
	}
	if an := admin.text("#anomalies"); !strings.Contains(an, codes["mism"]) || !strings.Contains(an, "金额不符") {
		t.Fatalf("anomalies: %q", an)
	}
	if days := admin.text("#days"); !strings.Contains(days, today.String()) || !strings.Contains(days, "1 待处理") {
		t.Fatalf("the days: %q", days)
	}
	admin.shot("40-money")

	// The payment's page, from the look-up by code.
	resp = admin.submit(chromedp.SendKeys(chromedp.ID("payment"), codes["ok"]), chromedp.Click(chromedp.ID("open-payment")))
	if resp.Status != 200 || !strings.HasSuffix(admin.location(), "/console/money/payments/"+codes["ok"]) {
		t.Fatalf("open the payment: %d at %s", resp.Status, admin.location())
	}
	if page := admin.html(); strings.Contains(page, person.IDNumber) || strings.Contains(page, person.Name) {
		t.Fatal("the payment page shows the payer in full")
	}
	admin.do(chromedp.SendKeys(chromedp.ID("amount"), "4.00"), chromedp.SendKeys(chromedp.ID("reason"), "多收工本费"))
	// Two posts of the very same form at once (a double submit that got
	// past the page's script), and then the browser's own.
	twice, err := chromedp.Run(admin.ctx, chromedp.Evaluate[[]string](`(async () => {
		const f = document.getElementById('refund-form');
		const body = new URLSearchParams(new FormData(f));
		const rs = await Promise.all([1, 2].map(() => fetch(f.action, {method: 'POST', body: body, credentials: 'same-origin'})));
		return rs.map(r => r.status + ' ' + r.url);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if len(twice) != 2 || twice[0] != twice[1] || !strings.HasPrefix(twice[0], "200 ") || !strings.Contains(twice[0], "?refund=") {
		t.Fatalf("two posts of one form: %v", twice)
	}
	refundID := twice[0][strings.Index(twice[0], "?refund=")+len("?refund="):]
	resp = admin.submit(chromedp.Click(chromedp.ID("do-refund")))
	if resp.Status != 200 || !strings.HasSuffix(admin.location(), "?refund="+url.QueryEscape(refundID)) {
		t.Fatalf("the browser's post: %d at %s, want refund %s", resp.Status, admin.location(), refundID)
	}
	if n := admin.text(".notice"); !strings.Contains(n, refundID) {
		t.Fatalf("the result: %q", n)
	}
	if rows := admin.text("#refunds"); !strings.Contains(rows, refundID) || !strings.Contains(rows, "4.00") {
		t.Fatalf("refunds: %q", rows)
	}
	admin.shot("40-money-refund")
	status, detail := z.api("GET", "/api/v1/admin/payments/"+codes["ok"], adminAPI, nil)
	refunds, _ := detail["refunds"].([]any)
	if status != 200 || len(refunds) != 1 || refunds[0].(map[string]any)["amount_fen"].(float64) != 400 {
		t.Fatalf("the payments service holds %d refunds (want one of 400 fen): %d %v", len(refunds), status, detail["refunds"])
	}

	// A refused refund changes nothing and says why, in Chinese, on the form.
	resp = admin.submit(chromedp.SendKeys(chromedp.ID("amount"), "100"), chromedp.SendKeys(chromedp.ID("reason"), "测试"), chromedp.Click(chromedp.ID("do-refund")))
	if resp.Status != 400 || !strings.Contains(admin.text(".problem"), "退费金额必须大于零且不超过可退金额") || !strings.Contains(admin.text(".problem"), "6.00") {
		t.Fatalf("too much: %d %q", resp.Status, admin.text(".problem"))
	}

	// A supervisor reads the money pages but does not refund.
	sup := b.user()
	sup.navigate(z.base + "/console/money/payments/" + codes["ok"])
	if status := sup.login("jiancha71", "Jiancha-pass-2026"); status != 200 || strings.Contains(sup.html(), "refund-form") {
		t.Fatalf("supervisor's payment page: %d", status)
	}
	bl := z.browserless()
	bl.login("jiancha71", "Jiancha-pass-2026")
	p := bl.get("/console/money/payments/" + codes["ok"])
	if post := bl.do("POST", "/console/money/payments/"+codes["ok"]+"/refund", url.Values{"_csrf": {p.csrf(t)}, "idempotency_key": {"k1"},
		"amount": {"1"}, "reason": {"x"}}); post.Status != 403 {
		t.Fatalf("a supervisor's refund post: %d", post.Status)
	}
	if _, detail := z.api("GET", "/api/v1/admin/payments/"+codes["ok"], adminAPI, nil); len(detail["refunds"].([]any)) != 1 {
		t.Fatalf("refunds after the refused posts: %v", detail["refunds"])
	}
}
