package bff

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"zwfw/booking"
	"zwfw/handlers"
	"zwfw/identity"
	"zwfw/notify"
	"zwfw/notify/push"
	"zwfw/payments"
	"zwfw/platform/events"
	"zwfw/province"
)

// buildNotify wires reminders: the channels (WeChat subscribe messages, app
// push, SMS), the rules and the service that consumes the event log.
func (a *App) buildNotify(ctx context.Context) error {
	store := notify.NewMongoStore(a.db)
	if err := store.EnsureIndexes(ctx); err != nil {
		return err
	}
	pc := push.New(push.Config{BaseURL: a.cfg.PushBaseURL, AppKey: a.cfg.PushAppKey, MasterSecret: a.cfg.PushMasterSecret,
		Production: true}, &http.Client{Timeout: 15 * time.Second})
	rules := notify.DefaultRules()
	if ids := parseTemplateIDs(a.cfg.WeChatTemplates); len(ids) > 0 {
		rules = notify.WithTemplateIDs(rules, ids)
	}
	a.notify = notify.NewService(notify.Deps{
		Store: store, Queue: a.queue, WeChat: notify.NewWeChatSender(a.mp, a.cfg.WeChatMiniState),
		Push: notify.NewPushSender(pc), SMS: notify.NewSMSSender(a.sms),
		Recipients: recipients{a.identity}, Lookups: lookups{a}, Rules: rules, Links: a.links,
		Logger: a.log.With("component", "notify"),
	})
	return nil
}

// parseTemplateIDs reads "name=id,name=id".
func parseTemplateIDs(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range splitList(s) {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" && v != "" {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// runReminders consumes the event log for reminders until ctx ends; every
// replica runs it, a lease lets one consume at a time.
func (a *App) runReminders(ctx context.Context) {
	c := events.NewConsumer(a.db, notify.ConsumerName, a.notify.HandleEvent, events.ConsumerOptions{
		Types: notify.EventTypes(), Logger: a.log.With("component", "notify-consumer"),
		// A killed replica's consumer is taken over as soon as its jobs are.
		LeaseDuration: a.cfg.JobLease,
	})
	if err := c.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("reminder consumer stopped", "err", err)
	}
}

// recipients adapts identity to notify.Recipients: the mini-program openid
// and, once real-name verified, the verified mobile number.
type recipients struct{ svc *identity.Service }

func (r recipients) Recipient(ctx context.Context, userID string) (notify.Recipient, error) {
	u, err := r.svc.Me(ctx, &identity.Principal{UserID: userID})
	if err != nil {
		return notify.Recipient{}, err
	}
	out := notify.Recipient{UserID: u.ID, OpenID: u.WeChatOpenID} // u follows merges
	if u.RealNameVerified {
		ap, err := r.svc.ApplicantOf(ctx, u.ID)
		if err != nil {
			return notify.Recipient{}, err
		}
		out.Phone, out.Name = ap.Phone, ap.Name
	}
	return out, nil
}

// lookups re-reads the domains for reminders.
type lookups struct{ a *App }

func (l lookups) BookingActive(ctx context.Context, id string, slotStart time.Time) (bool, error) {
	b, err := l.a.booking.ByID(ctx, id)
	if errors.Is(err, booking.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return b.Status == booking.StatusConfirmed && b.SlotStart.Equal(slotStart), nil
}

func (l lookups) BookingDetails(ctx context.Context, id string) (notify.BookingDetails, error) {
	b, err := l.a.booking.ByID(ctx, id)
	if err != nil {
		return notify.BookingDetails{}, err
	}
	var d notify.BookingDetails
	if g, err := l.a.catalog.Guide(ctx, b.ItemCode); err == nil {
		d.ItemName = g.Guide.Name
		for _, m := range g.Guide.Materials {
			if m.Required { // optional materials are not "to bring"
				d.Bring = append(d.Bring, m.Name)
			}
		}
	}
	if h, err := l.a.booking.HallConfig(ctx, b.HallID); err == nil {
		d.HallName = h.Name
	}
	if d.NoShows, err = l.a.booking.NoShows(ctx, b.UserID); err != nil {
		return d, err
	}
	d.BanUntil, err = l.a.booking.BanUntil(ctx, b.UserID)
	return d, err
}

func (l lookups) PaymentOpen(ctx context.Context, code string) (bool, error) {
	d, err := l.a.payments.GetAny(ctx, code)
	if errors.Is(err, payments.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return d.Payment.Status == payments.StatusUnpaid, nil
}

func (l lookups) CaseProgress(ctx context.Context, caseID string) (notify.CaseProgress, error) {
	c, err := l.a.cases.ByID(ctx, caseID)
	if err != nil {
		return notify.CaseProgress{}, err
	}
	p := notify.CaseProgress{Status: string(c.Status), Evaluated: c.Evaluation != nil}
	if n := len(c.Timeline); n > 0 {
		p.LastChangedAt = c.Timeline[n-1].At
	}
	return p, nil
}

// LicenseExpiresAt asks the province (through its cache) for the licence's
// current expiry: a licence renewed meanwhile has a later date and its old
// reminder is dropped.
func (l lookups) LicenseExpiresAt(ctx context.Context, userID, licenseID string) (time.Time, error) {
	held, err := l.a.identity.Licenses(ctx, &identity.Principal{UserID: userID})
	if err != nil {
		return time.Time{}, err
	}
	for _, h := range held {
		// A revoked (replaced) licence needs no renewal reminder any more.
		if h.ID == licenseID && h.ExpiresOn != "" && h.Status == province.LicenseValid {
			return time.ParseInLocation(time.DateOnly, h.ExpiresOn, handlers.Shanghai)
		}
	}
	return time.Time{}, nil
}
