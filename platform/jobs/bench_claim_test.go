package jobs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"zwfw/platform/testenv"
)

// BenchmarkClaimAmongDoneJobs measures one job's trip through the queue the
// way the runner makes it (enqueue, claim, complete, and the claim that finds
// nothing more) with many done jobs left in the collection, as in
// production between purges. done=0 is the baseline of the same run: the
// ratio shows what the done jobs cost each claim.
func BenchmarkClaimAmongDoneJobs(b *testing.B) {
	for _, done := range []int{0, 3000} {
		b.Run(fmt.Sprintf("done=%d", done), func(b *testing.B) {
			db, q := newQueue(b)
			ctx := context.Background()
			seedDoneJobs(b, q, done)
			before := testenv.StoreCallsBy(db)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, _, err := q.Enqueue(ctx, EnqueueRequest{Type: "bench", Key: fmt.Sprint(i)}); err != nil {
					b.Fatal(err)
				}
				j, err := q.claim(ctx, []string{"bench"}, "w", time.Minute)
				if err != nil || j == nil {
					b.Fatalf("claim: %v %v", j, err)
				}
				if ok, err := q.complete(ctx, j); err != nil || !ok {
					b.Fatalf("complete: %v %v", ok, err)
				}
				if j, err := q.claim(ctx, []string{"bench"}, "w", time.Minute); err != nil || j != nil {
					b.Fatalf("empty claim: %v %v", j, err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
			b.Logf("done=%d n=%d store calls per job: %s", done, b.N, testenv.CallsPerOp(before, testenv.StoreCallsBy(db), b.N))
		})
	}
}

// seedDoneJobs writes n finished jobs straight into the collection.
func seedDoneJobs(t testing.TB, q *Queue, n int) {
	t.Helper()
	now := utcMillis(time.Now())
	for off := 0; off < n; off += 500 {
		var docs []any
		for i := off; i < min(n, off+500); i++ {
			docs = append(docs, Job{
				ID: fmt.Sprintf("old:%d", i), Type: "bench", Payload: emptyDoc, State: StateDone,
				RunAt: now, Attempts: 1, MaxAttempts: DefaultMaxAttempts,
				CreatedAt: now, UpdatedAt: now, FinishedAt: now, IdempotencyKey: fmt.Sprint(i),
			})
		}
		if _, err := q.coll.InsertMany(context.Background(), docs); err != nil {
			t.Fatal(err)
		}
	}
}
