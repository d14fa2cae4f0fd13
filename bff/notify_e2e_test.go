package bff_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"zwfw/identity"
	"zwfw/pii"
	"zwfw/platform/testenv"
	"zwfw/sandbox/alipay"
	sbprovince "zwfw/sandbox/province"
	"zwfw/sandbox/wechatpay"
)

// Reminders for a payment reach the phone once each: the first by a WeChat
// subscribe message (consent consumed), the next by app push once the one
// consent is used, and every one lands in the inbox.
func TestReminderJourney(t *testing.T) {
	s := start(t, fastCallbacks)
	// A citizen without the sandbox's demo notices, so that only this test's notice is theirs.
	s.citizen(7)
	me := s.loginWeChat("rush0007")
	first17 := fmt.Sprintf("350102199001%02d%03d", 1, 7)
	check, _ := pii.IDNumberCheckChar(first17)
	idNumber := first17 + string(check)
	sb := s.app.Sandbox()
	u, err := s.app.Identity().Me(context.Background(), &identity.Principal{UserID: me.UserID})
	if err != nil {
		t.Fatal(err)
	}
	openID := u.WeChatOpenID

	// Night-time in China would hold non-urgent messages until 08:00: this
	// user turned quiet hours off.
	r := s.request("PUT", "/api/v1/me/notification-settings", me.Access, map[string]any{
		"channels":    map[string][]string{"payment": {"wechat", "push", "sms"}},
		"quiet_hours": map[string]any{"enabled": false, "start": "22:00", "end": "08:00"}})
	if r.Status != 200 {
		t.Fatalf("settings: %d %s", r.Status, r.Body)
	}
	if r := s.request("GET", "/api/v1/me/notification-settings", me.Access, nil); r.Status != 200 {
		t.Fatalf("get settings: %d", r.Status)
	}
	// The mini-program asked for one consent to payment notices; the user accepted.
	if s.request("GET", "/api/v1/me/subscriptions", me.Access, nil).Status != 200 {
		t.Fatal("templates")
	}
	sb.WeChatServer().GrantConsent(openID, "tmpl_payment_notice", 1)
	sb.WeChatServer().GrantConsent(openID, "tmpl_payment_result", 1)
	r = s.request("POST", "/api/v1/me/subscriptions", me.Access, map[string]any{
		"template_ids": []string{"tmpl_payment_notice", "tmpl_payment_result"},
		"results":      map[string]string{"tmpl_payment_notice": "accept", "tmpl_payment_result": "accept"}})
	if r.Status != 200 {
		t.Fatalf("subscriptions: %d %s", r.Status, r.Body)
	}
	// The app is installed too.
	reg := sb.PushServer().RegisterDevice("android")
	if r := s.request("POST", "/api/v1/me/devices", me.Access, map[string]string{"registration_id": reg, "platform": "android"}); r.Status != 201 {
		t.Fatalf("device: %d %s", r.Status, r.Body)
	}

	code := s.issueNotice(idNumber, "测试")
	s.request("GET", "/api/v1/payments", me.Access, nil) // zwfw learns of the notice: payment.notice_issued
	testenv.WaitFor(t, "the payment notice by WeChat", func() bool { return len(sb.WeChatServer().Messages(openID)) == 1 })
	if m := sb.WeChatServer().Messages(openID)[0]; m.TemplateID != "tmpl_payment_notice" || !strings.Contains(m.Data["character_string1"], code) {
		t.Fatalf("wechat message %+v", m)
	}
	// Paid and receipt: the result template has one consent left, so one of
	// the two goes by WeChat and the other by app push.
	p := s.payOrder(me.Access, code, "wechat_jsapi", "k")
	s.userPays("wechat_jsapi", p, wechatpay.PayOptions{}, alipay.PayOptions{})
	testenv.WaitFor(t, "paid and receipt reminders", func() bool {
		return len(sb.WeChatServer().Messages(openID)) == 2 && len(sb.PushServer().Messages(reg)) >= 1
	})
	var inbox struct {
		Items []struct {
			ID      string `json:"id"`
			Rule    string `json:"rule"`
			Channel string `json:"channel"`
			Read    bool   `json:"read"`
		} `json:"items"`
	}
	testenv.WaitFor(t, "three messages in the inbox, each sent", func() bool {
		s.request("GET", "/api/v1/me/notifications", me.Access, nil).JSON(t, &inbox)
		sent := 0
		for _, it := range inbox.Items {
			if it.Channel != "" {
				sent++
			}
		}
		return len(inbox.Items) == 3 && sent == 3
	})
	rules := map[string]string{}
	for _, it := range inbox.Items {
		rules[it.Rule] = it.Channel
	}
	// Paid and receipt share one template: whichever goes first uses its one
	// consent, the other goes by push.
	paidReceipt := rules["payment.paid"] + "+" + rules["payment.receipt"]
	if rules["payment.notice"] != "wechat" || (paidReceipt != "wechat+push" && paidReceipt != "push+wechat") {
		t.Fatalf("channels %v", rules)
	}
	if c := sb.WeChatServer().Consents(openID); len(c) > 0 {
		for _, x := range c {
			if x.Remaining != 0 {
				t.Fatalf("consent not consumed: %+v", c)
			}
		}
	}
	if r := s.request("POST", "/api/v1/me/notifications/"+inbox.Items[0].ID+"/read", me.Access, nil); r.Status != 200 || r.M(t)["read"] != true {
		t.Fatalf("read: %d %s", r.Status, r.Body)
	}
	// Events replayed (a consumer restart re-reads them) send nothing more.
	time.Sleep(300 * time.Millisecond)
	if n := len(sb.WeChatServer().Messages(openID)); n != 2 {
		t.Fatalf("%d WeChat messages", n)
	}
	if r := s.request("GET", "/api/v1/admin/notifications/failed", s.admin(), nil); r.Status != 200 {
		t.Fatalf("failed list: %d %s", r.Status, r.Body)
	}
}

// A booking, a case with a supplement request and a shipment each remind
// once: without WeChat consent they go by app push, one push per message,
// and each is in the inbox once.
func TestRemindersForBookingCaseAndShipment(t *testing.T) {
	s := start(t, fastCallbacks)
	fake := s.app.Sandbox().ProvinceServer()
	admin := s.admin()
	item := bookableItem(t, fake, "fz-gl")
	s.configureHall(admin, "fz-gl", item, 2)
	token, caseID, number := s.pickupCase("zhangsan")
	if r := s.request("PUT", "/api/v1/me/notification-settings", token, map[string]any{
		"channels": map[string][]string{}, "quiet_hours": map[string]any{"enabled": false, "start": "22:00", "end": "08:00"}}); r.Status != 200 {
		t.Fatalf("settings: %d %s", r.Status, r.Body)
	}
	reg := s.app.Sandbox().PushServer().RegisterDevice("ios")
	if r := s.request("POST", "/api/v1/me/devices", token, map[string]string{"registration_id": reg, "platform": "ios"}); r.Status != 201 {
		t.Fatalf("device: %d %s", r.Status, r.Body)
	}

	free := bookable(t, s.slots("fz-gl", item, time.Now().Format("2006-01-02"), 7), 1)
	if r := s.request("POST", "/api/v1/bookings", token, map[string]string{"hall_id": "fz-gl", "item_code": item, "slot_start": free[0].Start},
		"Idempotency-Key", "book-0001"); r.Status != 201 {
		t.Fatalf("book: %d %s", r.Status, r.Body)
	}
	advance(t, fake, number, sbprovince.Advance{Status: "accepted"})
	// The province's callbacks may overtake each other; a later status wins
	// and the earlier one is never announced, so wait for this one first.
	s.waitCase(token, caseID, "accepted", statusIs("accepted"))
	g := mailItem(t, fake)
	advance(t, fake, number, sbprovince.Advance{Status: "supplement_requested", Note: "身份证复印件不清晰", Materials: []string{g.Materials[0].ID}})
	sh := s.bookPickup(token, caseID, "ship")
	if _, err := s.app.Sandbox().CourierServer().Advance(sh.WaybillNumber, 1); err != nil {
		t.Fatal(err)
	}

	want := []string{"booking.confirmed", "case.accepted", "case.supplement", "shipment.picked_up"}
	count := func() map[string]int {
		var inbox struct {
			Items []struct {
				Rule string `json:"rule"`
			} `json:"items"`
		}
		s.request("GET", "/api/v1/me/notifications", token, nil).JSON(t, &inbox)
		got := map[string]int{}
		for _, it := range inbox.Items {
			got[it.Rule]++
		}
		return got
	}
	// Polled by hand with a long deadline: under the whole suite on 2 cores
	// the reminder jobs queue behind everything else.
	var last map[string]int
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		last = count()
		missing := 0
		for _, r := range want {
			if last[r] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reminders in the inbox: %v, want each of %v", last, want)
		}
	}
	time.Sleep(300 * time.Millisecond) // duplicates, if any, would arrive by now
	for r, n := range count() {
		if n != 1 {
			t.Errorf("rule %s: %d messages", r, n)
		}
	}
	pushed := map[string]int{}
	for _, m := range s.app.Sandbox().PushServer().Messages(reg) {
		pushed[m.Title]++
	}
	total := 0
	for title, n := range pushed {
		if n != 1 {
			t.Errorf("push %q sent %d times", title, n)
		}
		total += n
	}
	if total != len(count()) {
		t.Fatalf("pushes %v for inbox %v", pushed, count())
	}
}
