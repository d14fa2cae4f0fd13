package bff

import (
	"context"
	"time"

	"zwfw/platform/events"
	"zwfw/platform/jobs"
	"zwfw/supervision"
)

// supervisionParts is the supervision (电子监察) service of the console.
type supervisionParts struct {
	svc *supervision.Service
}

// buildSupervision builds the supervision service on its index and
// registers its daily job (the runner starts later).
func (a *App) buildSupervision() {
	now := a.cfg.BookingClock // the console's "today" (tests pin it)
	if now == nil {
		now = time.Now
	}
	a.sv.svc = supervision.New(supervision.NewMongoStore(a.db), a.cases, a.calendar.Times(), supervision.Options{
		WarnDays: a.cfg.SupervisionWarnDays, Now: now, Logger: a.log.With("component", "supervision"),
	})
	a.jobs.Register(supervision.JobDaily, func(ctx context.Context, _ *jobs.Job) error {
		fixed, err := a.sv.svc.Recheck(ctx)
		if err != nil {
			return err
		}
		if fixed > 0 {
			a.log.Warn("supervision: index entries corrected from their cases", "entries", fixed)
		}
		if err := a.sv.svc.Snapshot(ctx); err != nil {
			return err
		}
		// Today's (a no-op when this is it) and tomorrow's, keyed by date:
		// N replicas queue each once, and a late run skips no day.
		if err := a.enqueueSupervisionDaily(ctx, time.Now()); err != nil {
			return err
		}
		return a.enqueueSupervisionDaily(ctx, time.Now().Add(24*time.Hour))
	})
}

// Supervision is the supervision service (tests and benchmarks).
func (a *App) Supervision() *supervision.Service { return a.sv.svc }

func (a *App) enqueueSupervisionDaily(ctx context.Context, at time.Time) error {
	key, runAt := supervision.DailyJobAt(at)
	_, _, err := a.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: supervision.JobDaily, Key: key, RunAt: runAt, MaxAttempts: 5})
	return err
}

// runSupervision keeps the supervision index until ctx ends: the event
// consumer that writes it (every replica runs it, a lease lets one consume
// at a time) and the in-memory board's background reload (every replica).
func (a *App) runSupervision(ctx context.Context) {
	if err := a.enqueueSupervisionDaily(ctx, time.Now()); err != nil && ctx.Err() == nil {
		a.log.Error("supervision: queue the daily counts", "err", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.sv.svc.Run(ctx)
	}()
	c := events.NewConsumer(a.db, supervision.ConsumerName, a.sv.svc.HandleEvent, events.ConsumerOptions{
		Types: supervision.IndexedEvents(), Logger: a.log.With("component", "supervision-index"),
		LeaseDuration: a.cfg.JobLease,
	})
	if err := c.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("supervision index consumer stopped", "err", err)
	}
	<-done
}
