package notify

import (
	"context"
	"errors"
	"time"
)

// licenseRules are the renewal reminders of a licence, earliest first,
// with how many days before the expiry each is sent (at 10:00).
var licenseRules = []struct {
	rule string
	days int
}{{RuleLicenseExpiry30, 30}, {RuleLicenseExpiry7, 7}}

// licenseSubject keys a licence's reminders by its id and expiry date: a
// renewed licence (another expiry) gets reminders of its own.
func licenseSubject(licenseID string, expiresAt time.Time) string {
	return "license:" + licenseID + "@" + expiresAt.In(shanghai).Format(showDate)
}

// ScheduleLicenseReminders enqueues the 30- and 7-day renewal reminders of
// an e-licence expiring at expiresAt, sent at 10:00 those days; the licence
// sync (package renewals) calls it for every licence expiring soon. It is
// idempotent per licence and expiry date. A reminder whose day has passed
// while the next one's has not is sent now (a licence first seen 20 days
// before it expires is told about at once, not only 7 days before); a
// licence renewed meanwhile (another expiry) finds its old reminders
// cancelled at send time, or by CancelLicenseReminders.
func (s *Service) ScheduleLicenseReminders(ctx context.Context, userID, licenseID, name string, expiresAt time.Time) error {
	now := s.clock()
	local := expiresAt.In(shanghai)
	if !now.Before(time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, shanghai)) {
		return nil // expired already
	}
	subject := licenseSubject(licenseID, expiresAt)
	fields := map[string]string{"license_id": licenseID, "license": name, "expires": local.Format(showDate), "note": "请及时办理延续"}
	check := &Check{Kind: checkLicenseExpires, Ref: licenseID, At: expiresAt}
	for i, lr := range licenseRules {
		at := time.Date(local.Year(), local.Month(), local.Day()-lr.days, 10, 0, 0, 0, shanghai).UTC()
		if at.Before(now) {
			next := local // the last reminder is late only once the licence has expired
			if i+1 < len(licenseRules) {
				nl := licenseRules[i+1]
				next = time.Date(local.Year(), local.Month(), local.Day()-nl.days, 10, 0, 0, 0, shanghai)
			}
			if !now.Before(next) {
				continue // the next reminder says it (or it is over)
			}
			at = now
		}
		if err := s.enqueuePlan(ctx, plan{rule: lr.rule, users: []string{userID}, subject: subject, fields: fields,
			at: at, check: check}, now); err != nil {
			return err
		}
	}
	return nil
}

// CancelLicenseReminders cancels the renewal reminders of a licence for
// the expiry date expiresAt (renewed, revoked or gone): a reminder not yet
// sent is marked cancelled, so its job stops when it runs. Idempotent.
func (s *Service) CancelLicenseReminders(ctx context.Context, userID, licenseID string, expiresAt time.Time) error {
	subject := licenseSubject(licenseID, expiresAt)
	for _, lr := range licenseRules {
		r, ok := s.rules[lr.rule]
		if !ok {
			continue
		}
		id := DedupID(userID, lr.rule, subject)
		m, err := s.store.Message(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			// Not created yet: a cancelled placeholder takes its id first.
			if err := s.cancel(ctx, nil, r, sendPayload{UserID: userID, RuleID: lr.rule, Subject: subject,
				Fields: map[string]string{"license_id": licenseID}}, id); err != nil {
				return err
			}
		case err != nil:
			return err
		case !m.State.Final():
			if err := s.store.CancelMessage(ctx, id, s.clock()); err != nil {
				return err
			}
		}
	}
	return nil
}
