package console_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"zwfw/bff"
	"zwfw/cases"
	"zwfw/identity"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/platform/mongox"
	"zwfw/platform/workdays"
)

// BenchmarkMoneyAndAdminPages: the money, reminders, audit and admin pages
// of an admin on a full store — 10,000 cases, 10,000 audit entries, 200
// open payment anomalies, a week of reconciliations of 300 lines each, 100
// failed reminders — through the whole stack, next to a bare Fiber handler
// measured in the same run: each page's requests per second as a ratio to
// the bare handler's, each one's 90th-percentile latency, and its first
// (cold) view. The
// reminders page writes its audit entry on every view, as it does in use.
// Nothing here asserts on speed.
func BenchmarkMoneyAndAdminPages(b *testing.B) {
	z := start(b, func(c *bff.Config) { c.RatePerIP, c.RatePerUser = 100_000_000, 100_000_000 })
	item := z.bookableItem("fz-gl")
	z.configureHall("fz-gl", item)
	seedCases(b, z, 10_000)
	seedMoneyAndLogs(b, z)
	z.staff("admin98", "Admin-pass-2026", identity.RoleAdmin)
	admin := z.browserless()
	if p := admin.login("admin98", "Admin-pass-2026"); p.Status != 200 {
		b.Fatalf("login: %d", p.Status)
	}
	session := admin.session(b)
	// A page measured serially is measured by a few views one after another
	// (the audit page was, while its store scanned and sorted the whole log:
	// about a second at 10,000 entries; it reads by _id since).
	pages := []struct {
		name, path string
		serial     bool
	}{
		{"money", "/console/money", false},
		{"reminders", "/console/reminders", false},
		{"audit", "/console/audit?operator=hotline98", false},
		{"halls", "/console/admin/halls?hall=fz-gl", false},
		{"calendar", "/console/admin/calendar", false},
	}
	firsts := make([]time.Duration, len(pages)) // a cold view: the money page's cache empty
	for i, p := range pages {
		t0 := time.Now()
		if got := admin.get(p.path); got.Status != 200 {
			b.Fatalf("%s: %d", p.path, got.Status)
		}
		firsts[i] = time.Since(t0)
	}

	client, bareHost := bareBench(b)
	bareURL := "http://" + bareHost + "/hello"
	load(b, client, bareURL, "", 200) // warm connections and caches
	for _, p := range pages {
		if !p.serial {
			load(b, client, z.base+p.path, session, 50)
		}
	}
	b.ResetTimer()
	bareRate, bareP90 := load(b, client, bareURL, "", b.N)
	rates, p90s := make([]float64, len(pages)), make([]time.Duration, len(pages))
	for i, p := range pages {
		if p.serial {
			rates[i], p90s[i] = serialLoad(b, client, z.base+p.path, session, 5)
			continue
		}
		rates[i], p90s[i] = load(b, client, z.base+p.path, session, b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(bareP90.Microseconds())/1000, "bare_p90_ms")
	for i, p := range pages {
		b.ReportMetric(rates[i]/bareRate, p.name+"/bare")
		b.ReportMetric(float64(p90s[i].Microseconds())/1000, p.name+"_p90_ms")
		b.ReportMetric(float64(firsts[i].Microseconds())/1000, p.name+"_cold_ms")
	}
}

// serialLoad sends n GETs one after another and returns requests per
// second and the 90th-percentile latency.
func serialLoad(b *testing.B, client *http.Client, target, session string, n int) (float64, time.Duration) {
	latencies := make([]time.Duration, n)
	begin := time.Now()
	for i := range n {
		req, _ := http.NewRequest("GET", target, nil)
		req.AddCookie(&http.Cookie{Name: "zwfw_console", Value: session})
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("%s: %d", target, res.StatusCode)
		}
		latencies[i] = time.Since(t0)
	}
	elapsed := time.Since(begin)
	slices.Sort(latencies)
	return float64(n) / elapsed.Seconds(), latencies[n*9/10]
}

// seedMoneyAndLogs stores what the money, reminders and audit pages read,
// through the domains' stores where they are quick and straight into
// MongoDB where 10,000 single inserts would take minutes on the embedded store.
func seedMoneyAndLogs(b *testing.B, z *zwfw) {
	ctx := b.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	pay := payments.NewMongoStore(z.app.DB())
	for i := range 200 {
		if err := pay.RecordAnomaly(ctx, payments.Anomaly{ID: fmt.Sprintf("an_bench_%04d", i), Kind: payments.AnomalyAmountMismatch,
			Provider: payments.Alipay, OrderID: fmt.Sprintf("ZWBENCH%012d", i), PaymentID: fmt.Sprintf("3501002600000%07d", i),
			Expected: 1000, Actual: 999, Detail: "渠道金额与订单金额不符", Seen: 1, FirstAt: now, LastAt: now}); err != nil {
			b.Fatal(err)
		}
	}
	today := workdays.DateOf(time.Now())
	actions := []payments.Action{payments.ActionNone, payments.ActionNone, payments.ActionAutoFixed, payments.ActionNeedsPerson}
	for d := range 7 {
		rep := payments.Report{Date: today.AddDays(-d).String(), GeneratedAt: now, Complete: true, Counts: map[string]int{},
			Providers: []payments.ProviderSummary{{Provider: payments.WeChatPay, BillLines: 150}, {Provider: payments.Alipay, BillLines: 150}}}
		for i := range 300 {
			l := payments.ReportLine{Kind: payments.MatchOK, Provider: payments.WeChatPay, OutTradeNo: fmt.Sprintf("ZW%d%012d", d, i),
				PaymentCode: fmt.Sprintf("3501002600000%07d", i), BillAmount: 1000, OurAmount: 1000, Action: actions[i%len(actions)], Note: "压测"}
			if l.Action == payments.ActionNeedsPerson {
				l.Kind, l.OurAmount = payments.MatchAmountMismatch, 999
				rep.NeedsPerson++
			}
			rep.Lines = append(rep.Lines, l)
			rep.Counts[string(l.Kind)]++
		}
		if err := pay.SaveReport(ctx, rep); err != nil {
			b.Fatal(err)
		}
	}
	msgs := notify.NewMongoStore(z.app.DB())
	for i := range 100 {
		at := now.Add(-time.Duration(i) * time.Minute)
		if _, _, err := msgs.InsertMessage(ctx, &notify.Message{ID: fmt.Sprintf("dedup:u_bench%05d:case.accepted:case:c%05d", i, i),
			PublicID: fmt.Sprintf("mbench%05d", i), UserID: fmt.Sprintf("u_bench%05d", i), RuleID: "case.accepted", Kind: notify.KindCase,
			Subject: fmt.Sprintf("case:c%05d", i), Title: "办件已受理", Body: "您的办件已受理", State: notify.StateFailed, Inbox: true,
			Attempts: []notify.Attempt{{Channel: notify.ChannelWeChat, At: at, Outcome: notify.OutcomeNoConsent},
				{Channel: notify.ChannelSMS, At: at, Outcome: notify.OutcomeRefused, Detail: "isv.BUSINESS_LIMIT_CONTROL"}},
			CreatedAt: at, UpdatedAt: at}); err != nil {
			b.Fatal(err)
		}
	}
	z.staff("hotline98", "Hotline-pass-2026", identity.RoleHotline)
	op, err := z.app.Identity().StaffByUsername(ctx, "hotline98")
	if err != nil {
		b.Fatal(err)
	}
	coll := z.app.DB().Collection("audit_log")
	batch := make([]any, 0, 500)
	for i := range 10_000 {
		at := now.Add(-time.Duration(i) * time.Minute)
		batch = append(batch, cases.AuditEntry{ID: fmt.Sprintf("a_%012x%012x", at.UnixMilli(), i), At: at, OperatorID: op.ID,
			OperatorName: "hotline98", Ticket: fmt.Sprintf("T%08d", i), QueryType: "phone", Query: "138****8000", CaseIDs: []string{}})
		if len(batch) == cap(batch) {
			if _, err := coll.InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// Loaded in bulk, past the audit log's day buckets: add them as a
	// migration would, and the _id index the embedded store adds by itself.
	if _, err := cases.NewMongoAuditLog(z.app.DB()).Reindex(ctx); err != nil {
		b.Fatal(err)
	}
	if err := mongox.IndexIDs(ctx); err != nil {
		b.Fatal(err)
	}
}
