package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/cases"
	"zwfw/identity"
	"zwfw/platform/testenv"
	"zwfw/platform/workdays"
	"zwfw/supervision"
)

// A supervisor signs in and sees a case past its time limit counted red —
// in the totals, by department and by item — drills down to the red cases
// of that department and item, and opens the case's one view (masked;
// the opening is in the audit log). The day's counts are stored for the
// chart. A 12345 operator cannot open the supervision pages.
func TestSupervisionJourneyInChromium(t *testing.T) {
	z := start(t)
	token, person := z.citizen("late", 0)
	caseID, number := z.submittedCase(token, person)
	z.staff("jiancha31", "Supervise-pass-2026", identity.RoleSupervisor)
	z.staff("hotline33", "Hotline-pass-2026", identity.RoleHotline)

	// The case enters the index from its case.status_changed event.
	var entry supervision.Entry
	testenv.WaitFor(t, "the case in the supervision index", func() bool {
		err := z.app.DB().Collection(supervision.IndexCollection).FindOne(context.Background(), bson.D{{Key: "_id", Value: caseID}}).Decode(&entry)
		return err == nil && entry.Number != ""
	})
	if entry.Number != number || entry.PromisedDays <= 0 || entry.Dept == "" {
		t.Fatalf("index entry %+v", entry)
	}
	// Months later on the console's clock the case is far past its limit.
	later := time.Now().AddDate(0, 0, 7*entry.PromisedDays/5+60)
	z.clock.Set(later)

	b := newBrowser(t)
	sup := b.user()
	sup.navigate(z.base + "/console/supervision")
	if status := sup.login("jiancha31", "Supervise-pass-2026"); status != 200 || !strings.HasSuffix(sup.location(), "/console/supervision") {
		t.Fatalf("after login: %d at %s", status, sup.location())
	}
	if nav := sup.text(".nav"); !strings.Contains(nav, "电子监察") || strings.Contains(nav, "12345") {
		t.Fatalf("the supervisor's navigation: %q", nav)
	}
	if red := sup.text("#total-red strong"); red != "1" {
		t.Fatalf("red total %q, want 1", red)
	}
	if n := sup.text("#total-normal strong") + "/" + sup.text("#total-yellow strong"); n != "0/0" {
		t.Fatalf("normal/yellow %s, want 0/0", n)
	}
	if depts := sup.text("#depts"); !strings.Contains(depts, entry.Dept) {
		t.Fatalf("by department: %q", depts)
	}
	if items := sup.text("#items"); !strings.Contains(items, entry.ItemName) {
		t.Fatalf("by item: %q", items)
	}
	page := sup.html()
	if !strings.Contains(page, "<svg") || !strings.Contains(page, `data-series="红牌超期" data-value="1"`) {
		t.Fatal("the chart has no bar for today's red case")
	}
	sup.shot("20-supervision")

	// Drill down: the red count of the case's item.
	if resp := sup.submit(chromedp.Click(chromedp.CSS("#items td.lvl-red a"))); resp.Status != 200 {
		t.Fatalf("the item's red cases: %d", resp.Status)
	}
	if loc := sup.location(); !strings.Contains(loc, "state=red") || !strings.Contains(loc, "item="+entry.ItemCode) {
		t.Fatalf("drill-down at %s", loc)
	}
	row := sup.text("#c-" + caseID)
	if !strings.Contains(row, number) || !strings.Contains(row, "红牌超期") || !strings.Contains(row, "超期") {
		t.Fatalf("the red case's row: %q", row)
	}
	if h := sup.text("#cases h2"); !strings.Contains(h, entry.Dept) || !strings.Contains(h, entry.ItemName) || !strings.Contains(h, "共 1 件") {
		t.Fatalf("the list's heading: %q", h)
	}
	sup.shot("20-supervision-red-list")

	if resp := sup.submit(chromedp.Click(chromedp.CSS("#c-" + caseID + " a"))); resp.Status != 200 || !strings.HasSuffix(sup.location(), "/console/supervision/cases/"+caseID) {
		t.Fatalf("open the case: %d at %s", resp.Status, sup.location())
	}
	if s := sup.text("#summary"); !strings.Contains(s, number) {
		t.Fatalf("the one view: %q", s)
	}
	if s := sup.text("#state"); s != "红牌超期" {
		t.Fatalf("state %q", s)
	}
	if s := sup.text("#timelimit"); !strings.Contains(s, "红牌超期 超期") || !strings.Contains(s, "个工作日") {
		t.Fatalf("time limit: %q", s)
	}
	for _, section := range []string{"#personal", "#timeline", "#bookings", "#payments", "#shipments", "#reminders", "#evaluation"} {
		sup.text(section)
	}
	if page := sup.html(); strings.Contains(page, person.IDNumber) || strings.Contains(page, person.Phone) || strings.Contains(page, "reveal") {
		t.Fatal("the supervision one view shows personal data in full or offers to reveal it")
	}
	sup.shot("21-supervision-case")

	entries, err := cases.NewMongoAuditLog(z.app.DB()).List(context.Background(), cases.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].QueryType != "supervise" || entries[0].OperatorName != "jiancha31" ||
		entries[0].Query != number || len(entries[0].CaseIDs) != 1 || entries[0].CaseIDs[0] != caseID {
		t.Fatalf("audit log %+v", entries)
	}

	// Today's counts are stored (by the background refresh), for the chart's history.
	today := workdays.DateOf(later).String()
	testenv.WaitFor(t, "today's stored counts", func() bool {
		var d supervision.Day
		err := z.app.DB().Collection(supervision.DaysCollection).FindOne(context.Background(), bson.D{{Key: "_id", Value: today}}).Decode(&d)
		return err == nil && d.Red == 1
	})

	op := b.user()
	op.navigate(z.base + "/console/")
	op.login("hotline33", "Hotline-pass-2026")
	if nav := op.text(".nav"); strings.Contains(nav, "电子监察") {
		t.Fatalf("the operator's navigation offers supervision: %q", nav)
	}
	if status := op.navigate(z.base + "/console/supervision"); status != http.StatusForbidden || !strings.Contains(op.text(".error"), "无权") {
		t.Fatalf("a hotline operator on the supervision page: %d", status)
	}
	op.shot("22-supervision-hotline-forbidden")
	if status := op.navigate(z.base + "/console/supervision/cases/" + caseID); status != http.StatusForbidden {
		t.Fatalf("a hotline operator opening a supervision case: %d", status)
	}
}

// What the browser journey does not show: a finished case leaves the
// board and no longer opens; a made-up state is refused; the supervision
// pages need a session.
func TestSupervisionEdges(t *testing.T) {
	z := start(t)
	token, person := z.citizen("edge", 1)
	caseID, _ := z.submittedCase(token, person)
	z.staff("jiancha32", "Supervise-pass-2026", identity.RoleSupervisor)
	anon := z.browserless()
	if p := anon.get("/console/supervision"); p.Status != http.StatusSeeOther || !strings.Contains(p.Header.Get("Location"), "/console/login") {
		t.Fatalf("signed out: %d %s", p.Status, p.Header.Get("Location"))
	}
	sup := z.browserless()
	sup.login("jiancha32", "Supervise-pass-2026")
	testenv.WaitFor(t, "the case on the board", func() bool {
		return strings.Contains(sup.get("/console/supervision/cases").Body, `id="c-`+caseID+`"`)
	})
	if p := sup.get("/console/supervision/cases?state=purple"); p.Status != http.StatusBadRequest {
		t.Fatalf("a made-up state: %d", p.Status)
	}
	if p := sup.get("/console/supervision/cases/c_000000000000000000000000"); p.Status != http.StatusNotFound {
		t.Fatalf("a case not under supervision: %d", p.Status)
	}

	// The applicant withdraws the case: it leaves the index and the board.
	if status, m := z.api("POST", "/api/v1/cases/"+caseID+"/withdraw", token, map[string]string{"reason": "不办了"}, "Idempotency-Key", "withdraw-"+caseID); status/100 != 2 {
		t.Fatalf("withdraw: %d %v", status, m)
	}
	testenv.WaitFor(t, "the withdrawn case off the board", func() bool {
		_, err := z.app.Supervision().Board(context.Background())
		return err == nil && !strings.Contains(sup.get("/console/supervision/cases").Body, `id="c-`+caseID+`"`)
	})
	if p := sup.get("/console/supervision/cases/" + caseID); p.Status != http.StatusNotFound {
		t.Fatalf("a withdrawn case opens: %d", p.Status)
	}
}
