package console_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zwfw/cases"
	"zwfw/identity"
	"zwfw/notify"
	"zwfw/platform/testenv"
	"zwfw/platform/workdays"
)

// daySlots is the citizen API's slots of item at hall on day: how many, and their length.
func (z *zwfw) daySlots(hall, item string, day workdays.Date) (n int, length time.Duration) {
	z.t.Helper()
	status, m := z.api("GET", fmt.Sprintf("/api/v1/halls/%s/slots?item_code=%s&from=%s&days=1", hall, item, day), "", nil)
	if status != 200 {
		z.t.Fatalf("slots: %d %v", status, m)
	}
	slots, _ := m["slots"].([]any)
	for _, s := range slots {
		sl := s.(map[string]any)
		start, _ := time.Parse(time.RFC3339, sl["start"].(string))
		end, _ := time.Parse(time.RFC3339, sl["end"].(string))
		length = end.Sub(start)
	}
	return len(slots), length
}

// An admin changes a hall's slot length (a wrong one is refused in
// Chinese on the form), adds a closure, makes a working day a holiday and
// takes it back; the citizen API's slots follow each change.
func TestAdminHallsAndCalendarInChromium(t *testing.T) {
	z := start(t)
	item := z.bookableItem("fz-gl")
	z.configureHall("fz-gl", item)
	day := z.nextWorkday("fz-gl", item)
	before, length := z.daySlots("fz-gl", item, day)
	if before == 0 || length != 30*time.Minute {
		t.Fatalf("before: %d slots of %v", before, length)
	}
	z.staff("admin72", "Admin-pass-2026", identity.RoleAdmin)

	b := newBrowser(t)
	admin := b.user()
	admin.navigate(z.base + "/console/admin/halls?hall=fz-gl")
	if status := admin.login("admin72", "Admin-pass-2026"); status != 200 || !strings.Contains(admin.location(), "/console/admin/halls") {
		t.Fatalf("admin login: %d at %s", status, admin.location())
	}
	if nav := admin.text(".nav"); !strings.Contains(nav, "大厅配置") || !strings.Contains(nav, "节假日调整") {
		t.Fatalf("the admin's navigation: %q", nav)
	}
	resp := admin.submit(chromedp.SetValue(chromedp.ID("slot_minutes"), "3"), chromedp.Click(chromedp.ID("save-hall")))
	if resp.Status != 400 || !strings.Contains(admin.text("#hall-form"), "时段长度应在 5 到 240 分钟之间") {
		t.Fatalf("a 3-minute slot: %d %q", resp.Status, admin.text("#hall-form"))
	}
	resp = admin.submit(chromedp.SetValue(chromedp.ID("slot_minutes"), "60"), chromedp.SetValue(chromedp.ID("w0_capacity"), "很多"), chromedp.Click(chromedp.ID("save-hall")))
	if resp.Status != 400 || !strings.Contains(admin.text("#windows"), "每时段可约人数应为整数") {
		t.Fatalf("a capacity in words: %d %q", resp.Status, admin.text("#windows"))
	}
	resp = admin.submit(chromedp.SetValue(chromedp.ID("slot_minutes"), "60"), chromedp.SetValue(chromedp.ID("w0_capacity"), "4"), chromedp.Click(chromedp.ID("save-hall")))
	if resp.Status != 200 || !strings.Contains(admin.text(".notice"), "已保存大厅配置") {
		t.Fatalf("save: %d %s", resp.Status, admin.location())
	}
	if v, _ := chromedp.Run(admin.ctx, chromedp.Value(chromedp.ID("slot_minutes"))); v != "60" {
		t.Fatalf("the editor after saving shows %q", v)
	}
	after, length := z.daySlots("fz-gl", item, day)
	if length != time.Hour || after >= before {
		t.Fatalf("after: %d slots of %v (before %d)", after, length, before)
	}
	closed := day.AddDays(21).String()
	resp = admin.submit(chromedp.SendKeys(chromedp.ID("c_from"), closed), chromedp.SendKeys(chromedp.ID("c_to"), closed),
		chromedp.Click(chromedp.ID("add-closure")))
	if resp.Status != 400 || !strings.Contains(admin.text("#closure-form"), "请填写闭厅原因") {
		t.Fatalf("a closure without a reason: %d", resp.Status)
	}
	resp = admin.submit(chromedp.SendKeys(chromedp.ID("c_reason"), "场所装修"), chromedp.Click(chromedp.ID("add-closure")))
	if resp.Status != 200 || !strings.Contains(admin.text("#closures"), closed) || !strings.Contains(admin.text("#closures"), "场所装修") {
		t.Fatalf("closure: %d %q", resp.Status, admin.text("#closures"))
	}
	admin.shot("43-admin-halls")

	admin.navigate(z.base + "/console/admin/calendar")
	resp = admin.submit(chromedp.SendKeys(chromedp.ID("date"), day.String()), chromedp.Click(chromedp.ID("add-override")))
	if resp.Status != 400 || !strings.Contains(admin.text("#override-form"), "请填写名称") {
		t.Fatalf("an override without a name: %d", resp.Status)
	}
	resp = admin.submit(chromedp.SetValue(chromedp.ID("kind"), "holiday"), chromedp.SendKeys(chromedp.ID("name"), "台风停止办公"),
		chromedp.Click(chromedp.ID("add-override")))
	if resp.Status != 200 || !strings.Contains(admin.text("#o-"+day.String()), "台风停止办公") {
		t.Fatalf("override: %d %q", resp.Status, admin.text("#overrides"))
	}
	// The slots' cache lives seconds and knows halls, not the calendar.
	testenv.WaitFor(t, "no slots on the new holiday", func() bool { n, _ := z.daySlots("fz-gl", item, day); return n == 0 })
	admin.shot("44-admin-calendar")
	resp = admin.submit(chromedp.Click(chromedp.ID("del-" + day.String())))
	if resp.Status != 200 || strings.Contains(admin.text("#overrides"), "台风停止办公") {
		t.Fatalf("remove: %d %q", resp.Status, admin.text("#overrides"))
	}
	testenv.WaitFor(t, "the slots back", func() bool { n, _ := z.daySlots("fz-gl", item, day); return n == after })
}

// A hotline operator and a hall clerk get the 403 page on every admin
// page (and no link to one); a supervisor on the halls and calendar.
func TestAdminPagesRefuseOtherRolesInChromium(t *testing.T) {
	z := start(t)
	z.staff("hotline73", "Hotline-pass-2026", identity.RoleHotline)
	z.staff("hall73", "Hall-pass-2026", identity.RoleStaff, "fz-gl")
	z.staff("jiancha73", "Jiancha-pass-2026", identity.RoleSupervisor)
	b := newBrowser(t)
	for _, u := range []struct {
		name, password string
		refused        []string
	}{
		{"hotline73", "Hotline-pass-2026", []string{"/admin/halls", "/admin/calendar", "/money", "/reminders", "/audit", "/money/payments/12345678901234567890"}},
		{"hall73", "Hall-pass-2026", []string{"/admin/halls", "/admin/calendar", "/money", "/reminders", "/audit"}},
		{"jiancha73", "Jiancha-pass-2026", []string{"/admin/halls", "/admin/calendar"}},
	} {
		tab := b.user()
		tab.navigate(z.base + "/console/login")
		if status := tab.login(u.name, u.password); status != 200 {
			t.Fatalf("%s login: %d", u.name, status)
		}
		nav := tab.text(".nav")
		for _, path := range u.refused {
			if status := tab.navigate(z.base + "/console" + path); status != 403 || !strings.Contains(tab.text("main"), "您的角色无权打开该页面") {
				t.Fatalf("%s on %s: %d", u.name, path, status)
			}
			if strings.Contains(nav, "大厅配置") || strings.Contains(nav, "节假日调整") {
				t.Fatalf("%s's navigation links admin pages: %q", u.name, nav)
			}
		}
	}
	bl := z.browserless()
	bl.login("hall73", "Hall-pass-2026")
	p := bl.get("/console/hall")
	if post := bl.do("POST", "/console/admin/calendar/overrides", url.Values{"_csrf": {p.csrf(t)}, "date": {"2026-12-25"},
		"kind": {"holiday"}, "name": {"x"}}); post.Status != 403 {
		t.Fatalf("a clerk's override post: %d", post.Status)
	}
}

// The reminders page lists a failed reminder with every attempt (channel,
// time, error, a phone in an error masked); the audit page filters the
// log by username and days and pages it; viewing reminders is audited.
func TestRemindersAndAuditInChromium(t *testing.T) {
	z := start(t)
	ctx := context.Background()
	z.staff("admin74", "Admin-pass-2026", identity.RoleAdmin)
	z.staff("hotline74", "Hotline-pass-2026", identity.RoleHotline)
	z.staff("hotline75", "Hotline-pass-2026", identity.RoleHotline)
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	_, created, err := notify.NewMongoStore(z.app.DB()).InsertMessage(ctx, &notify.Message{
		ID: "dedup:u_test74:case.accepted:case:c74", PublicID: "m74failed", UserID: "u_test74", RuleID: "case.accepted",
		Kind: notify.KindCase, Subject: "case:c74", Title: "办件已受理", Body: "您的办件已受理", State: notify.StateFailed, Inbox: true,
		Attempts: []notify.Attempt{
			{Channel: notify.ChannelWeChat, At: at, Outcome: notify.OutcomeNoConsent},
			{Channel: notify.ChannelPush, At: at.Add(time.Second), Outcome: notify.OutcomeTemporary, Detail: "jpush: 503 Service Unavailable"},
			{Channel: notify.ChannelSMS, At: at.Add(2 * time.Second), Outcome: notify.OutcomeRefused, Detail: "isv.MOBILE_NUMBER_ILLEGAL 13800138000"},
		},
		CreatedAt: at, UpdatedAt: at.Add(2 * time.Second),
	})
	if err != nil || !created {
		t.Fatalf("seed a failed reminder: %v", err)
	}
	log := cases.NewMongoAuditLog(z.app.DB())
	ids := map[string]string{}
	for _, name := range []string{"hotline74", "hotline75"} {
		u, err := z.app.Identity().StaffByUsername(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = u.ID
	}
	seed := func(name, day string, n int) {
		d := workdays.MustParseDate(day).Start().Add(10 * time.Hour)
		for i := range n {
			if err := log.Append(ctx, &cases.AuditEntry{At: d.Add(time.Duration(i) * time.Second), OperatorID: ids[name], OperatorName: name,
				Ticket: fmt.Sprintf("T%s%03d", strings.ReplaceAll(day, "-", ""), i), QueryType: "phone", Query: "138****8000"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	seed("hotline74", "2026-11-02", 2)
	seed("hotline74", "2026-11-10", 53)
	seed("hotline75", "2026-11-10", 4)

	b := newBrowser(t)
	admin := b.user()
	admin.navigate(z.base + "/console/reminders")
	if status := admin.login("admin74", "Admin-pass-2026"); status != 200 || !strings.HasSuffix(admin.location(), "/console/reminders") {
		t.Fatalf("admin login: %d at %s", status, admin.location())
	}
	m := admin.text("#m-m74failed")
	for _, want := range []string{"办件已受理", "微信订阅消息", "未授权订阅", "App 推送", "jpush: 503", "短信", "被拒绝", "138****8000"} {
		if !strings.Contains(m, want) {
			t.Fatalf("the failed reminder lacks %q: %q", want, m)
		}
	}
	if strings.Contains(admin.html(), "13800138000") {
		t.Fatal("the reminders page shows a phone number in full")
	}
	admin.shot("41-reminders")

	search := func(operator, from, to string) int64 {
		q := url.Values{"operator": {operator}, "from": {from}, "to": {to}}
		return admin.navigate(z.base + "/console/audit?" + q.Encode())
	}
	rows := func() int {
		n, err := chromedp.Run(admin.ctx, chromedp.Evaluate[int](`document.querySelectorAll('#entries tbody tr[id]').length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	admin.navigate(z.base + "/console/audit")
	resp := admin.submit(chromedp.SendKeys(chromedp.ID("operator"), "hotline74"), chromedp.SendKeys(chromedp.ID("from"), "2026-11-01"),
		chromedp.SendKeys(chromedp.ID("to"), "2026-11-05"), chromedp.Click(chromedp.ID("search")))
	if resp.Status != 200 || rows() != 2 || !strings.Contains(admin.text("#entries"), "T20261102001") {
		t.Fatalf("hotline74 on 1-5 November: %d, %d rows", resp.Status, rows())
	}
	admin.shot("42-audit")
	if search("hotline74", "", "") != 200 || rows() != 50 {
		t.Fatalf("the first page: %d rows", rows())
	}
	if resp := admin.submit(chromedp.Click(chromedp.ID("next"))); resp.Status != 200 || rows() != 5 || strings.Contains(admin.text("#entries"), "hotline75") {
		t.Fatalf("the second page: %d, %d rows", resp.Status, rows())
	}
	if search("hotline75", "2026-11-10", "2026-11-10") != 200 || rows() != 4 {
		t.Fatalf("hotline75 on 10 November: %d rows", rows())
	}
	if search("nobody", "", "") != 400 || !strings.Contains(admin.text("#filter"), "没有用户名为 nobody 的工作人员") {
		t.Fatalf("an unknown username: %q", admin.text("#filter"))
	}
	if search("", "2026-13-01", "") != 400 || !strings.Contains(admin.text("#filter"), "日期格式应为 YYYY-MM-DD") {
		t.Fatalf("a wrong date: %q", admin.text("#filter"))
	}
	if search("admin74", "", "") != 200 || rows() != 1 || !strings.Contains(admin.text("#entries"), "查看失败提醒") {
		t.Fatalf("the reminders page's viewing is audited: %q", admin.text("#entries"))
	}
}
