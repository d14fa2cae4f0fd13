// Package renewals keeps e-licence expiry reminders in step with the
// licences themselves: it syncs what each real-name-verified user's
// licences (their own and their companies') expire on, from the
// provincial e-licence API, and schedules the renewal reminders (30 and 7
// days ahead) of those expiring soon; a licence renewed, revoked or gone
// has its reminders cancelled. A user is synced when their licences are
// read, and by a daily sweep of every verified user in bounded pages.
package renewals

import (
	"context"
	"log/slog"
	"sort"
	"time"
)

// License is an e-licence as the sync needs it.
type License struct {
	ID        string
	Name      string
	ExpiresOn string // YYYY-MM-DD; "" for a long-term licence
	Valid     bool   // neither expired nor revoked
}

// Holder lists a user's e-licences, their own and their companies'
// (implemented over identity and the province's e-licence API).
type Holder interface {
	Licenses(ctx context.Context, userID string) ([]License, error)
}

// Reminders schedules and cancels the renewal reminders of a licence
// (implemented by *notify.Service); both are idempotent.
type Reminders interface {
	ScheduleLicenseReminders(ctx context.Context, userID, licenseID, name string, expiresAt time.Time) error
	CancelLicenseReminders(ctx context.Context, userID, licenseID string, expiresAt time.Time) error
}

// Users lists real-name-verified users in id order, a page at a time
// (implemented by identity's store).
type Users interface {
	VerifiedUserIDs(ctx context.Context, after string, limit int) ([]string, error)
}

// Options bound the work.
type Options struct {
	// Horizon: licences expiring within it get their reminders scheduled
	// (the sweep is daily, so one further out is scheduled in time later).
	Horizon time.Duration
	// PageSize users are synced per sweep job, at most.
	PageSize int
	// Pause is the wait between two pages of the sweep (the province's load).
	Pause time.Duration
	// Fresh: a user synced this recently (a read of their licences) is skipped by the sweep.
	Fresh time.Duration
	// SweepAt is the time of day (Asia/Shanghai) the daily sweep starts.
	SweepAt time.Duration
}

// DefaultOptions: reminders for the next 45 days, 100 users a page a
// minute apart, a sync fresh for 20 hours, the sweep at 06:00.
func DefaultOptions() Options {
	return Options{Horizon: 45 * 24 * time.Hour, PageSize: 100, Pause: time.Minute, Fresh: 20 * time.Hour, SweepAt: 6 * time.Hour}
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store     Store
	Holder    Holder
	Reminders Reminders
	Users     Users
	Queue     Queue
	Options   Options
	Logger    *slog.Logger
	Now       func() time.Time
}

// Service syncs licences and their reminders.
type Service struct {
	store     Store
	holder    Holder
	reminders Reminders
	users     Users
	queue     Queue
	opts      Options
	log       *slog.Logger
	now       func() time.Time
}

// NewService builds the service; zero options take DefaultOptions.
func NewService(d Deps) *Service {
	def := DefaultOptions()
	o := d.Options
	if o.Horizon <= 0 {
		o.Horizon = def.Horizon
	}
	if o.PageSize <= 0 {
		o.PageSize = def.PageSize
	}
	if o.Pause <= 0 {
		o.Pause = def.Pause
	}
	if o.Fresh <= 0 {
		o.Fresh = def.Fresh
	}
	if o.SweepAt <= 0 {
		o.SweepAt = def.SweepAt
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{store: d.Store, holder: d.Holder, reminders: d.Reminders, users: d.Users, queue: d.Queue,
		opts: o, log: d.Logger, now: d.Now}
}

// unchangedFor is how long a record that still matches what a read shows
// is left alone (scheduling is idempotent anyway; this saves the writes).
const unchangedFor = time.Hour

// sameScheduled reports whether rec lists exactly the licences and expiries of want.
func sameScheduled(rec []Scheduled, want map[string]Scheduled) bool {
	if len(rec) != len(want) {
		return false
	}
	for _, r := range rec {
		if w, ok := want[r.LicenseID]; !ok || w.ExpiresOn != r.ExpiresOn {
			return false
		}
	}
	return true
}

// shanghai is where licence dates are days.
var shanghai = time.FixedZone("CST", 8*3600)

// Sync reads the user's licences and brings their reminders in step.
// Returns the holder's errors (REALNAME_REQUIRED, the province's).
func (s *Service) Sync(ctx context.Context, userID string) (Result, error) {
	ls, err := s.holder.Licenses(ctx, userID)
	if err != nil {
		return Result{}, err
	}
	return s.Observe(ctx, userID, ls)
}

// Result is what a sync changed.
type Result struct {
	Scheduled int // licences whose reminders are (still) scheduled
	Cancelled int // licences whose reminders were cancelled
}

// Observe brings the user's reminders in step with licences just read
// (GET /api/v1/me/licenses calls it with the answer it gives): each valid
// licence expiring within the horizon has its reminders scheduled (once:
// they are keyed by licence and expiry date); one that was scheduled
// before and is now renewed (another expiry), revoked, expired or gone
// has the old reminders cancelled. What is scheduled is recorded per user.
func (s *Service) Observe(ctx context.Context, userID string, ls []License) (Result, error) {
	now := s.now()
	y, m, d := now.In(shanghai).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, shanghai)
	want := map[string]Scheduled{}
	for _, l := range ls {
		exp, err := time.ParseInLocation(time.DateOnly, l.ExpiresOn, shanghai)
		if !l.Valid || err != nil || exp.Before(today) || !exp.Before(now.Add(s.opts.Horizon)) {
			continue
		}
		want[l.ID] = Scheduled{LicenseID: l.ID, Name: l.Name, ExpiresOn: l.ExpiresOn}
	}
	rec, err := s.store.Get(ctx, userID)
	if err != nil {
		return Result{}, err
	}
	if rec != nil && now.Sub(rec.SyncedAt) < unchangedFor && sameScheduled(rec.Scheduled, want) {
		// Read again within the hour, nothing changed: no writes on a page view.
		return Result{Scheduled: len(want)}, nil
	}
	var res Result
	for _, w := range want {
		exp, _ := time.ParseInLocation(time.DateOnly, w.ExpiresOn, shanghai)
		if err := s.reminders.ScheduleLicenseReminders(ctx, userID, w.LicenseID, w.Name, exp); err != nil {
			return res, err
		}
		res.Scheduled++
	}
	if rec != nil {
		for _, old := range rec.Scheduled {
			if w, ok := want[old.LicenseID]; ok && w.ExpiresOn == old.ExpiresOn {
				continue
			}
			exp, err := time.ParseInLocation(time.DateOnly, old.ExpiresOn, shanghai)
			if err != nil {
				continue
			}
			if err := s.reminders.CancelLicenseReminders(ctx, userID, old.LicenseID, exp); err != nil {
				return res, err
			}
			res.Cancelled++
		}
	}
	next := Record{UserID: userID, SyncedAt: now.UTC(), Scheduled: make([]Scheduled, 0, len(want))}
	for _, w := range want {
		next.Scheduled = append(next.Scheduled, w)
	}
	sort.Slice(next.Scheduled, func(i, j int) bool { return next.Scheduled[i].LicenseID < next.Scheduled[j].LicenseID })
	if err := s.store.Put(ctx, next); err != nil {
		return res, err
	}
	if res.Cancelled > 0 || (rec == nil && res.Scheduled > 0) {
		s.log.Info("licence reminders synced", "user_id", userID, "scheduled", res.Scheduled, "cancelled", res.Cancelled)
	}
	return res, nil
}
