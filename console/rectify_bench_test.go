package console_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/bff"
	"zwfw/cases"
	"zwfw/identity"
	"zwfw/rectify"
)

// BenchmarkEvaluationPages: the 好差评 page and a rectification's page with
// 10,000 evaluated cases in the store (15% of them 差评, so 1,500
// rectifications), through the whole stack, next to a bare Fiber handler
// measured in the same run: requests per second of each, their ratios and
// the 90th-percentile latencies. The counts come from the consumer's one
// counts document, the list from the rectifications (open first, 200 at
// most), the rectification page from two reads by _id and an audit insert.
// Nothing here asserts on speed.
func BenchmarkEvaluationPages(b *testing.B) {
	z := start(b, func(c *bff.Config) { c.RatePerIP, c.RatePerUser = 100_000_000, 100_000_000 })
	firstID := seedEvaluations(b, z, 10_000)
	z.staff("jiancha99", "Jiancha-pass-2026", identity.RoleSupervisor)
	sup := z.browserless()
	if p := sup.login("jiancha99", "Jiancha-pass-2026"); p.Status != 200 {
		b.Fatalf("login: %d", p.Status)
	}
	session := sup.session(b)
	if p := sup.get("/console/evaluations"); p.Status != 200 || !strings.Contains(p.Body, "共 10000 条评价") {
		b.Fatalf("evaluations page: %d (the seeded counts are not on it)", p.Status)
	}

	client, bareHost := bareBench(b)
	bareURL := "http://" + bareHost + "/hello"
	evalURL, rectURL := z.base+"/console/evaluations", z.base+"/console/rectifications/"+rectify.IDOf(firstID)

	load(b, client, bareURL, "", 200) // warm connections and caches
	load(b, client, evalURL, session, 50)
	load(b, client, rectURL, session, 50)
	b.ResetTimer()
	bareRate, bareP90 := load(b, client, bareURL, "", b.N)
	evalRate, evalP90 := load(b, client, evalURL, session, b.N)
	rectRate, rectP90 := load(b, client, rectURL, session, b.N)
	b.StopTimer()
	b.ReportMetric(bareRate, "bare_req/s")
	b.ReportMetric(evalRate, "evaluations_req/s")
	b.ReportMetric(rectRate, "rectification_req/s")
	b.ReportMetric(evalRate/bareRate, "evaluations/bare")
	b.ReportMetric(rectRate/bareRate, "rectification/bare")
	b.ReportMetric(float64(bareP90.Microseconds())/1000, "bare_p90_ms")
	b.ReportMetric(float64(evalP90.Microseconds())/1000, "evaluations_p90_ms")
	b.ReportMetric(float64(rectP90.Microseconds())/1000, "rectification_p90_ms")
}

// seedEvaluations stores total evaluated cases straight into MongoDB (one
// in twenty rated 非常不满意, 不满意 and 基本满意 each, the rest 满意 or
// 非常满意), their rectifications and the counts the consumer would have
// kept (through the API and the consumer it would take many minutes on
// the embedded store). It returns the first badly rated case's id.
func seedEvaluations(b *testing.B, z *zwfw, total int) string {
	ctx := b.Context()
	db := z.app.DB()
	now := time.Now().UTC().Truncate(time.Millisecond)
	depts := []string{"福州市公安局", "福州市民政局", "福州市人力资源和社会保障局", "福州市市场监督管理局", "福州市不动产登记中心",
		"福州市卫生健康委员会", "福州市交通运输局", "福州市住房和城乡建设局", "福州市税务局", "福州市医疗保障局"}
	tally := rectify.Tally{Seq: int64(total), Levels: map[string]int64{}, Depts: map[string]map[string]int64{},
		Items: map[string]map[string]int64{}, DeptNames: map[string]string{}, ItemNames: map[string]string{}}
	caseBatch, rectBatch := make([]any, 0, 500), make([]any, 0, 500)
	first := ""
	flush := func(coll string, batch *[]any, force bool) {
		if len(*batch) == 0 || (!force && len(*batch) < cap(*batch)) {
			return
		}
		if _, err := db.Collection(coll).InsertMany(ctx, *batch); err != nil {
			b.Fatal(err)
		}
		*batch = (*batch)[:0]
	}
	for i := range total {
		level := 5
		switch i % 20 {
		case 0:
			level = 1
		case 1:
			level = 2
		case 2:
			level = 3
		case 3, 4, 5, 6:
			level = 4
		}
		dept, item := depts[i%len(depts)], fmt.Sprintf("BENCH-%03d", i%120)
		at := now.Add(-time.Duration(total-i) * time.Minute)
		c := cases.Case{ID: fmt.Sprintf("c_%024x", i+1), OwnerID: fmt.Sprintf("u_bench%05d", i), CaseNumber: fmt.Sprintf("FZBENCH%08d", i),
			ItemCode: item, ItemName: "测试事项" + item, Dept: dept, Status: cases.StatusCompletedApproved,
			Applicant:   cases.Applicant{NameMasked: "张*", PhoneMasked: "138****0000"},
			SubmittedAt: &at, CompletedAt: &at, Timeline: []cases.Entry{}, Version: 3, CreatedAt: at, UpdatedAt: at,
			Evaluation: &cases.Evaluation{Level: level, Reasons: []string{"too_slow"}, At: at, Reported: true}}
		caseBatch = append(caseBatch, c)
		l := strconv.Itoa(level)
		tally.Levels[l]++
		dk, ik := rectify.KeyOf(dept), rectify.KeyOf(item)
		if tally.Depts[dk] == nil {
			tally.Depts[dk] = map[string]int64{}
		}
		if tally.Items[ik] == nil {
			tally.Items[ik] = map[string]int64{}
		}
		tally.Depts[dk][l]++
		tally.Items[ik][l]++
		tally.DeptNames[dk], tally.ItemNames[ik] = dept, c.ItemName
		if level <= rectify.DefaultMaxLevel {
			if first == "" {
				first = c.ID
			}
			state := rectify.States[i%len(rectify.States)]
			rectBatch = append(rectBatch, rectify.Rectification{ID: rectify.IDOf(c.ID), CaseID: c.ID, CaseNumber: c.CaseNumber,
				ItemCode: item, ItemName: c.ItemName, Dept: dept, UserID: c.OwnerID,
				Evaluation: rectify.Evaluation{Level: level, Reasons: []string{"too_slow"}, At: at}, State: state,
				Rank: map[bool]int{true: 1}[state == rectify.StateClosed], Replies: []rectify.Reply{}, CallBacks: []rectify.CallBack{},
				OpenedAt: at, DueOn: at.Add(21 * 24 * time.Hour), Version: 1, UpdatedAt: at,
				History: []rectify.Change{{At: at, Action: rectify.ActionOpen, State: rectify.StateOpen}}})
		}
		flush("cases", &caseBatch, false)
		flush(rectify.Collection, &rectBatch, false)
	}
	flush("cases", &caseBatch, true)
	flush(rectify.Collection, &rectBatch, true)
	doc, err := bson.Marshal(tally)
	if err != nil {
		b.Fatal(err)
	}
	var d bson.D
	if err := bson.Unmarshal(doc, &d); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Collection(rectify.TallyCollection).InsertOne(ctx, append(bson.D{{Key: "_id", Value: "all"}}, d...)); err != nil {
		b.Fatal(err)
	}
	return first
}
