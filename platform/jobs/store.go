package jobs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// CollectionName is the collection that holds jobs.
const CollectionName = "jobs"

// maxIDKeyLen keeps ids short; longer keys are hashed.
const maxIDKeyLen = 160

// maxErrorLen bounds last_error so a huge upstream body cannot bloat the document.
const maxErrorLen = 4000

// Queue enqueues jobs and answers operator questions about them. Domain
// packages hold a *Queue (or an interface with its Enqueue method); it is safe
// for concurrent use.
type Queue struct {
	coll *mongox.Collection
	hub  *mongox.Hub
	now  func() time.Time

	// On the embedded store: the process's claim candidates (duehint.go)
	// and this queue's safety-net scan.
	due        *dueHint
	scanEvery  time.Duration
	scanMu     sync.Mutex
	nextScan   time.Time
	scanClaims atomic.Int64 // scanning claims made, for tests
}

// NewQueue returns the queue stored in db's "jobs" collection.
func NewQueue(db *mongo.Database) *Queue {
	return &Queue{
		coll: mongox.C(db, CollectionName), hub: mongox.HubFor(db, "jobs"), now: time.Now,
		due: hintFor(db), scanEvery: defaultScanEvery,
	}
}

// EnsureIndexes creates the indexes the runner and the operator views use.
// Call it once at start-up; it is idempotent.
func (q *Queue) EnsureIndexes(ctx context.Context) error {
	err := q.coll.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "state", Value: 1}, {Key: "run_at", Value: 1}}},      // claim
		mongo.IndexModel{Keys: bson.D{{Key: "state", Value: 1}, {Key: "finished_at", Value: 1}}}, // purge
	)
	if err != nil {
		return fmt.Errorf("jobs: ensure indexes: %w", err)
	}
	return nil
}

// JobID is the deterministic id of the job Type+Key enqueues, so callers can
// look a job up without storing its id.
func JobID(jobType, key string) string {
	if len(key) > maxIDKeyLen {
		sum := sha256.Sum256([]byte(key))
		return jobType + ":h:" + hex.EncodeToString(sum[:])
	}
	return jobType + ":" + key
}

// Enqueue stores a job unless one with the same Type and Key exists. It
// returns the stored job and whether this call created it; a repeated call is
// a no-op that returns the existing job whatever its state or payload. Idle
// runners of this process are woken at once.
func (q *Queue) Enqueue(ctx context.Context, req EnqueueRequest) (Job, bool, error) {
	if req.Type == "" {
		return Job{}, false, errors.New("jobs: enqueue: empty type")
	}
	payload, err := marshalPayload(req.Payload)
	if err != nil {
		return Job{}, false, fmt.Errorf("jobs: enqueue %s: payload: %w", req.Type, err)
	}
	now := utcMillis(q.now())
	runAt := now
	if !req.RunAt.IsZero() {
		runAt = utcMillis(req.RunAt)
	}
	maxAttempts := req.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	var id, key string
	if req.Key == "" {
		id = req.Type + ":r:" + randomHex(12)
		key = id
	} else {
		id, key = JobID(req.Type, req.Key), req.Key
	}
	j := Job{
		ID: id, Type: req.Type, Payload: payload, State: StatePending,
		RunAt: runAt, MaxAttempts: maxAttempts,
		CreatedAt: now, UpdatedAt: now, IdempotencyKey: key,
	}
	// A plain insert is atomic on every store (the _id index is unique), and
	// it is one round trip in the common case of a new job.
	if _, err := q.coll.InsertOne(ctx, j); err != nil {
		if mongox.IsDuplicateKey(err) {
			existing, gerr := q.Get(ctx, id)
			return existing, false, gerr
		}
		return Job{}, false, fmt.Errorf("jobs: enqueue %s: %w", id, err)
	}
	q.hint(ctx).setJob(&j)
	q.hub.NotifyAfter(runAt.Sub(now))
	return j, true, nil
}

// Get returns the job with the id, or ErrNotFound.
func (q *Queue) Get(ctx context.Context, id string) (Job, error) {
	var j Job
	err := q.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&j)
	if mongox.IsNoDocuments(err) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("jobs: get %s: %w", id, err)
	}
	return j, nil
}

// Filter selects jobs for List; empty fields match everything.
type Filter struct {
	State State
	Type  string
}

// List returns up to limit jobs (default 100, at most 1000) matching f, most
// recently updated first. It is for operator views, not for hot paths.
func (q *Queue) List(ctx context.Context, f Filter, limit int) ([]Job, error) {
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		limit = 1000
	}
	filter := bson.D{}
	if f.State != "" {
		filter = append(filter, bson.E{Key: "state", Value: f.State})
	}
	if f.Type != "" {
		filter = append(filter, bson.E{Key: "type", Value: f.Type})
	}
	opts := options.Find().SetSort(bson.D{{Key: "updated_at", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit))
	cur, err := q.coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	out := []Job{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	return out, nil
}

// Retry puts a dead job back to pending, due now, with a fresh attempt
// budget (last_error is kept for the record). Operators call it once the
// cause is fixed. It returns ErrNotFound or ErrNotDead when it cannot.
func (q *Queue) Retry(ctx context.Context, id string) (Job, error) {
	now := utcMillis(q.now())
	var j Job
	err := q.coll.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: StateDead}},
		bson.D{
			{Key: "$set", Value: bson.D{
				{Key: "state", Value: StatePending}, {Key: "run_at", Value: now},
				{Key: "attempts", Value: 0}, {Key: "updated_at", Value: now},
			}},
			{Key: "$unset", Value: bson.D{{Key: "finished_at", Value: ""}}},
		},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&j)
	if mongox.IsNoDocuments(err) {
		if _, gerr := q.Get(ctx, id); gerr != nil {
			return Job{}, gerr
		}
		return Job{}, ErrNotDead
	}
	if err != nil {
		return Job{}, fmt.Errorf("jobs: retry %s: %w", id, err)
	}
	q.hint(ctx).setJob(&j)
	q.hub.Notify()
	return j, nil
}

// Stats counts jobs by state, with every state present, for metrics.
func (q *Queue) Stats(ctx context.Context) (map[string]int64, error) {
	cur, err := q.coll.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$state"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: stats: %w", err)
	}
	var rows []struct {
		State string `bson:"_id"`
		N     int64  `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("jobs: stats: %w", err)
	}
	out := map[string]int64{
		string(StatePending): 0, string(StateRunning): 0, string(StateDone): 0, string(StateDead): 0,
	}
	for _, r := range rows {
		out[r.State] += r.N
	}
	return out, nil
}

// PurgeDone deletes done jobs finished before t and returns how many. There
// is no TTL index on the embedded store, so the app calls this periodically
// (itself a good job). A purged job's key can be enqueued again.
func (q *Queue) PurgeDone(ctx context.Context, finishedBefore time.Time) (int64, error) {
	res, err := q.coll.DeleteMany(ctx, bson.D{
		{Key: "state", Value: StateDone},
		{Key: "finished_at", Value: bson.D{{Key: "$lt", Value: utcMillis(finishedBefore)}}},
	})
	if err != nil {
		return 0, fmt.Errorf("jobs: purge: %w", err)
	}
	return res.DeletedCount, nil
}

// claim takes the next due job of one of types for owner: a pending job whose
// run_at has come, or a running job whose lease expired (its worker died).
// It returns nil when nothing is due. On the embedded store the process's
// hint chooses the job (duehint.go); the scanning claim is its safety net.
func (q *Queue) claim(ctx context.Context, types []string, owner string, lease time.Duration) (*Job, error) {
	now := utcMillis(q.now())
	h := q.hint(ctx)
	if h == nil {
		return q.claimScan(ctx, types, owner, lease, now)
	}
	if err := h.load(ctx, q.coll); err != nil {
		return nil, err
	}
	if q.scanDue(now) {
		j, err := q.claimScan(ctx, types, owner, lease, now)
		h.setJob(j)
		if j != nil || err != nil {
			return j, err
		}
	}
	return q.claimByHint(ctx, h, types, owner, lease, now)
}

// claimScan is the claim as one guarded write over the whole queue: the
// claim on MongoDB (by the state/run_at index), and the safety net on the
// embedded store, where it reads every job.
func (q *Queue) claimScan(ctx context.Context, types []string, owner string, lease time.Duration, now time.Time) (*Job, error) {
	q.scanClaims.Add(1)
	filter := bson.D{
		{Key: "type", Value: bson.D{{Key: "$in", Value: types}}},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "state", Value: StatePending}, {Key: "run_at", Value: bson.D{{Key: "$lte", Value: now}}}},
			bson.D{{Key: "state", Value: StateRunning}, {Key: "lease_until", Value: bson.D{{Key: "$lt", Value: now}}}},
		}},
	}
	return q.claimWrite(ctx, filter, bson.D{{Key: "run_at", Value: 1}}, owner, lease, now)
}

// claimWrite leases the job filter matches (the first by sort) to owner.
func (q *Queue) claimWrite(ctx context.Context, filter, sort bson.D, owner string, lease time.Duration, now time.Time) (*Job, error) {
	update := bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "state", Value: StateRunning}, {Key: "lease_owner", Value: owner},
			{Key: "lease_until", Value: now.Add(lease)}, {Key: "updated_at", Value: now},
		}},
		{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}},
	}
	opts := options.FindOneAndUpdate().SetReturnDocument(options.After)
	if sort != nil {
		opts.SetSort(sort)
	}
	var j Job
	err := q.coll.FindOneAndUpdate(ctx, filter, update, opts).Decode(&j)
	if mongox.IsNoDocuments(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: claim: %w", err)
	}
	return &j, nil
}

// leaseFilter matches the job only while this claim still holds it. attempts
// is the fencing token: it tells this claim from a later one by the same owner.
func leaseFilter(j *Job) bson.D {
	return bson.D{
		{Key: "_id", Value: j.ID}, {Key: "state", Value: StateRunning},
		{Key: "lease_owner", Value: j.LeaseOwner}, {Key: "attempts", Value: j.Attempts},
	}
}

// renew extends the lease; false means the lease is gone.
func (q *Queue) renew(ctx context.Context, j *Job, lease time.Duration) (bool, error) {
	now := utcMillis(q.now())
	ok, err := q.guardedUpdate(ctx, leaseFilter(j), bson.D{{Key: "$set", Value: bson.D{
		{Key: "lease_until", Value: now.Add(lease)}, {Key: "updated_at", Value: now},
	}}})
	if ok {
		q.hint(ctx).set(j.ID, j.Type, StateRunning, j.RunAt, now.Add(lease))
	}
	return ok, err
}

// complete marks the claimed job done; false means the lease was lost first.
func (q *Queue) complete(ctx context.Context, j *Job) (bool, error) {
	now := utcMillis(q.now())
	ok, err := q.guardedUpdate(ctx, leaseFilter(j), bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "state", Value: StateDone}, {Key: "finished_at", Value: now}, {Key: "updated_at", Value: now},
		}},
		{Key: "$unset", Value: bson.D{{Key: "lease_owner", Value: ""}, {Key: "lease_until", Value: ""}}},
	})
	if ok {
		q.hint(ctx).drop(j.ID)
	}
	return ok, err
}

// reschedule puts the claimed job back to pending at runAt with the error.
func (q *Queue) reschedule(ctx context.Context, j *Job, runAt time.Time, cause string) (bool, error) {
	now := utcMillis(q.now())
	runAt = utcMillis(runAt)
	ok, err := q.guardedUpdate(ctx, leaseFilter(j), bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "state", Value: StatePending}, {Key: "run_at", Value: runAt},
			{Key: "last_error", Value: truncate(cause)}, {Key: "updated_at", Value: now},
		}},
		{Key: "$unset", Value: bson.D{{Key: "lease_owner", Value: ""}, {Key: "lease_until", Value: ""}}},
	})
	if ok {
		q.hint(ctx).set(j.ID, j.Type, StatePending, runAt, time.Time{})
	}
	return ok, err
}

// bury parks the claimed job as dead with the error.
func (q *Queue) bury(ctx context.Context, j *Job, cause string) (bool, error) {
	now := utcMillis(q.now())
	ok, err := q.guardedUpdate(ctx, leaseFilter(j), bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "state", Value: StateDead}, {Key: "last_error", Value: truncate(cause)},
			{Key: "finished_at", Value: now}, {Key: "updated_at", Value: now},
		}},
		{Key: "$unset", Value: bson.D{{Key: "lease_owner", Value: ""}, {Key: "lease_until", Value: ""}}},
	})
	if ok {
		q.hint(ctx).drop(j.ID)
	}
	return ok, err
}

// guardedUpdate runs one guarded write of a claimed job. Its caller notes
// the new state in the hint when it matched; a write that failed leaves the
// hint as it was: a wrong entry costs one stale try, never a lost job.
func (q *Queue) guardedUpdate(ctx context.Context, filter, update bson.D) (bool, error) {
	res, err := q.coll.UpdateOne(ctx, filter, update)
	if err != nil {
		return false, err
	}
	return res.MatchedCount == 1, nil
}

func marshalPayload(p any) (bson.Raw, error) {
	switch v := p.(type) {
	case nil:
		return emptyDoc, nil
	case bson.Raw:
		if err := v.Validate(); err != nil {
			return nil, err
		}
		return v, nil
	default:
		b, err := bson.Marshal(v)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
}

func truncate(s string) string {
	if len(s) <= maxErrorLen {
		return s
	}
	cut := maxErrorLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut-- // never split a UTF-8 sequence (Chinese upstream messages)
	}
	return s[:cut] + "…"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
