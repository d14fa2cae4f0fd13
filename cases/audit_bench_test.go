package cases

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
	"zwfw/platform/testenv"
)

// BenchmarkAuditPage: a page of the audit log (50 entries: the newest, one
// operator's newest, one operator's in a date range, and a page deep in the
// log by cursor) on a log of 1,000 and one of 10,000 entries (one a minute,
// three operators), read in turns in the same loop: each size's time per
// page (the entries not cached: the store's cost), their ratio (1 is flat)
// and the store reads per page; next to the
// same pages read as the log was read before its buckets (filter and sort),
// measured in the same loop. Nothing here asserts on speed.
func BenchmarkAuditPage(b *testing.B) {
	ctx := context.Background()
	newest := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	type logOf struct {
		l       *MongoAuditLog
		filters []AuditFilter
		took    time.Duration
		reads   int64
		scan    time.Duration // the same page by the filter and sort the log was read with before its buckets
	}
	var logs []*logOf
	for _, n := range []int{1_000, 10_000} {
		db := testenv.DB(b)
		all := seedAudit(b, db, n, newest)
		l := NewMongoAuditLog(db)
		if _, err := l.Reindex(ctx); err != nil {
			b.Fatal(err)
		}
		if err := mongox.IndexIDs(ctx); err != nil { // as the embedded store does within idIndexEvery
			b.Fatal(err)
		}
		logs = append(logs, &logOf{l: l, filters: []AuditFilter{
			{Limit: 50},
			{Limit: 50, OperatorID: "s_op1"},
			{Limit: 50, OperatorID: "s_op2", From: newest.Add(-8 * time.Hour), To: newest.Add(-4 * time.Hour)},
			{Limit: 50, Before: all[n/2].ID},
		}})
	}
	pages := 0
	for b.Loop() {
		f := pages % len(logs[0].filters)
		for _, lg := range logs {
			clear(lg.l.cached) // the store's cost of a page, not the memory's
			lg.l.order, lg.l.next = nil, 0
			calls := testenv.StoreCalls(lg.l.coll.Database())
			t0 := time.Now()
			list, err := lg.l.List(ctx, lg.filters[f])
			lg.took += time.Since(t0)
			lg.reads += testenv.StoreCalls(lg.l.coll.Database()) - calls
			if err != nil || len(list) != 50 {
				b.Fatalf("page %+v: %d entries (%v)", lg.filters[f], len(list), err)
			}
			t0 = time.Now()
			old, err := scanPage(ctx, lg.l, lg.filters[f])
			lg.scan += time.Since(t0)
			if err != nil || len(old) != 50 || old[0].ID != list[0].ID || old[49].ID != list[49].ID {
				b.Fatalf("scanned page %+v differs (%v)", lg.filters[f], err)
			}
		}
		pages++
	}
	small, large := logs[0], logs[1]
	b.ReportMetric(float64(small.took.Nanoseconds())/float64(pages), "ns/page-1k")
	b.ReportMetric(float64(large.took.Nanoseconds())/float64(pages), "ns/page-10k")
	b.ReportMetric(float64(large.took)/float64(small.took), "ratio-10k/1k")
	b.ReportMetric(float64(large.scan)/float64(small.scan), "scan-ratio-10k/1k")
	b.ReportMetric(float64(large.scan)/float64(large.took), "scan/buckets-10k")
	b.ReportMetric(float64(small.reads)/float64(pages), "reads/page-1k")
	b.ReportMetric(float64(large.reads)/float64(pages), "reads/page-10k")
}

// scanPage is List as it was before the day buckets: a filter on operator
// and time, sorted by _id (the baseline).
func scanPage(ctx context.Context, l *MongoAuditLog, f AuditFilter) ([]AuditEntry, error) {
	filter := bson.D{}
	if f.OperatorID != "" {
		filter = append(filter, bson.E{Key: "operator_id", Value: f.OperatorID})
	}
	at := bson.D{}
	if !f.From.IsZero() {
		at = append(at, bson.E{Key: "$gte", Value: f.From})
	}
	if !f.To.IsZero() {
		at = append(at, bson.E{Key: "$lt", Value: f.To})
	}
	if len(at) > 0 {
		filter = append(filter, bson.E{Key: "at", Value: at})
	}
	if f.Before != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: f.Before}}})
	}
	cur, err := l.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(f.Limit)))
	if err != nil {
		return nil, err
	}
	var out []AuditEntry
	return out, cur.All(ctx, &out)
}
