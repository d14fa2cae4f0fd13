package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zwfw/cases"
	"zwfw/identity"
	"zwfw/platform/testenv"
	"zwfw/rectify"
	sbprovince "zwfw/sandbox/province"
)

// completedCase files a case and lets the province accept and approve it.
func (z *zwfw) completedCase(token string, person sbprovince.Person) (id, number string) {
	z.t.Helper()
	id, number = z.submittedCase(token, person)
	fake := z.app.Sandbox().ProvinceServer()
	for _, st := range []string{"accepted", "completed_approved"} {
		if _, err := fake.AdvanceCase(number, sbprovince.Advance{Status: st, Result: "electronic"}); err != nil {
			z.t.Fatalf("advance %s: %v", st, err)
		}
		testenv.WaitFor(z.t, "case "+st, func() bool {
			_, m := z.api("GET", "/api/v1/cases/"+id, token, nil)
			return m["status"] == st
		})
	}
	return id, number
}

// A citizen rates a finished case 不满意 through the API; the evaluation
// consumer counts it and opens its rectification. A supervisor sees it on
// the 好差评 page (red once it is overdue), opens it (audited, personal data
// masked), assigns an owner, replies — the reply reaches the citizen's
// inbox —, is refused closing before the call-back, records the call-back
// and closes it.
func TestRectificationJourneyInChromium(t *testing.T) {
	z := start(t)
	token, person := z.citizen("rater", 0)
	caseID, number := z.completedCase(token, person)
	status, m := z.api("POST", "/api/v1/cases/"+caseID+"/evaluation", token,
		map[string]any{"level": 2, "reasons": []string{"too_slow", "many_trips"}, "comment": "跑了三次才办好"}, "Idempotency-Key", "eval-"+caseID)
	if status != 200 && status != 201 {
		t.Fatalf("evaluate: %d %v", status, m)
	}
	id := rectify.IDOf(caseID)
	store := rectify.NewMongoStore(z.app.DB())
	var opened *rectify.Rectification
	testenv.WaitFor(t, "the rectification opened by the evaluation", func() bool {
		r, err := store.Get(context.Background(), id)
		opened = r
		return err == nil
	})
	z.staff("jiancha31", "Jiancha-pass-2026", identity.RoleSupervisor)

	b := newBrowser(t)
	sup := b.user()
	sup.navigate(z.base + "/console/evaluations")
	if status := sup.login("jiancha31", "Jiancha-pass-2026"); status != 200 || !strings.HasSuffix(sup.location(), "/console/evaluations") {
		t.Fatalf("after login: %d at %s", status, sup.location())
	}
	if nav := sup.text(".nav"); !strings.Contains(nav, "好差评") || strings.Contains(nav, "12345") {
		t.Fatalf("the supervisor's navigation: %q", nav)
	}
	if got := sup.text("#level-2 .count"); got != "1" {
		t.Fatalf("不满意 count = %q, want 1", got)
	}
	if depts := sup.text("#depts"); !strings.Contains(depts, opened.Dept) {
		t.Fatalf("by department: %q lacks %s", depts, opened.Dept)
	}
	if items := sup.text("#items"); !strings.Contains(items, opened.ItemName) {
		t.Fatalf("by item: %q lacks %s", items, opened.ItemName)
	}
	row := "#r-" + id
	if r := sup.text(row); !strings.Contains(r, number) || !strings.Contains(r, "待整改") || strings.Contains(r, "已超期") {
		t.Fatalf("the rectification's row: %q", r)
	}

	// 40 days on (16 working days and more): overdue, in red. The idle
	// session ended meanwhile; the supervisor signs in again.
	z.clock.Set(opened.OpenedAt.Add(40 * 24 * time.Hour))
	sup.navigate(z.base + "/console/evaluations?state=overdue")
	if status := sup.login("jiancha31", "Jiancha-pass-2026"); status != 200 {
		t.Fatalf("signed in again: %d", status)
	}
	if r := sup.text(row); !strings.Contains(r, "已超期") || !strings.Contains(sup.html(), `class="st-open st-failed overdue"`) {
		t.Fatalf("the overdue row: %q", r)
	}
	sup.shot("30-evaluations")

	resp := sup.submit(chromedp.Click(chromedp.CSS(row + " a")))
	if resp.Status != 200 || !strings.HasSuffix(sup.location(), "/console/rectifications/"+id) {
		t.Fatalf("open the rectification: %d at %s", resp.Status, sup.location())
	}
	if s := sup.text("#summary"); !strings.Contains(s, number) || !strings.Contains(s, opened.ItemName) {
		t.Fatalf("the case summary: %q", s)
	}
	if page := sup.html(); strings.Contains(page, person.Phone) || strings.Contains(page, person.IDNumber) || strings.Contains(page, person.Name) {
		t.Fatal("the rectification page shows personal data in full")
	}
	if ev := sup.text("#evaluation"); !strings.Contains(ev, "不满意") || !strings.Contains(ev, "办理时间过长") || !strings.Contains(ev, "跑了三次才办好") {
		t.Fatalf("the evaluation: %q", ev)
	}
	if st := sup.text("#state"); !strings.Contains(st, "已超期") {
		t.Fatalf("the state card: %q", st)
	}
	entries, err := cases.NewMongoAuditLog(z.app.DB()).List(context.Background(), cases.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].OperatorName != "jiancha31" || entries[0].QueryType != "open" ||
		entries[0].CaseIDs[0] != caseID || !strings.HasPrefix(entries[0].Ticket, "ZG-") {
		t.Fatalf("the opening's audit entries: %+v", entries)
	}

	// No reply before an owner is assigned: the form is not offered, and
	// a post all the same (another supervisor's tab) is refused with its
	// code; a post without the session's token is refused; a hotline
	// operator cannot open the pages; an unknown rectification is a 404.
	if strings.Contains(sup.html(), `id="reply-text"`) {
		t.Fatal("the reply form is offered before an owner is assigned")
	}
	z.staff("jiancha32", "Jiancha-pass-2026", identity.RoleSupervisor)
	other := z.browserless()
	other.login("jiancha32", "Jiancha-pass-2026")
	csrf := other.get("/console/rectifications/" + id).csrf(t)
	if p := other.do("POST", "/console/rectifications/"+id+"/reply", url.Values{"_csrf": {csrf}, "reply": {"抢先答复"}}); p.Status != http.StatusConflict ||
		!strings.Contains(p.Body, "RECTIFY_OWNER_REQUIRED") {
		t.Fatalf("a reply without an owner: %d", p.Status)
	}
	if p := other.do("POST", "/console/rectifications/"+id+"/assign", url.Values{"owner": {"伪造"}}); p.Status != http.StatusForbidden {
		t.Fatalf("an assignment without the CSRF token: %d", p.Status)
	}
	if p := other.get("/console/rectifications/r_c_000000000000000000000000"); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "整改记录不存在") {
		t.Fatalf("an unknown rectification: %d", p.Status)
	}
	z.staff("hotline33", "Hotline-pass-2026", identity.RoleHotline)
	op := z.browserless()
	op.login("hotline33", "Hotline-pass-2026")
	for _, path := range []string{"/console/evaluations", "/console/rectifications/" + id} {
		if p := op.get(path); p.Status != http.StatusForbidden {
			t.Fatalf("a hotline operator on %s: %d", path, p.Status)
		}
	}
	resp = sup.submit(
		chromedp.SendKeys(chromedp.ID("owner-name"), "王科长"),
		chromedp.SendKeys(chromedp.ID("owner-dept"), "市行政审批局"),
		chromedp.Click(chromedp.ID("do-assign")),
	)
	if resp.Status != 200 || !strings.Contains(sup.text("#owner"), "王科长") || !strings.Contains(sup.text(".notice"), "已指定") {
		t.Fatalf("assign: %d %q", resp.Status, sup.text("#owner"))
	}
	reply := "您好，已督促窗口精简材料，下次可一次办结。"
	resp = sup.submit(
		chromedp.SendKeys(chromedp.ID("reply-text"), reply),
		chromedp.Click(chromedp.ID("do-reply")),
	)
	if resp.Status != 200 || !strings.Contains(sup.text("#replies"), reply) {
		t.Fatalf("reply: %d %q", resp.Status, sup.text("#replies"))
	}
	testenv.WaitFor(t, "the reply in the citizen's inbox", func() bool {
		_, inbox := z.api("GET", "/api/v1/me/notifications", token, nil)
		items, _ := inbox["items"].([]any)
		for _, it := range items {
			if strings.Contains(fmt.Sprint(it), reply) && strings.Contains(fmt.Sprint(it), number) {
				return true
			}
		}
		return false
	})

	// Closing needs the call-back first.
	resp = sup.submit(chromedp.Click(chromedp.ID("do-close")))
	if resp.Status != http.StatusConflict || !strings.Contains(sup.text(".problem"), "办结前须完成回访") ||
		!strings.Contains(sup.text(".problem"), "RECTIFY_CALLBACK_REQUIRED") {
		t.Fatalf("close before the call-back: %d", resp.Status)
	}
	resp = sup.submit(
		chromedp.SendKeys(chromedp.ID("caller"), "李回访"),
		chromedp.SetValue(chromedp.ID("outcome"), "satisfied"),
		chromedp.SendKeys(chromedp.ID("callback-note"), "群众表示满意"),
		chromedp.Click(chromedp.ID("do-callback")),
	)
	if cb := sup.text("#callbacks"); resp.Status != 200 || !strings.Contains(cb, "李回访") || !strings.Contains(cb, "满意") {
		t.Fatalf("call-back: %d %q", resp.Status, cb)
	}
	resp = sup.submit(
		chromedp.SendKeys(chromedp.ID("close-note"), "整改完成"),
		chromedp.Click(chromedp.ID("do-close")),
	)
	if st := sup.text("#state"); resp.Status != 200 || !strings.Contains(st, "已办结") || strings.Contains(st, "已超期") {
		t.Fatalf("close: %d %q", resp.Status, st)
	}
	if h := sup.text("#history"); !strings.Contains(h, "差评自动立案") || !strings.Contains(h, "指定整改责任人") ||
		!strings.Contains(h, "答复群众") || !strings.Contains(h, "回访") || !strings.Contains(h, "办结") {
		t.Fatalf("history: %q", h)
	}
	sup.shot("31-rectification")

	r, err := store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != rectify.StateClosed || r.Owner == nil || len(r.Replies) != 1 || len(r.CallBacks) != 1 || len(r.History) != 5 {
		t.Fatalf("stored: %+v", r)
	}
	sup.navigate(z.base + "/console/evaluations?state=closed")
	if got := sup.text(row); !strings.Contains(got, "已办结") || strings.Contains(got, "已超期") {
		t.Fatalf("closed row: %q", got)
	}
}
