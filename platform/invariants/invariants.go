// Package invariants runs the self-checks that find and repair what can
// drift in a store without transactions: a slot's taken count against its
// active bookings, a payment's totals against its orders and refunds, a
// terminal case without its events, a shipment's state against its
// timeline. Each domain implements a Check; a daily job and an admin route
// run them all. A report with nothing to fix is the normal result.
package invariants

import (
	"context"
	"fmt"
	"time"
)

// Finding is one thing a check found wrong, and whether it was repaired.
type Finding struct {
	Check    string `json:"check" bson:"check"`
	Subject  string `json:"subject" bson:"subject"` // e.g. "slot:fz-gl:110000:2026-12-08T01:00:00Z"
	Problem  string `json:"problem" bson:"problem"` // what was wrong (Chinese, for an operator)
	Repaired bool   `json:"repaired" bson:"repaired"`
	// Action says what the repair did, or why a person must look.
	Action string `json:"action" bson:"action"`
}

// Result is one check's run.
type Result struct {
	Check    string    `json:"check" bson:"check"`
	Examined int       `json:"examined" bson:"examined"`
	Findings []Finding `json:"findings" bson:"findings"`
	Error    string    `json:"error,omitempty" bson:"error,omitempty"`
}

// Check verifies one invariant over a domain's store. With repair it fixes
// what it can (idempotently: running it twice repairs once).
type Check interface {
	Name() string
	Run(ctx context.Context, repair bool) (Result, error)
}

// Func adapts a function to Check.
type Func struct {
	CheckName string
	Fn        func(ctx context.Context, repair bool) (Result, error)
}

// Name implements Check.
func (f Func) Name() string { return f.CheckName }

// Run implements Check.
func (f Func) Run(ctx context.Context, repair bool) (Result, error) { return f.Fn(ctx, repair) }

// Report is one run of every check.
type Report struct {
	StartedAt  time.Time `json:"started_at" bson:"started_at"`
	FinishedAt time.Time `json:"finished_at" bson:"finished_at"`
	Repair     bool      `json:"repair" bson:"repair"`
	Results    []Result  `json:"results" bson:"results"`
	Found      int       `json:"found" bson:"found"`
	Repaired   int       `json:"repaired" bson:"repaired"`
}

// Run runs every check in order; a check that fails is reported with its
// error and the others still run.
func Run(ctx context.Context, checks []Check, repair bool, now func() time.Time) Report {
	r := Report{StartedAt: now().UTC().Truncate(time.Millisecond), Repair: repair} // as stored
	for _, c := range checks {
		res, err := c.Run(ctx, repair)
		res.Check = c.Name()
		if err != nil {
			res.Error = fmt.Sprint(err)
		}
		for i := range res.Findings {
			res.Findings[i].Check = c.Name()
			r.Found++
			if res.Findings[i].Repaired {
				r.Repaired++
			}
		}
		if res.Findings == nil {
			res.Findings = []Finding{}
		}
		r.Results = append(r.Results, res)
	}
	r.FinishedAt = now().UTC().Truncate(time.Millisecond)
	return r
}
