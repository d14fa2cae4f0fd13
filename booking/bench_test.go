package booking

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/testenv"
	"zwfw/platform/workdays"
)

// BenchmarkBookVsRawGuarded measures, in one run, the raw guarded
// findOneAndUpdate rate and the booking rate, and reports their ratio: the
// cost of every rule and compensation step over the bare capacity check.
func BenchmarkBookVsRawGuarded(b *testing.B) {
	e := newEnv(b, Rules{})
	ctx := context.Background()
	if _, err := e.db.Collection(SlotCountersCollection).InsertOne(ctx, bson.D{{Key: "_id", Value: "raw"}, {Key: "taken", Value: 0}}); err != nil {
		b.Fatal(err)
	}
	cfg, _ := e.svc.HallConfig(ctx, "h1")
	cfg.Windows[0].PerSlotCapacity = 1000
	if _, err := e.svc.PutHallConfig(ctx, *cfg); err != nil {
		b.Fatal(err)
	}
	views, err := e.svc.Slots(ctx, "h1", "B", workdays.DateOf(e.clock.Now()).AddDays(1), 7)
	if err != nil {
		b.Fatal(err)
	}
	var starts []time.Time
	for _, v := range views {
		if v.Bookable {
			starts = append(starts, v.Start)
		}
	}
	b.ResetTimer()
	t0 := time.Now()
	for range b.N {
		if err := e.store.RawIncrement(ctx, "raw"); err != nil {
			b.Fatal(err)
		}
	}
	raw := float64(b.N) / time.Since(t0).Seconds()
	calls0, by0 := testenv.StoreCalls(e.db), testenv.StoreCallsBy(e.db)
	t1 := time.Now()
	for i := range b.N {
		req := BookRequest{HallID: "h1", ItemCode: "B", SlotStart: starts[i%len(starts)]}
		if _, err := e.svc.Book(ctx, fmt.Sprintf("ratio-%d", i), req); err != nil {
			b.Fatal(err)
		}
	}
	book := float64(b.N) / time.Since(t1).Seconds()
	calls := float64(testenv.StoreCalls(e.db)-calls0) / float64(b.N)
	b.StopTimer()
	b.ReportMetric(raw, "raw_guarded/s")
	b.ReportMetric(book, "bookings/s")
	b.ReportMetric(book/raw, "book/raw")
	// The write goal: a booking in at most 3 store calls.
	b.ReportMetric(calls, "store_calls/op")
	b.Logf("store calls per op: %s", testenv.CallsPerOp(by0, testenv.StoreCallsBy(e.db), b.N))
}
