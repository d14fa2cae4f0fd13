package casefile_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/booking"
	"zwfw/casefile"
	"zwfw/cases"
	"zwfw/logistics"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/platform/mongox"
	"zwfw/platform/testenv"
)

// BenchmarkCaseFile: one case's file (two bookings of its owner and one of
// someone else naming it, two fee notices, two parcels, six reminders
// shown of ten about it) in a store of 1,000 and one of 10,000 other
// cases, each with a booking, a notice, a parcel, two reminders and their
// index documents, read in turns in the same loop: each size's time per
// file through the index, their ratio (1 is flat) and the store reads per
// file; next to the same file read by the domains' list queries (as before
// the index), a few times in the same run after the loop. The first file of each store
// rebuilds its index (the case is from before the index), outside the
// loop. Nothing here asserts on speed.
func BenchmarkCaseFile(b *testing.B) {
	type store struct {
		w         *world
		c         *cases.Case
		took      time.Duration
		reads     int64
		scan      time.Duration
		scanReads int64
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var stores []*store
	for _, n := range []int{1_000, 10_000} {
		w := newWorld(b, now)
		if _, err := w.index.Since(w.ctx, now); err != nil {
			b.Fatal(err)
		}
		seedCases(b, w, n, now.AddDate(0, 0, -60))
		c := newCase("c_bench", "u_owner", "FZ-BENCH", now.AddDate(0, 0, -30))
		fill(w, c, now.AddDate(0, 0, -29), true)
		if err := mongox.IndexIDs(w.ctx); err != nil { // as the embedded store does within its idIndexEvery
			b.Fatal(err)
		}
		if f := w.file(c); len(f.Reminders) != 6 { // rebuilds the index
			b.Fatalf("the bench case's file: %s", summary(f))
		}
		stores = append(stores, &store{w: w, c: c})
	}
	runtime.GC() // the seeding's garbage is not the files' cost
	files := 0
	for b.Loop() {
		for i := range stores {
			s := stores[(i+files)%len(stores)] // each size first in turn
			calls := testenv.StoreCalls(s.w.db)
			t0 := time.Now()
			f := s.w.file(s.c)
			s.took += time.Since(t0)
			s.reads += testenv.StoreCalls(s.w.db) - calls
			if len(f.Bookings) != 2 || len(f.Reminders) != 6 {
				b.Fatalf("file:\n%s", summary(f))
			}
		}
		files++
	}
	// The lists, after the loop: a list read of the larger store takes
	// seconds and leaves garbage that would be charged to the next files.
	b.StopTimer()
	const scans = 2
	for range scans {
		for _, s := range stores {
			calls := testenv.StoreCalls(s.w.db)
			t0 := time.Now()
			old := s.w.listedFile(s.c)
			s.scan += time.Since(t0)
			s.scanReads += testenv.StoreCalls(s.w.db) - calls
			if len(old.Reminders) != 6 {
				b.Fatalf("file by the lists:\n%s", summary(old))
			}
		}
	}
	small, large := stores[0], stores[1]
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(files) }
	perScan := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / scans }
	b.ReportMetric(per(small.took), "ns/file-1k")
	b.ReportMetric(per(large.took), "ns/file-10k")
	b.ReportMetric(float64(large.took)/float64(small.took), "ratio-10k/1k")
	b.ReportMetric(float64(small.reads)/float64(files), "reads/file-1k")
	b.ReportMetric(float64(large.reads)/float64(files), "reads/file-10k")
	b.ReportMetric(perScan(small.scan), "scan-ns/file-1k")
	b.ReportMetric(perScan(large.scan), "scan-ns/file-10k")
	b.ReportMetric(float64(large.scan)/float64(small.scan), "scan-ratio-10k/1k")
	b.ReportMetric(float64(large.scanReads)/scans, "scan-reads/file-10k")
	b.ReportMetric(perScan(large.scan)/per(large.took), "scan/index-10k")
}

// seedCases stores, in batches straight into the collections, n cases'
// records (a booking, a notice, a parcel, two reminders each) with the
// index documents their events and notify would have made.
func seedCases(b *testing.B, w *world, n int, at time.Time) {
	batches := map[string][]any{}
	flush := func(coll string, force bool) {
		if len(batches[coll]) == 0 || (!force && len(batches[coll]) < 1000) {
			return
		}
		if _, err := w.db.Collection(coll).InsertMany(w.ctx, batches[coll]); err != nil {
			b.Fatalf("seed %s: %v", coll, err)
		}
		batches[coll] = batches[coll][:0]
	}
	add := func(coll string, doc any) {
		batches[coll] = append(batches[coll], doc)
		flush(coll, false)
	}
	for i := range n {
		user, cs, number := fmt.Sprintf("u_%06d", i), fmt.Sprintf("c_%012x", i), fmt.Sprintf("FZ%08d", i)
		bk := &booking.Booking{ID: fmt.Sprintf("b_%024x", 1000+i), Number: fmt.Sprintf("YY%014d", 1000+i), UserID: user,
			HallID: "fz-gl", ItemCode: "330100-001", CaseID: cs, SlotStart: at, SlotEnd: at.Add(30 * time.Minute),
			Status: booking.StatusConfirmed, Timeline: []booking.Entry{}, Version: 1, CreatedAt: at, UpdatedAt: at}
		p := payments.Payment{ID: fmt.Sprintf("8%019d", i), Agency: "市市场监管局", Amount: 5000, IssuedAt: at, DueAt: at,
			CaseNumber: number, Status: payments.StatusUnpaid, UserIDs: []string{user}, Version: 1, CreatedAt: at, UpdatedAt: at}
		sh := &logistics.Shipment{ID: fmt.Sprintf("shp_s%019d", i), CaseID: cs, UserID: user, Direction: logistics.ToApplicant,
			State: logistics.StateCreated, Timeline: []logistics.TrackEvent{}, Version: 1, CreatedAt: at, UpdatedAt: at}
		add(booking.BookingsCollection, bk)
		add(payments.PaymentsCollection, p)
		add(logistics.ShipmentsCollection, sh)
		for j, subject := range []string{cases.Subject(cs), payments.Subject(p.ID)} {
			id := notify.DedupID(user, notify.RuleCaseAccepted, subject)
			add(notify.MessagesCollection, &notify.Message{ID: id, PublicID: fmt.Sprintf("s%06d%d", i, j), UserID: user,
				RuleID: notify.RuleCaseAccepted, Subject: subject, State: notify.StateSent, Inbox: true,
				Attempts: []notify.Attempt{}, CreatedAt: at, UpdatedAt: at})
			add(notify.AboutCollection, bson.M{"_id": "about:" + subject, "ids": bson.A{id}})
		}
		add(casefile.IndexCollection, bson.M{"_id": "case:" + cs, "bookings": bson.A{bk.ID}, "shipments": bson.A{sh.ID}, "built_at": at})
		add(casefile.IndexCollection, bson.M{"_id": "no:" + number, "payments": bson.A{p.ID}})
	}
	for coll := range batches {
		flush(coll, true)
	}
}
