package jobs

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	waitFor     = testenv.WaitFor
	quietLogger = testenv.QuietLogger
)

// fastOptions are runner options for tests: quick polls and retries, and a
// lease long enough that a slow CI machine never loses it by accident.
func fastOptions(owner string) RunnerOptions {
	return RunnerOptions{
		Owner:         owner,
		Concurrency:   3,
		LeaseDuration: 10 * time.Second,
		PollInterval:  50 * time.Millisecond,
		Backoff:       func(int) time.Duration { return 20 * time.Millisecond },
		Logger:        quietLogger(),
	}
}

// startRunner starts r and stops it gracefully when the test ends.
func startRunner(t testing.TB, r *Runner) {
	t.Helper()
	r.Start(context.Background())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	})
}

func getJob(t testing.TB, q *Queue, id string) Job {
	t.Helper()
	j, err := q.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return j
}

func newQueue(t testing.TB) (*mongo.Database, *Queue) {
	t.Helper()
	db := testenv.DB(t)
	q := NewQueue(db)
	if err := q.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, q
}
