package jobs

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/platform/mongox"
	"zwfw/platform/testenv"
)

// testClock is a clock the test moves; tick, when set, advances it on every read.
type testClock struct {
	mu   sync.Mutex
	t    time.Time
	tick time.Duration
}

func newTestClock() *testClock { return &testClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.tick)
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// hintedQueue is a queue on the embedded store with its clock held by the test.
func hintedQueue(t *testing.T) (*mongo.Database, *Queue, *testClock) {
	t.Helper()
	db, q := newQueue(t)
	if !mongox.IsFerretDB(context.Background(), db) {
		t.Skip("the claim hint is on the embedded store only")
	}
	clk := newTestClock()
	q.now = clk.Now
	return db, q, clk
}

func mustClaim(t *testing.T, q *Queue, owner string) *Job {
	t.Helper()
	j, err := q.claim(context.Background(), []string{"t"}, owner, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// Claims the hint serves are guarded writes by _id: one find (the
// document by _id) and one findAndModify each, and an empty claim costs
// nothing. The scanning claim makes a findAndModify without a find, so this
// fails if claims bypass the hint.
func TestClaimByHintWritesByID(t *testing.T) {
	db, q, clk := hintedQueue(t)
	ctx := context.Background()
	// Written before the hint is loaded: the load finds it.
	rawPending(t, db, "t:early", clk.Now().Add(-time.Hour))
	if j := mustClaim(t, q, "w"); j == nil || j.ID != "t:early" {
		t.Fatalf("first claim = %+v, want t:early from the hint's load", j)
	}
	const n = 12
	for i := range n { // the later enqueued, the earlier due
		if _, _, err := q.Enqueue(ctx, EnqueueRequest{Type: "t", Key: fmt.Sprint(i), RunAt: clk.Now().Add(-time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, _ = q.Enqueue(ctx, EnqueueRequest{Type: "other", Key: "x"})
	_, _, _ = q.Enqueue(ctx, EnqueueRequest{Type: "t", Key: "later", RunAt: clk.Now().Add(time.Second)})

	before := testenv.StoreCallsBy(db)
	for i := range n {
		j := mustClaim(t, q, "w")
		if want := JobID("t", fmt.Sprint(n-1-i)); j == nil || j.ID != want || j.State != StateRunning || j.Attempts != 1 {
			t.Fatalf("claim %d = %+v, want %s (earliest run_at first)", i, j, want)
		}
	}
	if j := mustClaim(t, q, "w"); j != nil {
		t.Fatalf("claimed %s: not due or not of the wanted type", j.ID)
	}
	after := testenv.StoreCallsBy(db)
	got := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			got[k] = d
		}
	}
	if want := map[string]int64{"find jobs": n, "findAndModify jobs": n}; !maps.Equal(got, want) {
		t.Fatalf("store calls for %d claims and an empty one = %v, want %v", n, got, want)
	}
	if s := q.scanClaims.Load(); s != 0 {
		t.Fatalf("%d scanning claims, want none", s)
	}
}

// A job written behind the hint's back is claimed by the safety-net scan
// once its period has passed; a stale entry is corrected by its failed try.
func TestClaimSafetyNetFindsJobsBehindTheHint(t *testing.T) {
	db, q, clk := hintedQueue(t)
	ctx := context.Background()
	if j := mustClaim(t, q, "w"); j != nil { // loads the hint
		t.Fatalf("claimed %s from an empty queue", j.ID)
	}
	rawPending(t, db, "t:raw", clk.Now())
	if j := mustClaim(t, q, "w"); j != nil {
		t.Fatalf("claimed %s before the safety net was due: the claim scanned", j.ID)
	}
	clk.Add(q.scanEvery)
	j := mustClaim(t, q, "w")
	if j == nil || j.ID != "t:raw" || q.scanClaims.Load() != 1 {
		t.Fatalf("claim after the safety-net period = %+v, scans %d; want t:raw by one scan", j, q.scanClaims.Load())
	}

	// Entries the store no longer backs: tried once, then dropped.
	gone, _, _ := q.Enqueue(ctx, EnqueueRequest{Type: "t", Key: "gone"})
	done, _, _ := q.Enqueue(ctx, EnqueueRequest{Type: "t", Key: "done"})
	coll := db.Collection(CollectionName)
	if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: gone.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: done.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: StateDone}}}}); err != nil {
		t.Fatal(err)
	}
	if j := mustClaim(t, q, "w"); j != nil {
		t.Fatalf("claimed %s (%s)", j.ID, j.State)
	}
	q.due.mu.Lock()
	left := len(q.due.jobs)
	q.due.mu.Unlock()
	if left != 1 { // t:raw, running
		t.Fatalf("hint holds %d jobs after the stale tries, want 1", left)
	}
}

// A retried job is not claimed before its new run_at, by the hint or the scan.
func TestRetriedJobWaitsForItsRunAt(t *testing.T) {
	_, q, clk := hintedQueue(t)
	ctx := context.Background()
	if _, _, err := q.Enqueue(ctx, EnqueueRequest{Type: "t", Key: "k"}); err != nil {
		t.Fatal(err)
	}
	j := mustClaim(t, q, "w")
	if j == nil {
		t.Fatal("nothing claimed")
	}
	if ok, err := q.reschedule(ctx, j, clk.Now().Add(time.Minute), "busy"); !ok || err != nil {
		t.Fatalf("reschedule: %v %v", ok, err)
	}
	for _, step := range []time.Duration{30 * time.Second, 29*time.Second + 999*time.Millisecond} {
		clk.Add(step) // past the safety-net period too: the scan runs and must agree
		if got := mustClaim(t, q, "w"); got != nil {
			t.Fatalf("claimed %s before its run_at", got.ID)
		}
	}
	if q.scanClaims.Load() == 0 {
		t.Fatal("the safety-net scan never ran")
	}
	clk.Add(time.Millisecond)
	got := mustClaim(t, q, "w")
	if got == nil || got.ID != j.ID || got.Attempts != 2 {
		t.Fatalf("claim at run_at = %+v", got)
	}
}

// Many claimers on two Queues of the process, the hint and the scan mixed,
// while jobs are still being enqueued: every job is claimed exactly once.
func TestConcurrentClaimersClaimEachJobOnce(t *testing.T) {
	db, q1, clk := hintedQueue(t)
	clk.tick = time.Millisecond
	q2 := NewQueue(db)
	q2.now = clk.Now
	q2.scanEvery = 5 * time.Millisecond // q2 scans every few claims
	ctx := context.Background()
	const n, claimers = 120, 50
	for i := range n / 2 {
		if _, _, err := q1.Enqueue(ctx, EnqueueRequest{Type: "t", Key: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		claimed sync.Map
		count   atomic.Int64
		wg      sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := n / 2; i < n; i++ {
			if _, _, err := q2.Enqueue(ctx, EnqueueRequest{Type: "t", Key: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for g := range claimers {
		q := []*Queue{q1, q2}[g%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for count.Load() < n && time.Now().Before(deadline) {
				j, err := q.claim(ctx, []string{"t"}, fmt.Sprint("w", g), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if j == nil {
					time.Sleep(time.Millisecond)
					continue
				}
				if prev, dup := claimed.LoadOrStore(j.ID, g); dup {
					t.Errorf("%s claimed by %d and %d", j.ID, prev, g)
				}
				if j.Attempts != 1 {
					t.Errorf("%s claimed with attempts %d", j.ID, j.Attempts)
				}
				count.Add(1)
				if ok, err := q.complete(ctx, j); !ok || err != nil {
					t.Errorf("complete %s: %v %v", j.ID, ok, err)
				}
			}
		}()
	}
	wg.Wait()
	if got := count.Load(); got != n {
		t.Fatalf("claimed %d jobs, want %d", got, n)
	}
	if s, err := q1.Stats(ctx); err != nil || s["done"] != n {
		t.Fatalf("stats = %v, %v", s, err)
	}
	t.Logf("scanning claims: q1 %d, q2 %d of %d", q1.scanClaims.Load(), q2.scanClaims.Load(), n)
}

// A running job whose lease expired is taken over through the hint, by
// another Queue of the process, and the old claim is fenced off.
func TestExpiredLeaseTakenOverByHint(t *testing.T) {
	db, q1, clk := hintedQueue(t)
	q2 := NewQueue(db)
	q2.now = clk.Now
	q1.scanEvery, q2.scanEvery = time.Hour, time.Hour
	ctx := context.Background()
	if _, _, err := q1.Enqueue(ctx, EnqueueRequest{Type: "t", Key: "k"}); err != nil {
		t.Fatal(err)
	}
	j1 := mustClaim(t, q1, "a")
	if j1 == nil {
		t.Fatal("nothing claimed")
	}
	clk.Add(30 * time.Second)
	if ok, err := q1.renew(ctx, j1, time.Minute); !ok || err != nil { // lease now ends at +90 s
		t.Fatalf("renew: %v %v", ok, err)
	}
	clk.Add(45 * time.Second)
	if j := mustClaim(t, q2, "b"); j != nil {
		t.Fatalf("took over %s under a live (renewed) lease", j.ID)
	}
	clk.Add(15*time.Second + time.Millisecond)
	j2 := mustClaim(t, q2, "b")
	if j2 == nil || j2.ID != j1.ID || j2.LeaseOwner != "b" || j2.Attempts != 2 {
		t.Fatalf("takeover = %+v", j2)
	}
	if ok, _ := q1.complete(ctx, j1); ok {
		t.Fatal("the expired claim completed the job")
	}
	if ok, err := q2.complete(ctx, j2); !ok || err != nil {
		t.Fatalf("complete: %v %v", ok, err)
	}
	if s := q1.scanClaims.Load() + q2.scanClaims.Load(); s != 0 {
		t.Fatalf("%d scanning claims, want none", s)
	}
}

// rawPending writes a due job straight into the collection, as no Queue would.
func rawPending(t *testing.T, db *mongo.Database, id string, runAt time.Time) {
	t.Helper()
	now := utcMillis(runAt)
	if _, err := db.Collection(CollectionName).InsertOne(context.Background(), Job{
		ID: id, Type: "t", Payload: emptyDoc, State: StatePending, RunAt: now,
		MaxAttempts: DefaultMaxAttempts, CreatedAt: now, UpdatedAt: now, IdempotencyKey: id,
	}); err != nil {
		t.Fatal(err)
	}
}
