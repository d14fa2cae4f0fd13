package bff

import (
	"context"
	"io"
	"strings"
	"time"

	"zwfw/cases"
	"zwfw/identity"
	"zwfw/platform/blobs"
	"zwfw/platform/jobs"
	"zwfw/platform/workdays"
)

// buildCases wires the online-application capability: the case store, its
// service, the material blob store, and the jobs that talk to the province.
func (a *App) buildCases(ctx context.Context, protector piiProtector) error {
	store := cases.NewMongoStore(a.db)
	if err := store.EnsureIndexes(ctx); err != nil {
		return err
	}
	cal, err := workdays.NewCalendar(ctx, workdays.NewMongoStore(a.db))
	if err != nil {
		return err
	}
	a.calendar = cal
	a.blobs = blobs.NewStore(a.db, blobs.Options{})
	a.audit = cases.NewMongoAuditLog(a.db)
	if err := a.audit.EnsureIndexes(ctx); err != nil {
		return err
	}
	a.cases = cases.NewService(cases.Deps{
		Store: store, Province: a.province, People: people{a.identity}, PII: protector,
		Queue: a.queue, Events: a.events, Calendar: cal.Times(), Logger: a.log.With("component", "cases"),
		OutageRetry: a.cfg.ProvinceOutageRetry,
	})
	return nil
}

// reloadCalendar picks up holiday overrides other replicas (or admins) wrote.
func (a *App) reloadCalendar(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.calendar.Reload(ctx); err != nil {
				a.log.Warn("holiday calendar reload failed; keeping the old one", "err", err)
			}
		}
	}
}

// registerCaseJobs binds the cases jobs; the poller re-queues itself every
// few minutes (keyed by its time slot, so N replicas queue it once).
func (a *App) registerCaseJobs() {
	a.jobs.Register(cases.JobSubmit, a.cases.HandleSubmitJob)
	a.jobs.Register(cases.JobEvaluate, a.cases.HandleEvaluateJob)
	a.jobs.Register(cases.JobPoll, func(ctx context.Context, j *jobs.Job) error {
		n, err := a.cases.Poll(ctx, a.cfg.CasePollStaleAfter, 200)
		if err != nil {
			return err
		}
		if n > 0 {
			a.log.Info("cases reconciled with the province", "updated", n)
		}
		return a.enqueueCasePoll(ctx, time.Now().Add(a.cfg.CasePollEvery))
	})
}

func (a *App) enqueueCasePoll(ctx context.Context, at time.Time) error {
	slot := at.Truncate(a.cfg.CasePollEvery)
	_, _, err := a.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: cases.JobPoll, Key: slot.UTC().Format(time.RFC3339), RunAt: slot, MaxAttempts: 3})
	return err
}

// people adapts the identity service to cases.People.
type people struct{ svc *identity.Service }

func (p people) Person(ctx context.Context, userID string) (cases.Person, error) {
	a, err := p.svc.ApplicantOf(ctx, userID)
	if err != nil {
		return cases.Person{}, err
	}
	return cases.Person{Name: a.Name, IDNumber: a.IDNumber, Phone: a.Phone, Companies: a.Companies}, nil
}

func (p people) LicenseType(ctx context.Context, userID, licenseID string) (string, error) {
	held, err := p.svc.Licenses(ctx, &identity.Principal{UserID: userID})
	if err != nil {
		return "", err
	}
	for _, l := range held {
		if l.ID == licenseID {
			return l.Type, nil
		}
	}
	return "", identity.ErrLicenseNotFound
}

// materialBlobs adapts the blob store to cases.Blobs: the client's file name
// is refused when it tries a path (../../etc/passwd), and kept only as a label.
type materialBlobs struct{ store *blobs.Store }

func (m materialBlobs) Put(ctx context.Context, r io.Reader, owner, name string) (cases.BlobInfo, error) {
	if err := blobs.ValidateName(name); err != nil {
		return cases.BlobInfo{}, err
	}
	b, err := m.store.Put(ctx, r, blobs.Meta{Owner: owner, Name: name})
	if err != nil {
		return cases.BlobInfo{}, err
	}
	return cases.BlobInfo{ID: b.ID, Kind: string(b.Kind), Size: b.Size, SHA256: b.SHA256, Name: b.Name}, nil
}

// Listening tells the app its public base URL once it serves; with the
// embedded sandbox, the fake province then sends its callbacks there.
func (a *App) Listening(baseURL string) {
	if base, _ := a.publicBase.Load().(string); base == "" {
		a.publicBase.Store(strings.TrimRight(baseURL, "/"))
	}
	if a.sandbox != nil {
		a.sandbox.ProvinceServer().SetCallbackURL(baseURL + "/api/v1/callbacks/province")
	}
}
