package bff

import (
	"context"

	"zwfw/identity"
	"zwfw/province"
	"zwfw/renewals"
)

// buildRenewals wires the licence sync: users' e-licences (from the
// province, through identity) keep their renewal reminders (notify) in
// step, when read and by the daily sweep job of verified users.
func (a *App) buildRenewals() {
	a.renewals = renewals.NewService(renewals.Deps{
		Store: renewals.NewMongoStore(a.db), Holder: syncedLicences{a.identity}, Reminders: a.notify,
		Users: identity.NewMongoStore(a.db), Queue: a.queue, Logger: a.log.With("component", "renewals"),
	})
	a.jobs.Register(renewals.JobSweep, a.renewals.HandleSweep)
}

// observeLicences brings the reminders in step with licences a user just
// read (GET /api/v1/me/licenses). A failure costs the reading nothing: the
// daily sweep catches up.
func (a *App) observeLicences(ctx context.Context, userID string, held []identity.HeldLicense) {
	if _, err := a.renewals.Observe(ctx, userID, renewalLicences(held)); err != nil {
		a.log.Warn("licence reminders not synced", "user_id", userID, "err", err)
	}
}

// syncedLicences adapts identity (the province's e-licences of the person
// and their companies) to renewals.Holder.
type syncedLicences struct{ svc *identity.Service }

func (s syncedLicences) Licenses(ctx context.Context, userID string) ([]renewals.License, error) {
	held, err := s.svc.Licenses(ctx, &identity.Principal{UserID: userID})
	if err != nil {
		return nil, err
	}
	return renewalLicences(held), nil
}

func renewalLicences(held []identity.HeldLicense) []renewals.License {
	out := make([]renewals.License, 0, len(held))
	for _, h := range held {
		out = append(out, renewals.License{ID: h.ID, Name: h.Name, ExpiresOn: h.ExpiresOn, Valid: h.Status == province.LicenseValid})
	}
	return out
}
