package notify_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/notify"
	"zwfw/platform/mongox"
	"zwfw/platform/testenv"
)

// BenchmarkFailedPage: a page of the admins' failed list (the first, and
// the 3rd by cursor) on a store of 1,000 and one of 20,000 messages (one a
// minute, one in 16 failed), read in turns in the same loop: each size's
// time per page, their ratio (1 is flat) and the store reads per page;
// next to the first page read as it was before the index (filter on state,
// sort), a few times per size. Nothing here asserts on speed.
func BenchmarkFailedPage(b *testing.B) {
	ctx := context.Background()
	newest := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	type storeOf struct {
		db      *mongo.Database
		svc     *notify.Service
		cursors []string // "" and the 3rd page's
		took    time.Duration
		reads   int64
		scan    time.Duration
	}
	var stores []*storeOf
	for _, n := range []int{1_000, 20_000} {
		db := testenv.DB(b)
		seedMessages(b, db, n, 16, newest)
		st := notify.NewMongoStore(db)
		if _, err := st.ReindexFailed(ctx); err != nil {
			b.Fatal(err)
		}
		if err := mongox.IndexIDs(ctx); err != nil { // as the embedded store does within idIndexEvery
			b.Fatal(err)
		}
		s := &storeOf{db: db, svc: notify.NewService(notify.Deps{Store: st, Logger: testenv.QuietLogger()}), cursors: []string{""}}
		cursor := ""
		for range 2 {
			_, next, err := s.svc.Failed(ctx, cursor)
			if err != nil || next == "" {
				b.Fatalf("paging %d messages: %v", n, err)
			}
			cursor = next
		}
		s.cursors = append(s.cursors, cursor)
		for range 3 {
			t0 := time.Now()
			cur, err := mongox.C(db, notify.MessagesCollection).Find(ctx, bson.D{{Key: "state", Value: notify.StateFailed}},
				options.Find().SetSort(bson.D{{Key: "updated_at", Value: -1}, {Key: "pid", Value: -1}}).SetLimit(notify.PageSize))
			if err != nil {
				b.Fatal(err)
			}
			var list []notify.Message
			if err := cur.All(ctx, &list); err != nil || len(list) != notify.PageSize {
				b.Fatalf("scan: %d (%v)", len(list), err)
			}
			s.scan += time.Since(t0) / 3
		}
		stores = append(stores, s)
	}
	pages := 0
	for b.Loop() {
		for _, s := range stores {
			calls := testenv.StoreCalls(s.db)
			t0 := time.Now()
			list, _, err := s.svc.Failed(ctx, s.cursors[pages%len(s.cursors)])
			s.took += time.Since(t0)
			s.reads += testenv.StoreCalls(s.db) - calls
			if err != nil || len(list) != notify.PageSize {
				b.Fatalf("page: %d (%v)", len(list), err)
			}
		}
		pages++
	}
	small, large := stores[0], stores[1]
	b.ReportMetric(float64(small.took.Nanoseconds())/float64(pages), "ns/page-1k")
	b.ReportMetric(float64(large.took.Nanoseconds())/float64(pages), "ns/page-20k")
	b.ReportMetric(float64(large.took)/float64(small.took), "ratio-20k/1k")
	b.ReportMetric(float64(small.scan.Nanoseconds()), "ns/scan-1k")
	b.ReportMetric(float64(large.scan.Nanoseconds()), "ns/scan-20k")
	b.ReportMetric(float64(small.reads)/float64(pages), "reads/page-1k")
	b.ReportMetric(float64(large.reads)/float64(pages), "reads/page-20k")
}
