package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestRunnerOutcomes(t *testing.T) {
	tests := []struct {
		name         string
		maxAttempts  int
		handler      func(call int) error // call counts from 1
		wantState    State
		wantAttempts int
		wantErr      string // substring of last_error; "" means none
	}{
		{"success is done", 5, func(int) error { return nil }, StateDone, 1, ""},
		{"always failing is dead after max attempts with the last error", 3,
			func(call int) error { return fmt.Errorf("boom %d", call) }, StateDead, 3, "boom 3"},
		{"transient failure then success", 5, func(call int) error {
			if call < 3 {
				return errors.New("upstream 503")
			}
			return nil
		}, StateDone, 3, "upstream 503"},
		{"permanent error is dead at once", 5,
			func(int) error { return Permanent(errors.New("bad payload")) }, StateDead, 1, "bad payload"},
		{"panic is retried, not a crash", 5, func(call int) error {
			if call == 1 {
				panic("nil map")
			}
			return nil
		}, StateDone, 2, "panic: nil map"},
		{"retry-after overrides backoff", 5, func(call int) error {
			if call == 1 {
				return RetryAfter(errors.New("busy"), 10*time.Millisecond)
			}
			return nil
		}, StateDone, 2, "busy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, q := newQueue(t)
			var calls atomic.Int32
			var backoffs []int
			var mu sync.Mutex
			opts := fastOptions("w1")
			opts.Backoff = func(attempts int) time.Duration {
				mu.Lock()
				backoffs = append(backoffs, attempts)
				mu.Unlock()
				return 30 * time.Millisecond
			}
			r := NewRunner(db, opts)
			r.Register("t", func(ctx context.Context, j *Job) error {
				return tc.handler(int(calls.Add(1)))
			})
			startRunner(t, r)
			j, _, err := q.Enqueue(context.Background(), EnqueueRequest{Type: "t", Key: "k", MaxAttempts: tc.maxAttempts})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "final state", func() bool {
				s := getJob(t, q, j.ID).State
				return s == StateDone || s == StateDead
			})
			got := getJob(t, q, j.ID)
			if got.State != tc.wantState || got.Attempts != tc.wantAttempts || int(calls.Load()) != tc.wantAttempts {
				t.Fatalf("state %s attempts %d calls %d, want %s %d", got.State, got.Attempts, calls.Load(), tc.wantState, tc.wantAttempts)
			}
			if tc.wantErr == "" && got.LastError != "" || !strings.Contains(got.LastError, tc.wantErr) {
				t.Fatalf("last_error = %q, want %q", got.LastError, tc.wantErr)
			}
			if got.FinishedAt.IsZero() || got.LeaseOwner != "" || !got.LeaseUntil.IsZero() {
				t.Fatalf("finished job keeps lease or lacks finished_at: %+v", got)
			}
			// Backoff is asked once per retried failure, with the attempt that failed.
			mu.Lock()
			defer mu.Unlock()
			if tc.wantErr != "" && tc.wantState == StateDone && !strings.Contains(tc.name, "retry-after") {
				for i, a := range backoffs {
					if a != i+1 {
						t.Fatalf("backoff attempts = %v", backoffs)
					}
				}
				if len(backoffs) != tc.wantAttempts-1 {
					t.Fatalf("backoff calls = %v, want %d", backoffs, tc.wantAttempts-1)
				}
			}
		})
	}
}

func TestFailureSchedulesBackoff(t *testing.T) {
	db, q := newQueue(t)
	opts := fastOptions("w1")
	opts.Backoff = func(int) time.Duration { return time.Hour }
	r := NewRunner(db, opts)
	r.Register("t", func(context.Context, *Job) error { return errors.New("province down") })
	startRunner(t, r)
	before := time.Now()
	j, _, _ := q.Enqueue(context.Background(), EnqueueRequest{Type: "t", Key: "k"})
	waitFor(t, "retry scheduled", func() bool {
		g := getJob(t, q, j.ID)
		return g.State == StatePending && g.Attempts == 1
	})
	g := getJob(t, q, j.ID)
	if g.RunAt.Before(before.Add(59*time.Minute)) || g.LastError != "province down" {
		t.Fatalf("after a failure: run_at %v, last_error %q", g.RunAt, g.LastError)
	}
}

func TestRetryDeadJob(t *testing.T) {
	db, q := newQueue(t)
	var fixed atomic.Bool
	r := NewRunner(db, fastOptions("w1"))
	r.Register("t", func(context.Context, *Job) error {
		if !fixed.Load() {
			return Permanent(errors.New("rejected"))
		}
		return nil
	})
	startRunner(t, r)
	ctx := context.Background()
	j, _, _ := q.Enqueue(ctx, EnqueueRequest{Type: "t", Key: "k"})
	waitFor(t, "dead", func() bool { return getJob(t, q, j.ID).State == StateDead })
	if s, _ := q.Stats(ctx); s["dead"] != 1 || s["done"] != 0 {
		t.Fatalf("stats = %v", s)
	}
	fixed.Store(true)
	rj, err := q.Retry(ctx, j.ID)
	if err != nil || rj.State != StatePending || rj.Attempts != 0 {
		t.Fatalf("retry: %+v %v", rj, err)
	}
	waitFor(t, "done after retry", func() bool { return getJob(t, q, j.ID).State == StateDone })
	if s, _ := q.Stats(ctx); s["dead"] != 0 || s["done"] != 1 {
		t.Fatalf("stats = %v", s)
	}
	n, err := q.PurgeDone(ctx, time.Now().Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("purge = %d, %v", n, err)
	}
}

func TestRunnerOnlyClaimsRegisteredTypes(t *testing.T) {
	db, q := newQueue(t)
	var ran atomic.Int32
	r := NewRunner(db, fastOptions("w1"))
	r.Register("mine", func(context.Context, *Job) error { ran.Add(1); return nil })
	startRunner(t, r)
	ctx := context.Background()
	other, _, _ := q.Enqueue(ctx, EnqueueRequest{Type: "theirs", Key: "1"})
	mine, _, _ := q.Enqueue(ctx, EnqueueRequest{Type: "mine", Key: "1"})
	later, _, _ := q.Enqueue(ctx, EnqueueRequest{Type: "mine", Key: "2", RunAt: time.Now().Add(time.Hour)})
	waitFor(t, "mine done", func() bool { return getJob(t, q, mine.ID).State == StateDone })
	if s := getJob(t, q, other.ID).State; s != StatePending {
		t.Fatalf("unregistered type was touched: %s", s)
	}
	if s := getJob(t, q, later.ID).State; s != StatePending {
		t.Fatalf("future job ran early: %s", s)
	}
}

// Two replicas with different owners drain one queue: every job is handled
// exactly once and never by both at the same time.
func TestTwoRunnersHandleEachJobOnce(t *testing.T) {
	db, q := newQueue(t)
	const n = 40
	var mu sync.Mutex
	counts := map[string]int{}
	byOwner := map[string]int{}
	var running sync.Map
	var overlap atomic.Bool
	runners := []*Runner{NewRunner(db, fastOptions("replica-a")), NewRunner(db, fastOptions("replica-b"))}
	for _, r := range runners {
		owner := r.Owner()
		r.Register("send", func(ctx context.Context, j *Job) error {
			if _, busy := running.LoadOrStore(j.ID, owner); busy {
				overlap.Store(true)
			}
			defer running.Delete(j.ID)
			time.Sleep(2 * time.Millisecond) // widen the window for a double claim
			mu.Lock()
			counts[j.ID]++
			byOwner[owner]++
			mu.Unlock()
			return nil
		})
		startRunner(t, r)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := q.Enqueue(ctx, EnqueueRequest{Type: "send", Key: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	waitFor(t, "all done", func() bool {
		s, err := q.Stats(ctx)
		return err == nil && s["done"] == n
	})
	mu.Lock()
	defer mu.Unlock()
	if len(counts) != n {
		t.Fatalf("handled %d distinct jobs, want %d", len(counts), n)
	}
	for id, c := range counts {
		if c != 1 {
			t.Fatalf("job %s handled %d times", id, c)
		}
	}
	if overlap.Load() {
		t.Fatal("a job ran on two workers at once")
	}
	t.Logf("handled by owner: %v", byOwner)
}

// The key acceptance test: kill a worker mid-job, start a new one, and the
// job completes exactly once in effect.
func TestKillMidJobThenRestartCompletesOnce(t *testing.T) {
	db, q := newQueue(t)
	ctx := context.Background()
	effects := db.Collection("effects")

	// The handler's effect is an upsert keyed by the idempotency key, the way
	// a real handler passes the key to the outside system.
	writeEffect := func(ctx context.Context, j *Job, by string) error {
		_, err := effects.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: j.IdempotencyKey}},
			bson.D{
				{Key: "$setOnInsert", Value: bson.D{{Key: "first_by", Value: by}}},
				{Key: "$inc", Value: bson.D{{Key: "deliveries", Value: 1}}},
			},
			options.UpdateOne().SetUpsert(true))
		return err
	}

	// Worker A: short lease; writes the effect, then hangs before reporting.
	optsA := fastOptions("worker-a")
	optsA.LeaseDuration = 300 * time.Millisecond
	a := NewRunner(db, optsA)
	started := make(chan struct{})
	a.Register("province.submit", func(ctx context.Context, j *Job) error {
		if err := writeEffect(ctx, j, "worker-a"); err != nil {
			return err
		}
		close(started)
		<-ctx.Done() // hangs until killed
		return ctx.Err()
	})
	a.Start(ctx)

	j, _, err := q.Enqueue(ctx, EnqueueRequest{Type: "province.submit", Key: "case-42", Payload: submitPayload{CaseID: "42"}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("worker A never started the job")
	}

	// Kill: stop with an already-cancelled context.
	killed, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.Stop(killed); err == nil {
		t.Fatal("hard stop reported a clean drain")
	}
	left := getJob(t, q, j.ID)
	if left.State != StateRunning || left.LeaseOwner != "worker-a" || left.Attempts != 1 {
		t.Fatalf("after the kill: state %s owner %q attempts %d, want running/worker-a/1", left.State, left.LeaseOwner, left.Attempts)
	}

	// Worker B: a fresh process; it takes the job once A's lease expires.
	b := NewRunner(db, fastOptions("worker-b"))
	var bCalls atomic.Int32
	b.Register("province.submit", func(ctx context.Context, j *Job) error {
		bCalls.Add(1)
		return writeEffect(ctx, j, "worker-b")
	})
	startRunner(t, b)
	waitFor(t, "job done by worker B", func() bool { return getJob(t, q, j.ID).State == StateDone })

	done := getJob(t, q, j.ID)
	if done.Attempts != 2 || bCalls.Load() != 1 {
		t.Fatalf("attempts %d, B calls %d; want 2 and 1", done.Attempts, bCalls.Load())
	}
	n, err := effects.CountDocuments(ctx, bson.D{})
	if err != nil || n != 1 {
		t.Fatalf("effects = %d (%v), want exactly 1", n, err)
	}
	var eff struct {
		FirstBy    string `bson:"first_by"`
		Deliveries int    `bson:"deliveries"`
	}
	if err := effects.FindOne(ctx, bson.D{{Key: "_id", Value: "case-42"}}).Decode(&eff); err != nil {
		t.Fatal(err)
	}
	// Delivered twice (at-least-once), one effect (idempotent at the receiver).
	if eff.FirstBy != "worker-a" || eff.Deliveries != 2 {
		t.Fatalf("effect = %+v", eff)
	}
}

func TestStopDrainsInFlightJobs(t *testing.T) {
	db, q := newQueue(t)
	ctx := context.Background()
	r := NewRunner(db, fastOptions("w1"))
	release := make(chan struct{})
	started := make(chan struct{})
	r.Register("t", func(ctx context.Context, j *Job) error {
		close(started)
		<-release
		return nil
	})
	r.Start(ctx)
	j, _, _ := q.Enqueue(ctx, EnqueueRequest{Type: "t", Key: "k"})
	<-started
	stopped := make(chan error, 1)
	go func() {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		stopped <- r.Stop(sctx)
	}()
	// Stop waits for the handler; after release the job is recorded done.
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if s := getJob(t, q, j.ID).State; s != StateDone {
		t.Fatalf("state after graceful stop = %s", s)
	}
	// A stopped runner claims nothing more.
	j2, _, _ := q.Enqueue(ctx, EnqueueRequest{Type: "t", Key: "k2"})
	time.Sleep(200 * time.Millisecond)
	if s := getJob(t, q, j2.ID).State; s != StatePending {
		t.Fatalf("stopped runner claimed a job: %s", s)
	}
}

// A worker that dies on the final attempt must not leave a job that loops
// forever: the takeover parks it as dead instead of running it again.
func TestKillOnFinalAttemptParksJobDead(t *testing.T) {
	db, q := newQueue(t)
	ctx := context.Background()
	optsA := fastOptions("worker-a")
	optsA.LeaseDuration = 300 * time.Millisecond
	a := NewRunner(db, optsA)
	started := make(chan struct{})
	a.Register("t", func(ctx context.Context, j *Job) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	a.Start(ctx)
	j, _, _ := q.Enqueue(ctx, EnqueueRequest{Type: "t", Key: "k", MaxAttempts: 1})
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("worker A never started the job")
	}
	killed, cancel := context.WithCancel(ctx)
	cancel()
	_ = a.Stop(killed)

	var bCalls atomic.Int32
	b := NewRunner(db, fastOptions("worker-b"))
	b.Register("t", func(context.Context, *Job) error { bCalls.Add(1); return nil })
	startRunner(t, b)
	waitFor(t, "dead", func() bool { return getJob(t, q, j.ID).State == StateDead })
	got := getJob(t, q, j.ID)
	if bCalls.Load() != 0 || !strings.Contains(got.LastError, "final attempt") {
		t.Fatalf("B calls %d, last_error %q", bCalls.Load(), got.LastError)
	}
}
