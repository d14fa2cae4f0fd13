package bff

import (
	"context"
	"os"
	"strconv"
	"time"

	"zwfw/platform/jobs"
)

const jobPurgeSessions = "maintenance.daily_purge"

// registerJobs binds job types to their handlers. Capabilities add theirs here.
func (a *App) registerJobs() {
	a.jobs.Register(jobPurgeSessions, func(ctx context.Context, j *jobs.Job) error {
		n, err := a.identity.PurgeExpired(ctx)
		if err != nil {
			return err
		}
		// Finished jobs are kept a week for operators, then deleted (no TTL indexes).
		done, err := a.queue.PurgeDone(ctx, time.Now().Add(-7*24*time.Hour))
		if err != nil {
			return err
		}
		// The province exchange log is kept 180 days: long enough for audits
		// of a case's whole life, bounded so the collection does not grow for ever.
		exch, err := a.province.PurgeExchanges(ctx, time.Now().Add(-180*24*time.Hour))
		if err != nil {
			return err
		}
		keys, err := a.idem.Purge(ctx, time.Now())
		if err != nil {
			return err
		}
		consoleSessions, err := a.consoleSessions.PurgeExpired(ctx, time.Now())
		if err != nil {
			return err
		}
		a.log.Info("housekeeping done", "sessions_deleted", n, "jobs_deleted", done, "exchanges_deleted", exch, "idempotency_keys_deleted", keys,
			"console_sessions_deleted", consoleSessions)
		// The next run is keyed by its date, so N replicas schedule it once.
		return a.enqueueDailyPurge(ctx, time.Now().Add(24*time.Hour))
	})
}

// scheduleMaintenance makes sure today's housekeeping is queued (the embedded
// MongoDB has no TTL indexes, so expiry is a job).
func (a *App) scheduleMaintenance(ctx context.Context) error {
	return a.enqueueDailyPurge(ctx, time.Now())
}

func (a *App) enqueueDailyPurge(ctx context.Context, day time.Time) error {
	d := day.In(shanghai)
	runAt := time.Date(d.Year(), d.Month(), d.Day(), 3, 30, 0, 0, shanghai)
	_, _, err := a.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: jobPurgeSessions, Key: d.Format("2006-01-02"), RunAt: runAt, MaxAttempts: 5})
	return err
}

// runnerOwner names this process in job leases (host and pid), so that an
// operator can tell which replica holds a job.
func runnerOwner() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}
