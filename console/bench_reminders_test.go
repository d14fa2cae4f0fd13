package console_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"zwfw/bff"
	"zwfw/identity"
	"zwfw/links"
	"zwfw/notify"
	"zwfw/platform/mongox"
)

// BenchmarkRemindersPage: the failed-reminders page of an admin with the
// reminders of 10,000 cases in the store — four messages per case (40,000),
// one in sixteen failed, over the last 60 days — through the whole stack
// (session, account, the page's messages, its audit entry, the template),
// first page and a page deep in (the 20th), next to a bare Fiber handler
// measured in the same run: requests per second as ratios to the bare
// handler's, 90th-percentile latencies under 8 concurrent clients, the
// median latency of each alone, and the first (cold) view. The page writes
// its audit entry on every view, as it does in use. Nothing here asserts
// on speed.
func BenchmarkRemindersPage(b *testing.B) {
	z := start(b, func(c *bff.Config) { c.RatePerIP, c.RatePerUser = 100_000_000, 100_000_000 })
	failed := seedReminders(b, z, 10_000, 4, 16)
	z.staff("admin97", "Admin-pass-2026", identity.RoleAdmin)
	admin := z.browserless()
	if p := admin.login("admin97", "Admin-pass-2026"); p.Status != 200 {
		b.Fatalf("login: %d", p.Status)
	}
	session := admin.session(b)
	t0 := time.Now()
	first := admin.get("/console/reminders")
	cold := time.Since(t0)
	if first.Status != 200 || !strings.Contains(first.Body, `id="m-`+failed+`"`) {
		b.Fatalf("reminders page: %d (the newest failed reminder %s is not on it)", first.Status, failed)
	}
	// The 20th page: follow the next links.
	deep := "/console/reminders"
	for range 19 {
		p := admin.get(deep)
		i := strings.Index(p.Body, `href="/console/reminders?cursor=`)
		if p.Status != 200 || i < 0 {
			b.Fatalf("%s: %d, no next page", deep, p.Status)
		}
		rest := p.Body[i+len(`href="`):]
		deep = strings.ReplaceAll(rest[:strings.IndexByte(rest, '"')], "&amp;", "&")
	}

	client, bareHost := bareBench(b)
	bareURL, pageURL, deepURL := "http://"+bareHost+"/hello", z.base+"/console/reminders", z.base+deep
	load(b, client, bareURL, "", 200) // warm connections and caches
	load(b, client, pageURL, session, 50)
	load(b, client, deepURL, session, 50)
	bareSeq, pageSeq, deepSeq := sequential(b, client, bareURL, ""), sequential(b, client, pageURL, session), sequential(b, client, deepURL, session)
	b.ResetTimer()
	bareRate, bareP90 := load(b, client, bareURL, "", b.N)
	pageRate, pageP90 := load(b, client, pageURL, session, b.N)
	deepRate, deepP90 := load(b, client, deepURL, session, b.N)
	b.StopTimer()
	b.ReportMetric(bareRate, "bare_req/s")
	b.ReportMetric(pageRate/bareRate, "reminders/bare")
	b.ReportMetric(deepRate/bareRate, "deep/bare")
	b.ReportMetric(float64(bareP90.Microseconds())/1000, "bare_p90_ms")
	b.ReportMetric(float64(pageP90.Microseconds())/1000, "reminders_p90_ms")
	b.ReportMetric(float64(deepP90.Microseconds())/1000, "deep_p90_ms")
	b.ReportMetric(float64(bareSeq.Microseconds())/1000, "bare_alone_ms")
	b.ReportMetric(float64(pageSeq.Microseconds())/1000, "reminders_alone_ms")
	b.ReportMetric(float64(deepSeq.Microseconds())/1000, "deep_alone_ms")
	b.ReportMetric(float64(cold.Microseconds())/1000, "reminders_cold_ms")
}

// seedReminders stores perCase messages for each of cases cases straight
// into MongoDB (single inserts would take minutes on the embedded store),
// one in failEvery failed, updated over the last 60 days, as the engine
// writes them.
// It returns the public id of the most recently failed one.
func seedReminders(b *testing.B, z *zwfw, cases, perCase, failEvery int) string {
	ctx := b.Context()
	coll := z.app.DB().Collection(notify.MessagesCollection)
	rules := []struct {
		id, title, body string
		kind            notify.Kind
	}{
		{notify.RuleCaseAccepted, "办件已受理", "您的办件已受理，承诺时限内办结", notify.KindCase},
		{notify.RuleCaseSupplement, "请补正材料", "您的办件需补正材料，请在 5 个工作日内提交", notify.KindCase},
		{notify.RulePaymentNotice, "缴费通知", "您有一笔非税缴费待缴，金额 50.00 元", notify.KindPayment},
		{notify.RuleShipmentException, "寄递异常", "您的快件派送异常：收件人电话 13800138000 无法接通", notify.KindShipment},
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	newest, newestAt := "", time.Time{}
	batch := make([]any, 0, 500)
	total := cases * perCase
	for i := range total {
		c, r := i/perCase, rules[i%perCase%len(rules)]
		user, subject := fmt.Sprintf("u_bench%05d", c), fmt.Sprintf("case:c_%024x", 0xbe00000000+c)
		at := now.Add(-time.Duration(i) * 60 * 24 * time.Hour / time.Duration(total))
		id := notify.DedupID(user, r.id, subject)
		link := links.To(links.Case, fmt.Sprintf("c_%024x", 0xbe00000000+c))
		m := notify.Message{ID: id, PublicID: fmt.Sprintf("%024x", 0xbe0000000000+i), UserID: user, RuleID: r.id, Kind: r.kind,
			Subject: subject, Title: r.title, Body: r.body, Fields: map[string]string{"case_number": fmt.Sprintf("BENCH%010d", c), "item": "个体工商户设立登记"},
			Link: &link, Page: "/pages/case/detail?id=" + link.ID, State: notify.StateSent, Channel: notify.ChannelWeChat, Inbox: true,
			Attempts:  []notify.Attempt{{Channel: notify.ChannelWeChat, At: at, Outcome: notify.OutcomeSent}},
			CreatedAt: at.Add(-time.Minute), UpdatedAt: at}
		if i%failEvery == 0 {
			m.State, m.Channel = notify.StateFailed, ""
			m.Attempts = []notify.Attempt{{Channel: notify.ChannelWeChat, At: at, Outcome: notify.OutcomeNoConsent},
				{Channel: notify.ChannelPush, At: at, Outcome: notify.OutcomeTemporary, Detail: "jpush: 503 Service Unavailable"},
				{Channel: notify.ChannelSMS, At: at, Outcome: notify.OutcomeRefused, Detail: "isv.MOBILE_NUMBER_ILLEGAL 13800138000"}}
			if at.After(newestAt) {
				newest, newestAt = m.PublicID, at
			}
		}
		batch = append(batch, m)
		if len(batch) == cap(batch) || i == total-1 {
			if _, err := coll.InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// Loaded in bulk, past the failed list's index: add them as a start-up
	// over an older store does, and the _id index the embedded store adds by itself.
	if _, err := notify.NewMongoStore(z.app.DB()).ReindexFailed(ctx); err != nil {
		b.Fatal(err)
	}
	if err := mongox.IndexIDs(ctx); err != nil {
		b.Fatal(err)
	}
	return newest
}
