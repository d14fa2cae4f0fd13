package bff_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/testenv"
)

// BenchmarkHome: GET /api/v1/home for 张三 (real-name verified: his
// e-licences come from the province, his fee notices from the non-tax
// platform, each asked on every request as the screen does) with a case in
// progress, a visit tomorrow, a parcel out for delivery and unread
// messages, among 10,000 other people's cases, bookings, payments,
// parcels and messages, against a bare Fiber handler in the same run.
//
// The screen reads the person's index and each record by _id (the first
// screen after seeding rebuilds the index from the domains' lists, once).
// The run is capped at homeBenchMax requests, and the share of answers
// with every section complete is reported next to the ratio (a source over
// its time budget is marked, not waited for).
func BenchmarkHome(b *testing.B) {
	if b.N == 1 {
		return // the framework's first probe: seeding 10,000 people twice per run would double its time
	}
	l := newLoadBench(b)
	s := l.s
	me, caseID, _ := s.submittedCase("zhangsan")
	if r := s.request("GET", "/api/v1/payments", me.Access, nil); r.Status != 200 { // the demo notices, mirrored
		b.Fatalf("payments: %d", r.Status)
	}
	testenv.WaitFor(b, "the notices' reminders", func() bool {
		n, err := s.app.DB().Collection("notify_messages").CountDocuments(context.Background(), bson.M{"user_id": me.UserID})
		return err == nil && n > 0
	})
	begin := time.Now()
	seedHomeWorld(b, s, me.UserID, caseID, 10_000)
	b.Logf("seeded 10,000 people's data in %s", time.Since(begin).Round(time.Millisecond))
	n := min(b.N, homeBenchMax)
	home := s.base + "/api/v1/home"
	l.run(l.bare, "", 50)
	l.homeRun(home, me.Access, 5)
	b.ResetTimer()
	bare := l.run(l.bare, "", n)
	rps, complete := l.homeRun(home, me.Access, n)
	b.StopTimer()
	b.ReportMetric(bare, "bare_req/s")
	b.ReportMetric(rps, "home_req/s")
	b.ReportMetric(rps/bare, "home/bare")
	b.ReportMetric(100*float64(complete)/float64(n), "home_complete_%")
}

// homeBenchMax bounds the home requests of one run (see BenchmarkHome).
const homeBenchMax = 200

// homeRun is run for the home screen: it also counts the answers with
// every section complete.
func (l *loadBench) homeRun(target, token string, n int) (float64, int) {
	var next, failed, complete atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for w := 0; w < benchWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				req, _ := http.NewRequest("GET", target, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("X-Client", "app")
				res, err := l.client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				switch {
				case res.StatusCode != 200:
					failed.Add(1)
				case bytes.Contains(body, []byte(`"degraded":false`)):
					complete.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		l.b.Fatalf("%d of %d home requests failed", f, n)
	}
	return float64(n) / time.Since(begin).Seconds(), int(complete.Load())
}

// seedHomeWorld stores, straight into MongoDB in batches, n people with a
// case, a confirmed booking, an unpaid notice, a parcel on the way and an
// unread message each (through the API it would take many minutes on the
// embedded store), and gives the bench user a visit tomorrow and a parcel
// out for delivery.
func seedHomeWorld(b *testing.B, s *server, userID, caseID string, n int) {
	ctx := context.Background()
	db := s.app.DB()
	var tmplCase, tmplPayment, tmplMessage bson.M
	for _, f := range []struct {
		coll   string
		filter bson.M
		into   *bson.M
	}{
		{"cases", bson.M{"_id": caseID}, &tmplCase},
		{"payments", bson.M{"user_ids": userID}, &tmplPayment},
		{"notify_messages", bson.M{"user_id": userID}, &tmplMessage},
	} {
		if err := db.Collection(f.coll).FindOne(ctx, f.filter).Decode(f.into); err != nil {
			b.Fatalf("template from %s: %v", f.coll, err)
		}
	}
	now := time.Now().UTC()
	cst := time.FixedZone("CST", 8*3600)
	d := now.In(cst).AddDate(0, 0, 1)
	tomorrow := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, cst).UTC()
	clone := func(m bson.M, set bson.M) bson.M {
		out := bson.M{}
		for k, v := range m {
			out[k] = v
		}
		for k, v := range set {
			out[k] = v
		}
		delete(out, "outbox") // events of the template's own writes: relayed once, not per copy
		return out
	}
	booking := func(id, user string, at time.Time) bson.M {
		return bson.M{"_id": id, "number": "YY" + id[len(id)-14:], "user_id": user, "hall_id": "fz-gl",
			"item_code": tmplCase["item_code"], "slot_start": at, "slot_end": at.Add(30 * time.Minute), "status": "confirmed",
			"check_in_code": "CHK" + id, "timeline": bson.A{}, "version": 1, "created_at": now, "updated_at": now}
	}
	shipment := func(id, user, cs, state string) bson.M {
		return bson.M{"_id": id, "case_id": cs, "user_id": user, "direction": "to_applicant", "carrier": "ems",
			"waybill_number": "11" + id[len(id)-11:], "state": state, "timeline": bson.A{}, "postage": bson.M{},
			"sender": bson.M{}, "receiver": bson.M{}, "salt": "x", "version": 1, "last_event_at": now, "last_checked_at": now,
			"created_at": now, "updated_at": now}
	}
	batches := map[string][]any{}
	flush := func(coll string, force bool) {
		if len(batches[coll]) == 0 || (!force && len(batches[coll]) < 1000) {
			return
		}
		if _, err := db.Collection(coll).InsertMany(ctx, batches[coll]); err != nil {
			b.Fatalf("seed %s: %v", coll, err)
		}
		batches[coll] = batches[coll][:0]
	}
	add := func(coll string, doc bson.M) {
		batches[coll] = append(batches[coll], doc)
		flush(coll, false)
	}
	for i := 0; i < n; i++ {
		user := fmt.Sprintf("u_home%06d", i)
		cs := fmt.Sprintf("c_%012x%012x", now.UnixMilli()-int64(n-i), i)
		code := fmt.Sprintf("9%019d", i)
		add("cases", clone(tmplCase, bson.M{"_id": cs, "owner_id": user, "case_number": fmt.Sprintf("FZ20260102%08d", i)}))
		add("bookings", booking(fmt.Sprintf("b_%024x", i+1), user, tomorrow.AddDate(0, 0, i%14)))
		add("payments", clone(tmplPayment, bson.M{"_id": code, "user_ids": bson.A{user}, "payer_index": "bench:" + user}))
		add("shipments", shipment(fmt.Sprintf("shp_result_%s", cs), user, cs, "in_transit"))
		id := "dedup:" + user + ":payment.notice:payment:" + code
		add("notify_messages", clone(tmplMessage, bson.M{"_id": id, "pid": fmt.Sprintf("%024x", i+1), "user_id": user,
			"subject": "payment:" + code, "read_at": nil}))
	}
	add("bookings", booking(fmt.Sprintf("b_%024x", n+1), userID, tomorrow))
	add("shipments", shipment("shp_result_"+caseID, userID, caseID, "out_for_delivery"))
	for _, coll := range []string{"cases", "bookings", "payments", "shipments", "notify_messages"} {
		flush(coll, true)
	}
}
