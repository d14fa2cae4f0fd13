package cases

import (
	"context"
	"errors"
	"fmt"
	"time"

	"zwfw/platform/invariants"
)

// Self-check bounds: the check looks at cases finished (or touched after)
// within InvariantLookback, so a daily run sees each one many times without
// re-reading every case ever filed; at most invariantBatch per run.
const (
	InvariantLookback = 30 * 24 * time.Hour
	invariantBatch    = 5000
)

// CheckStatusEvents is the name of the check that every finished case has its status event.
const CheckStatusEvents = "cases.final_status_event"

// errChanged stops a repair when the case changed after it was examined;
// the next run looks again.
var errChanged = errors.New("case changed since it was examined")

// Invariants are the cases package's self-checks, run daily and on demand.
func (s *Service) Invariants() []invariants.Check {
	return []invariants.Check{invariants.Func{CheckName: CheckStatusEvents, Fn: s.checkStatusEvents}}
}

// checkStatusEvents: every case in a final status (rejected at intake,
// completed, withdrawn) has the case.status_changed event of that status in
// the event log, or waiting in its outbox. Reminders, the result shipment
// and the province report hang on those events. With repair, a missing
// event is emitted again through the case's outbox, in a versioned write of
// the case as examined, so two checkers running at once repair it once.
func (s *Service) checkStatusEvents(ctx context.Context, repair bool) (invariants.Result, error) {
	if s.events == nil {
		return invariants.Result{}, errors.New("cases: the self-check needs the event log (Deps.Events)")
	}
	list, err := s.store.FinishedSince(ctx, s.clock().Add(-InvariantLookback), invariantBatch)
	if err != nil {
		return invariants.Result{}, err
	}
	res := invariants.Result{Examined: len(list)}
	for _, c := range list {
		found, err := s.hasStatusEvent(ctx, c)
		if err != nil {
			return res, err
		}
		if found {
			continue
		}
		f := invariants.Finding{Subject: Subject(c.ID),
			Problem: fmt.Sprintf("办件已%s，事件日志中没有该状态的 %s 事件（提醒、结果寄递等因此未触发）", c.Status.Label(), EventStatusChanged)}
		switch {
		case !repair:
			f.Action = "仅检查，未修复"
		default:
			err := s.reemitStatus(ctx, c)
			switch {
			case err == nil:
				f.Repaired, f.Action = true, "已通过办件发件箱补发该状态事件"
			case errors.Is(err, errChanged):
				f.Action = "办件在检查期间有变动，下次自检再核对"
			default:
				return res, err
			}
		}
		res.Findings = append(res.Findings, f)
	}
	return res, nil
}

// hasStatusEvent reports whether c's current status has its event, in the
// log or still in c's outbox (the relay appends it shortly).
func (s *Service) hasStatusEvent(ctx context.Context, c *Case) (bool, error) {
	is := func(typ string, decode func(v any) error) bool {
		var d StatusChanged
		return typ == EventStatusChanged && decode(&d) == nil && d.Status == string(c.Status)
	}
	for _, p := range c.Pending {
		if is(p.Type, p.Event().Decode) {
			return true, nil
		}
	}
	var after int64
	for {
		page, err := s.events.ReadSubject(ctx, Subject(c.ID), after, 200)
		if err != nil {
			return false, err
		}
		for _, e := range page {
			if is(e.Type, e.Decode) {
				return true, nil
			}
		}
		if len(page) < 200 {
			return false, nil
		}
		after = page[len(page)-1].Seq
	}
}

// reemitStatus emits c's status event again, with the note of the timeline
// line that recorded the status, in a write of c exactly as examined.
func (s *Service) reemitStatus(ctx context.Context, examined *Case) error {
	_, err := s.update(ctx, examined.ID, func(c *Case) error {
		if c.Version != examined.Version+1 || c.Status != examined.Status {
			return errChanged
		}
		note := ""
		for i := len(c.Timeline) - 1; i >= 0; i-- {
			if c.Timeline[i].Status == c.Status {
				note = c.Timeline[i].Note
				break
			}
		}
		c.emitStatus(ActorSystem, note, s.clock())
		return nil
	})
	return err
}
