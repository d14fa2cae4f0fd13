package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/platform/mongox"
	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// listAll pages through the log with f as the handlers do (cursor = the
// last id of a full page) and returns the ids in order.
func listAll(t *testing.T, l AuditLog, f AuditFilter) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		list, err := l.List(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			ids = append(ids, e.ID)
		}
		if len(list) < f.Limit {
			return ids
		}
		f.Before = list[len(list)-1].ID
	}
}

// expect is what a filter should return from entries, newest first.
func expect(entries []AuditEntry, f AuditFilter) []string {
	var ids []string
	for _, e := range entries {
		if (f.OperatorID == "" || e.OperatorID == f.OperatorID) && (f.From.IsZero() || !e.At.Before(f.From)) &&
			(f.To.IsZero() || e.At.Before(f.To)) {
			ids = append(ids, e.ID)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids
}

func TestAuditLogPagesByOperatorAndTime(t *testing.T) {
	defer func(n int) { bucketSize = n }(bucketSize)
	bucketSize = 4 // several buckets a day
	ctx := context.Background()
	l := NewMongoAuditLog(testenv.DB(t))
	if err := l.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 30, 20, 0, 0, 0, time.UTC) // across a new year
	var all []AuditEntry
	for i := range 60 {
		e := AuditEntry{At: base.Add(time.Duration(i) * 97 * time.Minute), OperatorID: []string{"s_a", "s_b", "s_c"}[i%3],
			Ticket: fmt.Sprintf("T%d", i), QueryType: "phone", Query: "138****0000"}
		if err := l.Append(ctx, &e); err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	for _, f := range []AuditFilter{
		{Limit: 7},
		{Limit: 50},
		{Limit: 5, OperatorID: "s_b"},
		{Limit: 3, OperatorID: "s_a", From: base.Add(20 * time.Hour), To: base.Add(50 * time.Hour)},
		{Limit: 4, From: base.Add(27 * time.Hour)},
		{Limit: 4, To: base.Add(29 * time.Hour)},
		{Limit: 4, OperatorID: "s_nobody"},
	} {
		if got, want := listAll(t, l, f), expect(all, f); !slices.Equal(got, want) {
			t.Errorf("%+v:\n got %v\nwant %v", f, got, want)
		}
	}
	// A cursor from the other end of the range still pages from it.
	got, err := l.List(ctx, AuditFilter{Limit: 2, Before: all[10].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != all[9].ID || got[1].ID != all[8].ID || got[0].Ticket != "T9" {
		t.Errorf("page before #10: %+v", got)
	}
}

// Writers racing on one day fill and roll its buckets without losing or
// doubling an entry.
func TestAuditLogConcurrentAppendsLoseNothing(t *testing.T) {
	defer func(n int) { bucketSize = n }(bucketSize)
	bucketSize = 7
	ctx := context.Background()
	db := testenv.DB(t)
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var (
		mu  sync.Mutex
		all []AuditEntry
		wg  sync.WaitGroup
	)
	for w := range 6 {
		l := NewMongoAuditLog(db) // a replica each: no shared cache
		wg.Go(func() {
			for i := range 20 {
				e := AuditEntry{At: at.Add(time.Duration(i) * time.Second), OperatorID: fmt.Sprintf("s_%d", w%2)}
				if err := l.Append(ctx, &e); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				all = append(all, e)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	l := NewMongoAuditLog(db)
	for _, f := range []AuditFilter{{Limit: 9}, {Limit: 200}, {Limit: 8, OperatorID: "s_1"}} {
		if got, want := listAll(t, l, f), expect(all, f); !slices.Equal(got, want) {
			t.Errorf("%+v: got %d entries, want %d", f, len(got), len(want))
		}
	}
}

// An id named by a bucket whose entry was never stored (its writer crashed
// in between) is skipped.
func TestAuditLogSkipsADanglingID(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	l := NewMongoAuditLog(db)
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 3 {
		e := AuditEntry{At: at.Add(time.Duration(i) * time.Minute), OperatorID: "s_a"}
		if err := l.Append(ctx, &e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	if _, err := mongox.C(db, "audit_log").DeleteOne(ctx, bson.D{{Key: "_id", Value: ids[1]}}); err != nil {
		t.Fatal(err)
	}
	if got := listAll(t, l, AuditFilter{Limit: 2}); !slices.Equal(got, []string{ids[2], ids[0]}) {
		t.Errorf("got %v", got)
	}
}

// A log written before the buckets existed is indexed once at start.
func TestAuditLogIndexesAnOlderLog(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	all := seedAudit(t, db, 300, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	l := NewMongoAuditLog(db)
	if err := l.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	f := AuditFilter{Limit: 50, OperatorID: "s_op1"}
	if got, want := listAll(t, l, f), expect(all, f); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("got %d, want %d", len(got), len(want))
	}
	if n, err := NewMongoAuditLog(db).Reindex(ctx); err != nil || n != 0 {
		t.Errorf("second reindex added %d (%v)", n, err)
	}
}

// seedAudit stores n entries one a minute back from newest (all[0]), by
// three operators, in bulk and oldest first, without their buckets (Reindex adds them).
func seedAudit(tb testing.TB, db *mongo.Database, n int, newest time.Time) []AuditEntry {
	tb.Helper()
	coll := mongox.C(db, "audit_log")
	all := make([]AuditEntry, n)
	for i := range n {
		at := newest.Add(-time.Duration(i) * time.Minute)
		all[i] = AuditEntry{ID: fmt.Sprintf("a_%012x%012x", at.UnixMilli(), i), At: at, OperatorID: fmt.Sprintf("s_op%d", i%3),
			Ticket: fmt.Sprintf("T%08d", i), QueryType: "phone", Query: "138****8000", CaseIDs: []string{}}
	}
	batch := make([]any, 0, 1000)
	for i := n - 1; i >= 0; i-- { // oldest first, as they are written
		batch = append(batch, all[i])
		if len(batch) == cap(batch) || i == 0 {
			if _, err := coll.InsertMany(context.Background(), batch); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return all
}

// With 10,000 entries a page is read by _id alone: the years, the
// directory of each year, the buckets of each day it touches, and one find
// per entry; no find filters on anything else.
func TestAuditLogPageReadsByIDOnly(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	newest := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	all := seedAudit(t, db, 10_000, newest) // 7 days
	if _, err := NewMongoAuditLog(db).Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	client, rec := testenv.FindRecordingClient(t)
	l := NewMongoAuditLog(client.Database(db.Name()))
	for _, c := range []struct {
		f    AuditFilter
		days int
	}{
		{AuditFilter{Limit: 50}, 1},
		{AuditFilter{Limit: 50, OperatorID: "s_op2"}, 1},
		{AuditFilter{Limit: 50, Before: all[1430].ID}, 2}, // crosses a day
		{AuditFilter{Limit: 50, OperatorID: "s_op1", To: newest.Add(-72 * time.Hour)}, 1},
	} {
		rec.Take()
		got, err := l.List(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		want := expect(all, c.f)
		if c.f.Before != "" {
			want = want[slices.Index(want, c.f.Before)+1:]
		}
		if len(got) != 50 || got[0].ID != want[0] || got[49].ID != want[49] {
			t.Fatalf("%+v: wrong page", c.f)
		}
		filters := rec.Take()
		buckets := c.days * (1440/bucketSize + 1) // a day of 1,440 entries fills 1440/bucketSize+1 "all" buckets
		if limit := 1 + 1 + buckets + 50; len(filters) > limit {
			t.Errorf("%+v: %d finds, want at most %d", c.f, len(filters), limit)
		}
		// Again: the entries come from memory, only the index is read.
		if again, err := l.List(ctx, c.f); err != nil || !slices.EqualFunc(again, got, func(a, b AuditEntry) bool { return a.ID == b.ID }) {
			t.Fatalf("%+v: the page again differs (%v)", c.f, err)
		}
		againFilters := rec.Take()
		filters = append(filters, againFilters...)
		if n := len(againFilters); n > 1+1+buckets || n == 0 {
			t.Errorf("%+v: the page again: %d finds, want the index's alone", c.f, n)
		}
		for _, f := range filters {
			_, doc, _ := strings.Cut(f, " ")
			var d bson.D
			if err := bson.UnmarshalExtJSON([]byte(doc), false, &d); err != nil || len(d) != 1 || d[0].Key != "_id" {
				t.Errorf("a find not by _id alone: %s", f)
				continue
			}
			if _, ok := d[0].Value.(string); !ok {
				t.Errorf("a find not by one _id: %s", f)
			}
		}
	}
}
