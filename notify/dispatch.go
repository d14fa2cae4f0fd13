package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"zwfw/links"
	"zwfw/platform/jobs"
)

// Dispatch is the JobSend handler. It creates the message once (the insert
// of its dedup _id decides), re-checks scheduled reminders, waits out quiet
// hours, and tries WeChat -> app push -> SMS, recording every attempt; the
// message is always in the inbox. A channel that is down is retried with
// the job's backoff (Limits.ChannelRetries times) before falling back.
// Returns an error only to have the job retried.
func (s *Service) Dispatch(ctx context.Context, j *jobs.Job) error {
	var p sendPayload
	if err := j.Decode(&p); err != nil || p.UserID == "" || p.RuleID == "" {
		return jobs.Permanent(fmt.Errorf("notify: bad send payload in %s: %v", j.ID, err))
	}
	rule, ok := s.rules[p.RuleID]
	if !ok || rule.Disabled {
		s.log.Info("rule unknown or disabled; message dropped", "rule", p.RuleID, "job", j.ID)
		return nil
	}
	if err := s.followMerge(ctx, &p); err != nil {
		return err
	}
	id := DedupID(p.UserID, p.RuleID, p.Subject)
	m, err := s.store.Message(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		m = nil
	case err != nil:
		return err
	case m.State.Final():
		return nil // duplicate job run, or a deferral of a message already sent
	}
	if p.Check != nil {
		due, err := s.stillDue(ctx, p)
		if err != nil {
			return err
		}
		if !due {
			return s.cancel(ctx, m, rule, p, id)
		}
	}
	if m == nil {
		fields := s.enrich(ctx, rule, p)
		created, _, err := s.store.InsertMessage(ctx, s.newMessage(id, rule, p, fields))
		if err != nil {
			return err
		}
		if created.State.Final() {
			return nil
		}
	}
	return s.deliver(ctx, j, rule, id)
}

// newMessage builds the message document; it is in the inbox from the start.
func (s *Service) newMessage(id string, r Rule, p sendPayload, fields map[string]string) *Message {
	now := s.clock()
	link := r.Link.ref(fields)
	return &Message{ID: id, PublicID: publicID(id), UserID: p.UserID, RuleID: r.ID, Kind: r.Kind, Subject: p.Subject,
		Title: render(r.Title, fields), Body: strings.TrimSpace(render(r.Body, fields)), Fields: fields,
		Link: &link, Page: s.links.URL(link, links.MiniProgram), Urgent: r.Urgent, State: StatePending, Attempts: []Attempt{},
		Inbox: true, CreatedAt: now, UpdatedAt: now}
}

// publicID is the opaque id clients see: the dedup id names the user and subject.
func publicID(dedupID string) string {
	sum := sha256.Sum256([]byte(dedupID))
	return hex.EncodeToString(sum[:12])
}

// cancel records that a scheduled reminder no longer applies, so that a
// later run of the same job stops at once.
func (s *Service) cancel(ctx context.Context, m *Message, r Rule, p sendPayload, id string) error {
	if m != nil {
		return s.store.CancelMessage(ctx, id, s.clock())
	}
	msg := s.newMessage(id, r, p, p.Fields)
	msg.State, msg.Inbox = StateCancelled, false
	_, _, err := s.store.InsertMessage(ctx, msg)
	return err
}

// stillDue re-reads the domain for a scheduled reminder.
func (s *Service) stillDue(ctx context.Context, p sendPayload) (bool, error) {
	if s.lookups == nil {
		return true, nil
	}
	c := p.Check
	switch c.Kind {
	case checkBookingActive:
		return s.lookups.BookingActive(ctx, c.Ref, c.At)
	case checkPaymentOpen:
		return s.lookups.PaymentOpen(ctx, c.Ref)
	case checkCaseUnchanged:
		pr, err := s.lookups.CaseProgress(ctx, c.Ref)
		if err != nil {
			return false, err
		}
		// "No news": still where it was when the reminder was planned.
		return pr.Status == c.Status && !pr.LastChangedAt.After(c.At), nil
	case checkCaseNotEvaluated:
		pr, err := s.lookups.CaseProgress(ctx, c.Ref)
		return err == nil && !pr.Evaluated, err
	case checkLicenseExpires:
		exp, err := s.lookups.LicenseExpiresAt(ctx, p.UserID, c.Ref)
		if err != nil {
			return false, err
		}
		return !exp.IsZero() && exp.In(shanghai).Format(showDate) == c.At.In(shanghai).Format(showDate), nil
	}
	return true, nil
}

// enrich adds what the event did not carry (names, what to bring, the
// no-show standing). A failed look-up degrades the text, never the send.
func (s *Service) enrich(ctx context.Context, r Rule, p sendPayload) map[string]string {
	f := clone(p.Fields)
	if r.Kind != KindBooking || s.lookups == nil || f["booking_id"] == "" {
		return f
	}
	d, err := s.lookups.BookingDetails(ctx, f["booking_id"])
	if err != nil {
		s.log.Warn("booking details unavailable; sending with ids", "booking_id", f["booking_id"], "err", err)
		return f
	}
	if d.ItemName != "" {
		f["item"] = d.ItemName
	}
	if d.HallName != "" {
		f["hall"] = d.HallName
	}
	switch r.ID {
	case RuleBookingConfirmed, RuleBookingTomorrow:
		if len(d.Bring) > 0 {
			f["note"] = "请携带" + strings.Join(d.Bring, "、")
		}
	case RuleBookingNoShow:
		f["count"] = strconv.Itoa(d.NoShows)
		f["note"] = fmt.Sprintf("近期已爽约%d次", d.NoShows)
		if !d.BanUntil.IsZero() {
			f["note"] += "，" + d.BanUntil.In(shanghai).Format(showDate) + "前不能预约"
		}
	}
	return f
}

// result of trying the channels once.
type result struct {
	sent    Channel
	retry   error // a channel is down and may be waited for
	tried   bool  // a channel really refused or failed (not just "not applicable")
	limited bool  // over the user's daily budget
}

// deliver holds the message's send lease while it tries the channels.
func (s *Service) deliver(ctx context.Context, j *jobs.Job, r Rule, id string) error {
	now := s.clock()
	owner := s.owner + "/" + j.ID + "/" + strconv.Itoa(j.Attempts)
	m, ok, err := s.store.ClaimMessage(ctx, id, owner, now, now.Add(s.limits.SendLease))
	if err != nil {
		return err
	}
	if !ok {
		cur, err := s.store.Message(ctx, id)
		if err == nil && cur.State.Final() {
			return nil
		}
		return jobs.RetryAfter(errBusy, s.limits.SendLease)
	}
	release := func(u MessageUpdate) error {
		u.At = s.clock()
		if u.Attempts == nil {
			u.Attempts = m.Attempts
		}
		return s.store.ReleaseMessage(context.WithoutCancel(ctx), id, owner, u)
	}
	settings, _, err := s.store.Settings(ctx, m.UserID)
	if err != nil {
		_ = release(MessageUpdate{State: StatePending})
		return err
	}
	rec, err := s.recipients.Recipient(ctx, m.UserID)
	if err != nil {
		_ = release(MessageUpdate{State: StatePending})
		return err
	}
	until, quiet := settings.Quiet.Until(now)
	if quiet && !m.Urgent {
		return s.deferUntil(ctx, j, m, until, release)
	}
	res := s.tryChannels(ctx, j, r, m, rec, settings, quiet)
	switch {
	case res.sent != "":
		if err := release(MessageUpdate{State: StateSent, Channel: res.sent, Attempts: m.Attempts}); err != nil {
			s.log.Error("sent but not recorded", "message", id, "err", err)
		}
		return nil
	case res.retry != nil:
		if err := release(MessageUpdate{State: StatePending, Attempts: m.Attempts}); err != nil {
			return err
		}
		return res.retry
	case quiet && !res.limited:
		// Urgent, but no SMS or push got through at night: WeChat in the morning.
		return s.deferUntil(ctx, j, m, until, func(u MessageUpdate) error { u.Attempts = m.Attempts; return release(u) })
	case res.tried:
		s.log.Warn("message undeliverable", "message", id, "rule", m.RuleID, "attempts", len(m.Attempts))
		return release(MessageUpdate{State: StateFailed, Attempts: m.Attempts})
	default:
		return release(MessageUpdate{State: StateInboxOnly, Attempts: m.Attempts})
	}
}

// deferUntil parks the message until the end of quiet hours with a new
// durable job (the key carries the time, so a deferral is enqueued once).
func (s *Service) deferUntil(ctx context.Context, j *jobs.Job, m *Message, until time.Time, release func(MessageUpdate) error) error {
	key := m.ID + "@defer:" + strconv.FormatInt(until.Unix(), 10)
	if _, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobSend, Key: key, Payload: j.Payload,
		RunAt: until, MaxAttempts: sendAttempts}); err != nil {
		_ = release(MessageUpdate{State: StatePending})
		return err
	}
	return release(MessageUpdate{State: StateDeferred, DeferredUntil: &until})
}

// tryChannels walks the fallback order, appending attempts to m.Attempts.
func (s *Service) tryChannels(ctx context.Context, j *jobs.Job, r Rule, m *Message, rec Recipient, set Settings, quiet bool) result {
	now := s.clock()
	day := now.In(shanghai).Format("20060102")
	record := func(c Channel, outcome string, err error) {
		a := Attempt{Channel: c, At: s.clock(), Outcome: outcome}
		if err != nil {
			a.Detail = truncateDetail(err.Error())
		}
		m.Attempts = append(m.Attempts, a)
	}
	if !hasRealAttempt(m.Attempts) {
		ok, err := s.store.Take(ctx, "rate:"+m.UserID+":"+day+":all", s.limits.PerUserPerDay, now)
		if err != nil {
			return result{retry: err}
		}
		if !ok {
			record("", OutcomeRateLimited, errors.New("daily limit per user reached"))
			return result{limited: true}
		}
	}
	var res result
	for _, c := range channelOrder {
		if !set.Allows(m.Kind, c) || (quiet && c == ChannelWeChat) || s.settled(m.Attempts, c) {
			continue
		}
		var outcome string
		var err error
		switch c {
		case ChannelWeChat:
			outcome, err = s.tryWeChat(ctx, r, m, rec, day, now)
		case ChannelPush:
			outcome, err = s.tryPush(ctx, m, day, now)
		case ChannelSMS:
			outcome, err = s.trySMS(ctx, r, m, rec, day, now)
		}
		if outcome == "" {
			continue // channel not applicable: nothing to record
		}
		record(c, outcome, err)
		switch outcome {
		case OutcomeSent:
			return result{sent: c}
		case OutcomeTemporary:
			res.tried = true
			if s.failures(m.Attempts, c) < s.limits.ChannelRetries && j.Attempts < j.MaxAttempts {
				return result{retry: fmt.Errorf("notify: %s temporarily unavailable: %w", c, err)}
			}
		case OutcomeRefused, OutcomeNoDevice:
			res.tried = true
		}
	}
	return res
}

// settled reports whether channel c is done with for this message: it
// refused, had no consent, was over its limit, or used up its retries.
func (s *Service) settled(attempts []Attempt, c Channel) bool {
	for _, a := range attempts {
		if a.Channel == c && (a.Outcome == OutcomeRefused || a.Outcome == OutcomeNoConsent || a.Outcome == OutcomeRateLimited || a.Outcome == OutcomeNoDevice) {
			return true
		}
	}
	return s.failures(attempts, c) >= s.limits.ChannelRetries
}

func (s *Service) failures(attempts []Attempt, c Channel) int {
	n := 0
	for _, a := range attempts {
		if a.Channel == c && a.Outcome == OutcomeTemporary {
			n++
		}
	}
	return n
}

func hasRealAttempt(attempts []Attempt) bool {
	for _, a := range attempts {
		if a.Channel != "" {
			return true
		}
	}
	return false
}

// takeRate uses one of the user's sends on channel c today.
func (s *Service) takeRate(ctx context.Context, userID string, c Channel, day string, now time.Time) (bool, error) {
	return s.store.Take(ctx, "rate:"+userID+":"+day+":"+string(c), s.limits.PerChannelPerDay[c], now)
}

// tryWeChat returns "" when WeChat does not apply to this message.
func (s *Service) tryWeChat(ctx context.Context, r Rule, m *Message, rec Recipient, day string, now time.Time) (string, error) {
	tmpl := r.WeChat.TemplateID
	if s.wechat == nil || tmpl == "" || rec.OpenID == "" {
		return "", nil
	}
	// Consent first: without one the user simply did not ask for WeChat,
	// which must not use up the daily budget.
	ok, err := s.store.TakeConsent(ctx, m.UserID, tmpl)
	if err != nil {
		return OutcomeTemporary, err
	}
	if !ok {
		return OutcomeNoConsent, nil
	}
	if ok, err := s.takeRate(ctx, m.UserID, ChannelWeChat, day, now); err != nil || !ok {
		_ = s.store.ReturnConsent(ctx, m.UserID, tmpl)
		if err != nil {
			return OutcomeTemporary, err
		}
		return OutcomeRateLimited, nil
	}
	data := make(map[string]string, len(r.WeChat.Keywords))
	for kw, field := range r.WeChat.Keywords {
		data[kw] = FitKeyword(kw, m.Fields[field])
	}
	err = s.wechat.Send(ctx, rec.OpenID, tmpl, m.Page, data)
	switch {
	case err == nil:
		return OutcomeSent, nil
	case errors.Is(err, ErrNoConsent):
		// Our counter was ahead of WeChat's: believe WeChat.
		_ = s.store.ClearConsent(ctx, m.UserID, tmpl, now)
		return OutcomeNoConsent, err
	case errors.Is(err, ErrTemporary):
		_ = s.store.ReturnConsent(ctx, m.UserID, tmpl)
		return OutcomeTemporary, err
	default:
		// A refused message does not use WeChat's consent.
		_ = s.store.ReturnConsent(ctx, m.UserID, tmpl)
		return OutcomeRefused, err
	}
}

func (s *Service) tryPush(ctx context.Context, m *Message, day string, now time.Time) (string, error) {
	if s.push == nil {
		return "", nil
	}
	devices, err := s.store.Devices(ctx, m.UserID, s.limits.MaxDevices)
	if err != nil {
		return OutcomeTemporary, err
	}
	if len(devices) == 0 {
		return "", nil
	}
	if ok, err := s.takeRate(ctx, m.UserID, ChannelPush, day, now); err != nil || !ok {
		if err != nil {
			return OutcomeTemporary, err
		}
		return OutcomeRateLimited, nil
	}
	// The app opens the message's target by its scheme URL.
	target := m.Target()
	extras := map[string]string{"message_id": m.PublicID, "rule": m.RuleID, "url": s.links.URL(target, links.App),
		"target": string(target.Target), "target_id": target.ID}
	outcome, errs := OutcomeNoDevice, []error{}
	for _, d := range devices {
		err := s.push.Send(ctx, d.RegistrationID, m.Title, m.Body, extras)
		switch {
		case err == nil:
			outcome = OutcomeSent
		case errors.Is(err, ErrNoDevice):
			_ = s.store.DeleteDevice(ctx, m.UserID, d.RegistrationID)
			errs = append(errs, err)
		case errors.Is(err, ErrTemporary):
			if outcome != OutcomeSent {
				outcome = OutcomeTemporary
			}
			errs = append(errs, err)
		default:
			if outcome == OutcomeNoDevice {
				outcome = OutcomeRefused
			}
			errs = append(errs, err)
		}
	}
	if outcome == OutcomeSent {
		return outcome, nil
	}
	return outcome, errors.Join(errs...)
}

func (s *Service) trySMS(ctx context.Context, r Rule, m *Message, rec Recipient, day string, now time.Time) (string, error) {
	if s.sms == nil || !r.Important || r.SMS.Code == "" || rec.Phone == "" {
		return "", nil
	}
	if ok, err := s.takeRate(ctx, m.UserID, ChannelSMS, day, now); err != nil || !ok {
		if err != nil {
			return OutcomeTemporary, err
		}
		return OutcomeRateLimited, nil
	}
	params := make(map[string]string, len(r.SMS.Params))
	for v, field := range r.SMS.Params {
		params[v] = fitSMSParam(m.Fields[field])
	}
	if _, ok := r.SMS.Params[SMSLinkParam]; ok {
		params[SMSLinkParam] = s.smsLink(m)
	}
	err := s.sms.Send(ctx, rec.Phone, r.SMS.Code, params)
	switch {
	case err == nil:
		return OutcomeSent, nil
	case errors.Is(err, ErrRateLimited):
		return OutcomeRateLimited, err
	case errors.Is(err, ErrTemporary):
		return OutcomeTemporary, err
	default:
		return OutcomeRefused, err
	}
}

// smsLink is the H5 path an SMS carries: the target's, or the message's
// own (a short path) when the target's does not fit an SMS variable.
func (s *Service) smsLink(m *Message) string {
	if p := s.links.H5Path(m.Target()); len([]rune(p)) <= maxSMSParam {
		return p
	}
	return s.links.H5Path(links.To(links.Message, m.PublicID))
}

func truncateDetail(s string) string {
	if len(s) > 300 {
		return s[:300]
	}
	return s
}

// followMerge addresses a reminder scheduled for a person since merged into
// another to the survivor, so it lands in the inbox the person reads. A
// message already made under the old id (moved by the merge) keeps its id,
// so a rerun of the job never makes a second one.
func (s *Service) followMerge(ctx context.Context, p *sendPayload) error {
	who, err := s.recipients.Recipient(ctx, p.UserID)
	if err != nil || who.UserID == "" || who.UserID == p.UserID {
		return nil // an unknown person is the delivery's business, as before
	}
	_, err = s.store.Message(ctx, DedupID(p.UserID, p.RuleID, p.Subject))
	switch {
	case errors.Is(err, ErrNotFound):
		p.UserID = who.UserID
		return nil
	case err != nil:
		return err
	}
	return nil
}
