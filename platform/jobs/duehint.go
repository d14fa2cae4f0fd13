package jobs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// The embedded FerretDB answers the claim's filter (type $in, $or of two
// states) by reading and decoding the whole jobs collection, done jobs
// included, and the runner claims after every enqueue and once more to find
// nothing: under load it was the largest single cost of the service. The
// embedded store only ever serves the process that embeds it, so every job
// on it is written by this process: the queue keeps the claim candidates
// (pending and running jobs: id, type, state, run_at, lease_until) in memory,
// one set per database shared by every Queue of the process, updated by each
// Queue write that changes a job's state and filled once by a scan. A claim
// tries the due candidates, earliest run_at first, with a guarded write
// whose filter names the _id (two look-ups by index, platform/mongox
// idmatch.go). The hint only chooses which id to try: the guarded write
// decides, so two claimers never both win, and a candidate whose write does
// not match is read again by _id and corrected.
//
// Safety net: a job written behind the hint's back (another client, a test
// writing the collection, a note lost to a race) is still found by the
// scanning claim, which each claiming Queue runs once every scanEvery
// whatever the hint offers; such a job waits at most that long. On MongoDB
// the hint is off and every claim is the scanning claim, as before.

// defaultScanEvery is the safety net's period: a scan costs as much as one
// claim did before the hint, so one every 5 s is noise next to the claims
// it saves, and 5 s is a delay no job (all outside side effects) notices.
// A runner polling less often uses its PollInterval instead.
const defaultScanEvery = 5 * time.Second

type hintKey struct {
	client *mongo.Client
	db     string
}

var dueHints sync.Map // hintKey -> *dueHint

// candidate is what a claim needs to know of a pending or running job.
type candidate struct {
	typ        string
	state      State
	runAt      time.Time
	leaseUntil time.Time
}

func (c candidate) due(now time.Time) bool {
	switch c.state {
	case StatePending:
		return !c.runAt.After(now)
	case StateRunning:
		return c.leaseUntil.Before(now)
	}
	return false
}

// dueHint is the process's set of claim candidates for one database.
type dueHint struct {
	loadMu sync.Mutex // one load at a time

	mu       sync.Mutex
	loaded   bool
	touched  map[string]struct{} // during a load: ids noted meanwhile (newer than the scan)
	jobs     map[string]candidate
	claiming map[string]struct{} // ids a claimer of this process is writing now
}

func hintFor(db *mongo.Database) *dueHint {
	k := hintKey{db.Client(), db.Name()}
	if v, ok := dueHints.Load(k); ok {
		return v.(*dueHint)
	}
	v, _ := dueHints.LoadOrStore(k, &dueHint{jobs: map[string]candidate{}, claiming: map[string]struct{}{}})
	return v.(*dueHint)
}

// hint returns the queue's hint on the embedded store, nil on MongoDB.
func (q *Queue) hint(ctx context.Context) *dueHint {
	if !mongox.IsFerretDB(ctx, q.coll.Database()) {
		return nil
	}
	return q.due
}

// set notes a job's state as just written (a done or dead job leaves the set).
func (h *dueHint) set(id, typ string, state State, runAt, leaseUntil time.Time) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.touched != nil {
		h.touched[id] = struct{}{}
	}
	if state != StatePending && state != StateRunning {
		delete(h.jobs, id)
		return
	}
	h.jobs[id] = candidate{typ: typ, state: state, runAt: runAt, leaseUntil: leaseUntil}
}

func (h *dueHint) setJob(j *Job) {
	if j != nil {
		h.set(j.ID, j.Type, j.State, j.RunAt, j.LeaseUntil)
	}
}

func (h *dueHint) drop(id string) { h.set(id, "", StateDone, time.Time{}, time.Time{}) }

// load fills the set once by a scan of the pending and running jobs. Notes
// made while the scan runs are newer than what it read and are kept.
func (h *dueHint) load(ctx context.Context, coll *mongox.Collection) error {
	h.mu.Lock()
	loaded := h.loaded
	h.mu.Unlock()
	if loaded {
		return nil
	}
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	h.mu.Lock()
	if h.loaded {
		h.mu.Unlock()
		return nil
	}
	h.touched = map[string]struct{}{}
	h.mu.Unlock()

	var rows []struct {
		ID         string    `bson:"_id"`
		Type       string    `bson:"type"`
		State      State     `bson:"state"`
		RunAt      time.Time `bson:"run_at"`
		LeaseUntil time.Time `bson:"lease_until"`
	}
	cur, err := coll.Find(ctx,
		bson.D{{Key: "state", Value: bson.D{{Key: "$in", Value: bson.A{StatePending, StateRunning}}}}},
		options.Find().SetProjection(bson.D{
			{Key: "type", Value: 1}, {Key: "state", Value: 1}, {Key: "run_at", Value: 1}, {Key: "lease_until", Value: 1},
		}))
	if err == nil {
		err = cur.All(ctx, &rows)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	touched := h.touched
	h.touched = nil
	if err != nil {
		return fmt.Errorf("jobs: load claim candidates: %w", err)
	}
	merged := make(map[string]candidate, len(rows))
	for _, r := range rows {
		if _, newer := touched[r.ID]; !newer {
			merged[r.ID] = candidate{typ: r.Type, state: r.State, runAt: r.RunAt, leaseUntil: r.LeaseUntil}
		}
	}
	for id := range touched {
		if c, ok := h.jobs[id]; ok {
			merged[id] = c
		}
	}
	h.jobs, h.loaded = merged, true
	return nil
}

// pick reserves the due candidate of one of types with the earliest run_at
// that no claimer of this process is writing and this claim has not tried.
func (h *dueHint) pick(types []string, now time.Time, tried map[string]bool) (string, candidate, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var (
		bestID string
		best   candidate
		found  bool
	)
	for id, c := range h.jobs {
		if !c.due(now) || tried[id] || !wanted(types, c.typ) {
			continue
		}
		if _, busy := h.claiming[id]; busy {
			continue
		}
		if !found || c.runAt.Before(best.runAt) || c.runAt.Equal(best.runAt) && id < bestID {
			bestID, best, found = id, c, true
		}
	}
	if found {
		h.claiming[bestID] = struct{}{}
	}
	return bestID, best, found
}

// release ends pick's reservation.
func (h *dueHint) release(id string) {
	h.mu.Lock()
	delete(h.claiming, id)
	h.mu.Unlock()
}

func wanted(types []string, t string) bool {
	for _, w := range types {
		if w == t {
			return true
		}
	}
	return false
}

// claimByHint tries the due candidates in order until one guarded write wins.
func (q *Queue) claimByHint(ctx context.Context, h *dueHint, types []string, owner string, lease time.Duration, now time.Time) (*Job, error) {
	var tried map[string]bool
	for {
		id, c, ok := h.pick(types, now, tried)
		if !ok {
			return nil, nil
		}
		filter := bson.D{{Key: "_id", Value: id}, {Key: "type", Value: bson.D{{Key: "$in", Value: types}}}}
		if c.state == StatePending {
			filter = append(filter, bson.E{Key: "state", Value: StatePending},
				bson.E{Key: "run_at", Value: bson.D{{Key: "$lte", Value: now}}})
		} else {
			filter = append(filter, bson.E{Key: "state", Value: StateRunning},
				bson.E{Key: "lease_until", Value: bson.D{{Key: "$lt", Value: now}}})
		}
		j, err := q.claimWrite(ctx, filter, nil, owner, lease, now)
		if err != nil || j != nil {
			h.setJob(j)
			h.release(id)
			return j, err
		}
		// Stale: the job changed behind the hint (or a note lost a race).
		// Read it again so the hint tells the truth next time.
		if tried == nil {
			tried = map[string]bool{}
		}
		tried[id] = true
		cur, gerr := q.Get(ctx, id)
		switch {
		case gerr == nil:
			h.setJob(&cur)
		case gerr == ErrNotFound:
			h.drop(id)
		}
		h.release(id)
	}
}

// scanDue reports whether this queue's safety-net scan is due at now, and
// if so books the next one. The first one comes scanEvery after the queue's
// first claim (the hint's load is a scan).
func (q *Queue) scanDue(now time.Time) bool {
	q.scanMu.Lock()
	defer q.scanMu.Unlock()
	if q.nextScan.IsZero() {
		q.nextScan = now.Add(q.scanEvery)
		return false
	}
	if now.Before(q.nextScan) {
		return false
	}
	q.nextScan = now.Add(q.scanEvery)
	return true
}
