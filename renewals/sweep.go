package renewals

import (
	"context"
	"fmt"
	"time"

	"zwfw/apperr"
	"zwfw/platform/jobs"
)

// JobSweep is the daily sweep of verified users, one page per job.
const JobSweep = "renewals.sweep"

// sweepPage is a JobSweep payload: the day it belongs to and where it resumes.
type sweepPage struct {
	Day   string `bson:"day"`   // YYYY-MM-DD, Asia/Shanghai
	After string `bson:"after"` // the last user id of the previous page ("" = the first page)
}

// ScheduleSweep queues the sweep of the day of at (at SweepAt that day; at
// once when that is past). Every replica may call it at start: the job is
// keyed by its day, so the day's sweep runs once.
func (s *Service) ScheduleSweep(ctx context.Context, at time.Time) error {
	d := at.In(shanghai)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, shanghai)
	return s.enqueuePage(ctx, sweepPage{Day: day.Format(time.DateOnly)}, day.Add(s.opts.SweepAt))
}

func (s *Service) enqueuePage(ctx context.Context, p sweepPage, runAt time.Time) error {
	_, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobSweep, Key: p.Day + ":" + p.After, Payload: p,
		RunAt: runAt, MaxAttempts: 20})
	return err
}

// HandleSweep is the JobSweep handler: it syncs one page of verified users
// (those not synced for Fresh), then queues the next page after Pause, or,
// after the last page, the next day's sweep. A province that is down fails
// the page, which the queue retries with backoff; a user whose licences
// cannot be read for a reason of their own is skipped until tomorrow.
func (s *Service) HandleSweep(ctx context.Context, j *jobs.Job) error {
	var p sweepPage
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(fmt.Errorf("renewals: bad sweep payload: %w", err))
	}
	ids, err := s.users.VerifiedUserIDs(ctx, p.After, s.opts.PageSize)
	if err != nil {
		return err
	}
	synced := 0
	for _, id := range ids {
		rec, err := s.store.Get(ctx, id)
		if err != nil {
			return err
		}
		if rec != nil && s.now().Sub(rec.SyncedAt) < s.opts.Fresh {
			continue
		}
		if _, err := s.Sync(ctx, id); err != nil {
			switch apperr.KindOf(err) {
			case apperr.KindUnavailable, apperr.KindUpstream, apperr.KindInternal:
				return err // retry the page: what is synced already is skipped as fresh
			}
			s.log.Warn("licences of a user not synced", "user_id", id, "err", err)
			continue
		}
		synced++
	}
	s.log.Info("licence sweep page done", "day", p.Day, "users", len(ids), "synced", synced)
	if len(ids) == s.opts.PageSize {
		return s.enqueuePage(ctx, sweepPage{Day: p.Day, After: ids[len(ids)-1]}, s.now().Add(s.opts.Pause))
	}
	day, err := time.ParseInLocation(time.DateOnly, p.Day, shanghai)
	if err != nil {
		return jobs.Permanent(err)
	}
	return s.ScheduleSweep(ctx, day.AddDate(0, 0, 1))
}
