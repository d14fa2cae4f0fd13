package jobs

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"zwfw/platform/testenv"
)

// BenchmarkEnqueueAndRun measures jobs per second through enqueue -> claim ->
// handler -> done on the test store.
func BenchmarkEnqueueAndRun(b *testing.B) {
	db := testenv.DB(b)
	q := NewQueue(db)
	ctx := context.Background()
	if err := q.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	opts := fastOptions("bench")
	opts.Concurrency = 4
	r := NewRunner(db, opts)
	var handled atomic.Int64
	r.Register("bench", func(context.Context, *Job) error { handled.Add(1); return nil })
	startRunner(b, r)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, _, err := q.Enqueue(ctx, EnqueueRequest{Type: "bench", Key: fmt.Sprint(i)}); err != nil {
			b.Fatal(err)
		}
	}
	waitFor(b, "all handled", func() bool { return handled.Load() == int64(b.N) })
	waitFor(b, "all done", func() bool {
		s, err := q.Stats(ctx)
		return err == nil && s["done"] == int64(b.N)
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}
