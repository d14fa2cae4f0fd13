package invariants

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/apperr"
	"zwfw/platform/mongox"
)

// CollectionName keeps the reports of past runs for operators.
const CollectionName = "invariant_reports"

// ErrNoReport: the checks have never run.
var ErrNoReport = apperr.New(apperr.KindNotFound, "INVARIANTS_NO_REPORT", "尚无数据自检报告")

// Runner runs the checks and keeps each report.
type Runner struct {
	checks func() []Check
	coll   *mongox.Collection
	now    func() time.Time
	mu     sync.Mutex // one run at a time per process (two would repair the same drift twice)
}

// NewRunner keeps reports in db; checks is read at each run.
func NewRunner(db *mongo.Database, checks func() []Check, now func() time.Time) *Runner {
	if now == nil {
		now = time.Now
	}
	return &Runner{checks: checks, coll: mongox.C(db, CollectionName), now: now}
}

type storedReport struct {
	ID     string `bson:"_id"`
	Report `bson:",inline"`
}

// Run runs every check (repairing when asked) and stores the report.
func (r *Runner) Run(ctx context.Context, repair bool) (Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := Run(ctx, r.checks(), repair, r.now)
	id := rep.StartedAt.Format("20060102T150405.000Z")
	if _, err := r.coll.InsertOne(ctx, storedReport{ID: id, Report: rep}); err != nil && !mongox.IsDuplicateKey(err) {
		return rep, fmt.Errorf("invariants: store report: %w", err)
	}
	return rep, nil
}

// Latest returns the most recent report (ErrNoReport when none).
func (r *Runner) Latest(ctx context.Context) (Report, error) {
	var s storedReport
	err := r.coll.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&s)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Report{}, ErrNoReport
	}
	if err != nil {
		return Report{}, fmt.Errorf("invariants: latest report: %w", err)
	}
	return s.Report, nil
}
