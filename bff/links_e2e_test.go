package bff_test

import (
	"fmt"
	"strings"
	"testing"

	"zwfw/identity"
	"zwfw/pii"
	"zwfw/platform/testenv"
)

// smsLogin signs in to the app with an SMS code sent to phone.
func (s *server) smsLogin(phone string) session {
	s.t.Helper()
	if r := s.request("POST", "/api/v1/auth/sms/send", "", map[string]string{"phone": phone}); r.Status != 202 {
		s.t.Fatalf("sms send: %d %s", r.Status, r.Body)
	}
	r := s.request("POST", "/api/v1/auth/sms/verify", "", map[string]string{"phone": phone, "code": s.lastSMSCode(phone)})
	if r.Status != 200 {
		s.t.Fatalf("sms verify: %d %s", r.Status, r.Body)
	}
	var v struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	r.JSON(s.t, &v)
	return session{Access: v.AccessToken, UserID: v.User.ID}
}

// payerWithNotice verifies the user as the i-th made-up person, turns quiet
// hours off (tests run at any hour), issues them a notice and lets zwfw see
// it; it returns the payment code.
func (s *server) payerWithNotice(token string, i int) string {
	s.t.Helper()
	first17 := fmt.Sprintf("350102199002%02d%03d", i/1000+1, i%1000)
	check, _ := pii.IDNumberCheckChar(first17)
	id := first17 + string(check)
	if r := s.request("POST", "/api/v1/me/realname", token, map[string]string{"name": "测试链接", "id_number": id}); r.Status != 200 {
		s.t.Fatalf("realname: %d %s", r.Status, r.Body)
	}
	if r := s.request("PUT", "/api/v1/me/notification-settings", token, map[string]any{
		"channels":    map[string][]string{"payment": {"wechat", "push", "sms"}},
		"quiet_hours": map[string]any{"enabled": false, "start": "22:00", "end": "08:00"}}); r.Status != 200 {
		s.t.Fatalf("settings: %d %s", r.Status, r.Body)
	}
	code := s.issueNotice(id, "测试链接")
	s.request("GET", "/api/v1/payments", token, nil) // zwfw learns of the notice: its reminder follows
	return code
}

// A reminder's link comes in the form of the channel that carries it: the
// WeChat card opens the mini-program page, the app push the app scheme
// URL, the SMS the H5 URL; the inbox shows it in the caller's form.
func TestReminderLinksPerChannel(t *testing.T) {
	s := start(t, fastCallbacks)
	sb := s.app.Sandbox()

	// The mini-program user with a consent: WeChat.
	wx := s.loginWeChat("linkwx")
	u, err := s.app.Identity().Me(t.Context(), &identity.Principal{UserID: wx.UserID})
	if err != nil {
		t.Fatal(err)
	}
	openID := u.WeChatOpenID
	sb.WeChatServer().GrantConsent(openID, "tmpl_payment_notice", 1)
	if r := s.request("POST", "/api/v1/me/subscriptions", wx.Access, map[string]any{"template_ids": []string{"tmpl_payment_notice"},
		"results": map[string]string{"tmpl_payment_notice": "accept"}}); r.Status != 200 {
		t.Fatalf("subscriptions: %d %s", r.Status, r.Body)
	}
	wxCode := s.payerWithNotice(wx.Access, 1)
	testenv.WaitFor(t, "the WeChat card", func() bool { return len(sb.WeChatServer().Messages(openID)) == 1 })
	if page := sb.WeChatServer().Messages(openID)[0].Page; page != "pages/pay/detail?code="+wxCode {
		t.Fatalf("the WeChat card opens %q", page)
	}

	// The app user with the app installed: push.
	app := s.smsLogin("13900139181")
	reg := sb.PushServer().RegisterDevice("android")
	if r := s.request("POST", "/api/v1/me/devices", app.Access, map[string]string{"registration_id": reg, "platform": "android"}); r.Status != 201 {
		t.Fatalf("device: %d %s", r.Status, r.Body)
	}
	appCode := s.payerWithNotice(app.Access, 2)
	testenv.WaitFor(t, "the app push", func() bool { return len(sb.PushServer().Messages(reg)) == 1 })
	if ex := sb.PushServer().Messages(reg)[0].Extras; ex["url"] != "zwfw://payment/"+appCode || ex["target"] != "payment" || ex["target_id"] != appCode {
		t.Fatalf("the push carries %v", ex)
	}

	// The app user without the app installed: SMS, for a notice is important.
	sms := s.smsLogin("13900139182")
	smsCode := s.payerWithNotice(sms.Access, 3)
	want := "http://localhost:5173/pay/" + smsCode
	testenv.WaitFor(t, "the SMS", func() bool {
		for _, m := range sb.SMSGateway().Messages("13900139182") {
			if strings.Contains(m.Content, want) {
				return true
			}
		}
		return false
	})

	// The inbox shows each message's link in the caller's client form.
	for _, c := range []struct {
		token, code, client, url string
	}{
		{wx.Access, wxCode, "miniprogram", "pages/pay/detail?code=" + wxCode},
		{app.Access, appCode, "app", "zwfw://payment/" + appCode},
		{sms.Access, smsCode, "h5", want},
	} {
		var inbox struct {
			Items []struct {
				Link linkJSON `json:"link"`
			} `json:"items"`
		}
		s.request("GET", "/api/v1/me/notifications", c.token, nil, "X-Client", c.client).JSON(t, &inbox)
		if len(inbox.Items) != 1 || inbox.Items[0].Link.URL != c.url || inbox.Items[0].Link.Client != c.client {
			t.Fatalf("inbox for %s: %+v", c.client, inbox.Items)
		}
	}
	// Without X-Client the sign-in decides: SMS means the app.
	var inbox struct {
		Items []struct {
			Link linkJSON `json:"link"`
		} `json:"items"`
	}
	s.request("GET", "/api/v1/me/notifications", app.Access, nil).JSON(t, &inbox)
	if len(inbox.Items) != 1 || inbox.Items[0].Link.Client != "app" {
		t.Fatalf("an SMS sign-in's inbox: %+v", inbox.Items)
	}
}
