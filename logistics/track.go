package logistics

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"zwfw/apperr"
	"zwfw/logistics/courier"
	"zwfw/platform/jobs"
)

// pushRef is what HandlePush reads from a push before verifying it: only
// enough to find the shipment whose salt verifies it.
type pushRef struct {
	LastResult *struct {
		Com string `json:"com"`
		Nu  string `json:"nu"`
	} `json:"lastResult"`
	// An order-status callback of the aggregator names the waybill here.
	Kuaidicom string `json:"kuaidicom"`
	Kuaidinum string `json:"kuaidinum"`
}

// HandlePush verifies and applies a tracking push the aggregator POSTed to
// /callbacks/courier/{carrier}: form is the request's form (param, sign).
// The waybill named in param finds the shipment, whose salt must verify
// the signature before anything in the push is used. Events not newer than
// what is known change nothing, so duplicates and replays are harmless.
//
// reply is always the body to answer with (application/json, HTTP 200 as
// the aggregator expects): success once the push is stored or known to be
// harmless, failure to have it sent again. Returns
// SHIPMENT_PUSH_SIGNATURE_INVALID (forged or unreadable: nothing changed),
// SHIPMENT_PUSH_UNKNOWN_WAYBILL, or a store error (reply failure: retry).
func (s *Service) HandlePush(ctx context.Context, carrier string, form url.Values) (reply []byte, err error) {
	fail := courier.PushReply(false)
	var ref pushRef
	if err := json.Unmarshal([]byte(form.Get("param")), &ref); err != nil {
		return fail, ErrPushSignatureInvalid.WithCause(err)
	}
	com, num := ref.Kuaidicom, ref.Kuaidinum
	if ref.LastResult != nil {
		com, num = ref.LastResult.Com, ref.LastResult.Nu
	}
	id, err := s.findWaybill(ctx, carrier, com, num)
	if err != nil {
		return fail, err
	}
	sh, err := s.store.Shipment(ctx, id)
	if err != nil {
		return fail, err
	}
	t, err := courier.ParsePush(form, sh.Salt)
	switch {
	case errors.Is(err, courier.ErrNotTrackingPush):
		return courier.PushReply(true), nil // signed, but nothing to track
	case errors.Is(err, courier.ErrForgedPush):
		s.log.Warn("logistics: forged courier push refused", "shipment_id", sh.ID, "waybill", num)
		return fail, ErrPushSignatureInvalid.WithCause(err)
	case err != nil:
		return fail, ErrPushSignatureInvalid.WithCause(err)
	case t.Number != sh.WaybillNumber:
		return fail, ErrPushUnknownWaybill
	}
	if _, _, err := s.applyTracking(ctx, sh, t, SourcePush); err != nil {
		return fail, err
	}
	return courier.PushReply(true), nil
}

// findWaybill finds the shipment of a waybill: by the carrier of the
// callback URL (what zwfw subscribed with), else by the one in the push
// (the aggregator may have corrected it).
func (s *Service) findWaybill(ctx context.Context, carrier, com, num string) (string, error) {
	if num == "" || len(num) > 64 {
		return "", ErrPushUnknownWaybill
	}
	for _, c := range []string{carrier, com} {
		if c == "" || len(c) > 32 || strings.Contains(c, ":") {
			continue
		}
		id, found, err := s.store.WaybillShipment(ctx, c, num)
		if err != nil {
			return "", err
		}
		if found {
			return id, nil
		}
	}
	return "", ErrPushUnknownWaybill
}

// Poll asks the aggregator about up to limit shipments that had no news
// for Settings.PollStaleAfter and applies what it says, like a push: the
// safety net for pushes that never came. It returns how many shipments
// changed. A waybill the aggregator cannot answer for is tried again at
// the next round.
func (s *Service) Poll(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 100
	}
	due, err := s.store.DueForPoll(ctx, s.clock().Add(-s.set.PollStaleAfter), limit)
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, sh := range due {
		phone, err := s.pii.DecryptField(fieldPhone, sh.Receiver.PhoneEnc)
		if err != nil {
			s.log.Error("logistics: poll: receiver phone unreadable", "shipment_id", sh.ID, "err", err)
			continue
		}
		t, err := s.courier.Track(ctx, sh.Carrier, sh.WaybillNumber, phone)
		switch {
		case errors.Is(err, courier.ErrNoTracking):
			// Not collected yet: nothing to apply; ask again after PollStaleAfter.
			if err := s.store.Touch(ctx, sh.ID, s.clock()); err != nil {
				return changed, err
			}
			continue
		case err != nil:
			s.log.Warn("logistics: poll: courier query failed", "shipment_id", sh.ID, "err", err)
			continue
		}
		_, moved, err := s.applyTracking(ctx, sh, t, SourcePoll)
		if err != nil {
			return changed, err
		}
		if moved {
			changed++
		}
	}
	return changed, nil
}

// HandlePoll is the JobPoll handler: one round of Poll, then the next
// round queued PollEvery later (keyed by its time slot, so N replicas
// queue it once).
func (s *Service) HandlePoll(ctx context.Context, _ *jobs.Job) error {
	n, err := s.Poll(ctx, 200)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("logistics: shipments updated by polling", "count", n)
	}
	return s.SchedulePoll(ctx, s.now().Add(s.set.PollEvery))
}

// SchedulePoll queues the poll round due at (rounded down to its
// PollEvery slot). Call it once at start-up; each round queues the next.
func (s *Service) SchedulePoll(ctx context.Context, at time.Time) error {
	slot := at.Truncate(s.set.PollEvery)
	_, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{
		Type: JobPoll, Key: slot.UTC().Format(time.RFC3339), RunAt: slot, MaxAttempts: 3,
	})
	return err
}

// Jobs lists the job types and handlers of the package, for the runner.
func (s *Service) Jobs() map[string]jobs.Handler {
	return map[string]jobs.Handler{
		JobCreatePickup: s.HandleCreatePickup,
		JobPoll:         s.HandlePoll,
	}
}

// applyTracking merges a courier track into the shipment (as loaded by the
// caller) with one guarded versioned write, reloading and retrying when
// another writer won. The events of the transitions ride in that write,
// under ids derived from the fact (see eventID), so each transition is
// announced once however many copies of a push arrive. It returns the
// shipment as stored and whether anything changed.
func (s *Service) applyTracking(ctx context.Context, sh *Shipment, t courier.Tracking, src Source) (*Shipment, bool, error) {
	events := make([]TrackEvent, 0, len(t.Events))
	for _, e := range t.Events {
		events = append(events, TrackEvent{
			At: e.At.UTC().Truncate(time.Millisecond), State: State(e.State), Context: e.Context,
			Status: e.RawStatus, Area: e.AreaName, Source: src,
		})
	}
	for range maxWriteAttempts {
		now := s.clock()
		next := sh.clone()
		changed, transitions := next.ApplyTracking(events)
		if !changed {
			// Nothing new, but news all the same: the poller may wait.
			return sh, false, s.store.Touch(ctx, sh.ID, now)
		}
		next.LastCheckedAt, next.UpdatedAt = now, now
		next.Version++
		next.emitTransitions(transitions, now)
		err := s.store.SaveShipment(ctx, next, sh.Version)
		if errors.Is(err, apperr.Conflict) {
			if sh, err = s.store.Shipment(ctx, sh.ID); err != nil {
				return nil, false, err
			}
			continue
		}
		if err != nil {
			return nil, false, err
		}
		return next, true, nil
	}
	return nil, false, ErrStateConflict
}
