package bff

import (
	"context"
	"time"

	"zwfw/platform/invariants"
	"zwfw/platform/jobs"
)

const jobInvariants = "maintenance.invariants"

// invariantSource is a domain service with self-checks.
type invariantSource interface {
	Invariants() []invariants.Check
}

// invariantChecks gathers every domain's self-checks.
func (a *App) invariantChecks() []invariants.Check {
	var out []invariants.Check
	for _, s := range []any{a.booking, a.payments, a.cases, a.logistics, a.notify} {
		if src, ok := s.(invariantSource); ok {
			out = append(out, src.Invariants()...)
		}
	}
	return out
}

// registerInvariantJobs runs the self-checks daily at 04:00 (after the
// housekeeping), repairing what drifted; the report is kept for admins.
func (a *App) registerInvariantJobs() {
	a.jobs.Register(jobInvariants, func(ctx context.Context, j *jobs.Job) error {
		rep, err := a.invariants.Run(ctx, true)
		if err != nil {
			return err
		}
		level := a.log.Info
		if rep.Found > 0 {
			level = a.log.Warn
		}
		level("data self-check done", "found", rep.Found, "repaired", rep.Repaired)
		return a.enqueueInvariants(ctx, time.Now())
	})
}

// enqueueInvariants queues the next run at 04:00 after t (keyed by its date,
// so N replicas queue it once).
func (a *App) enqueueInvariants(ctx context.Context, t time.Time) error {
	d := t.In(shanghai)
	runAt := time.Date(d.Year(), d.Month(), d.Day(), 4, 0, 0, 0, shanghai)
	if !runAt.After(t) {
		runAt = runAt.AddDate(0, 0, 1)
		d = runAt
	}
	_, _, err := a.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: jobInvariants, Key: d.Format("2006-01-02"), RunAt: runAt, MaxAttempts: 5})
	return err
}
