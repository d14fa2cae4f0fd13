package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"zwfw/apperr"
	"zwfw/platform/jobs"
	"zwfw/province"
)

// ActionLease is how long a supplement or withdrawal claimed in a case
// holds it against other requests while it is sent to the province. A
// claimer that died leaves the claim to expire; the next request takes it
// over and repeats the same request.
const ActionLease = 30 * time.Second

// Kinds of ProvinceAction.
const (
	actionSupplement = "supplement"
	actionWithdraw   = "withdraw"
)

// ErrActionInProgress is returned while another request on the case (a
// double tap, another phone) is being sent to the province.
var ErrActionInProgress = apperr.New(apperr.KindConflict, "CASE_ACTION_IN_PROGRESS", "该办件的另一项操作正在提交省平台，请稍后刷新查看")

// settledBy reports whether the province's move to status ends the action.
func (a *ProvinceAction) settledBy(status Status) bool {
	switch {
	case status.Final(), status == StatusSupplementRequested: // a new round needs a new supplement
		return true
	case a.Kind == actionSupplement:
		return status == StatusResubmitted
	}
	return false
}

// claimAction records in the case that kind is being sent to the province,
// if check passes on the stored case and no other live claim holds it. It
// returns the case and the claim to send: the note of an expired claim of
// the same kind and round is kept, so the province gets the same request
// again (same key, same body) and answers it from its idempotency store.
func (s *Service) claimAction(ctx context.Context, id, kind, note string, check func(c *Case) error) (*Case, *ProvinceAction, error) {
	var claim *ProvinceAction
	c, err := s.update(ctx, id, func(c *Case) error {
		if err := check(c); err != nil {
			return err
		}
		now := s.clock()
		if a := c.Action; a != nil && now.Sub(a.At) < ActionLease {
			return ErrActionInProgress.WithDetail("retry_after", int((ActionLease-now.Sub(a.At)).Seconds())+1)
		}
		if a := c.Action; a != nil && a.Kind == kind && a.Round == c.SupplementNo {
			note = a.Note
		}
		claim = &ProvinceAction{Kind: kind, Round: c.SupplementNo, Note: note, At: now}
		c.Action = claim
		return nil
	})
	return c, claim, err
}

// releaseAction removes a claim whose request the province refused or did
// not answer, so a retry may send it again. Best effort: the lease frees it anyway.
func (s *Service) releaseAction(ctx context.Context, id string, claim *ProvinceAction) {
	_, err := s.update(context.WithoutCancel(ctx), id, func(c *Case) error {
		if c.Action == nil || c.Action.Kind != claim.Kind || !c.Action.At.Equal(claim.At) {
			return errAlreadyDone
		}
		c.Action = nil
		return nil
	})
	if err != nil && !errors.Is(err, errAlreadyDone) {
		s.log.Warn("case action not released; its lease will free it", "case_id", id, "kind", claim.Kind, "err", err)
	}
}

// Supplement answers the province's supplement request (补正) with the
// materials uploaded for it: every requested material must be there (all
// missing ones are listed at once). The supplement is claimed in the case
// before it is sent, so of concurrent requests one reaches the province;
// the province's key is the case and the supplement round. The province
// moves the case to resubmitted.
//
// Returns CASE_NOT_FOUND, CASE_STATE_CONFLICT (no supplement requested, or
// it was sent already), CASE_ACTION_IN_PROGRESS, CASE_PREREVIEW_FAILED
// (fields), or the province's errors.
func (s *Service) Supplement(ctx context.Context, ownerID, caseID, note string) (*Case, error) {
	c, err := s.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, err
	}
	needed := func(c *Case) error {
		switch c.Status {
		case StatusSupplementRequested:
			return nil
		case StatusResubmitted:
			return ErrStateConflict.WithMessage("补正材料已提交，无需重复提交")
		}
		return ErrStateConflict.WithMessage("办件当前不需要补正")
	}
	if err := needed(c); err != nil {
		return nil, err
	}
	g, err := s.province.GetItem(ctx, c.ItemCode)
	if err != nil {
		return nil, err
	}
	if problems := checkMaterials(g.Guide, c.Materials, c.SupplementNo, c.Supplement); len(problems) > 0 {
		return nil, ErrPreReview.WithFields(problems...)
	}
	round := c.SupplementNo
	c, claim, err := s.claimAction(ctx, c.ID, actionSupplement, trimNote(note), func(c *Case) error {
		if err := needed(c); err != nil {
			return err
		}
		if c.SupplementNo != round {
			return ErrStateConflict.WithMessage("省平台已发出新的补正要求，请刷新后按新要求补正")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("supplement:%s:%d", c.ID, round)
	pc, err := s.province.SupplementCase(ctx, key, c.CaseNumber, materialRefs(c.Materials, round), claim.Note)
	if err != nil {
		s.releaseAction(ctx, c.ID, claim)
		return nil, err
	}
	return s.applyAnswer(ctx, c, pc, StatusResubmitted, "已提交补正材料")
}

// applyAnswer applies the province's answer to an action the applicant sent.
func (s *Service) applyAnswer(ctx context.Context, c *Case, pc province.Case, status Status, note string) (*Case, error) {
	seq := len(pc.History)
	if seq == 0 {
		seq = c.ProvinceSeq + 1
	}
	c, _, err := s.ApplyProvinceUpdate(ctx, ProvinceUpdate{CaseNumber: c.CaseNumber, Status: status, Seq: seq,
		At: s.clock(), Note: note})
	return c, err
}

// Withdraw withdraws a case: a draft (or a case not yet delivered) at once,
// a case at the province only if the province still allows it, claimed in
// the case first so that the province hears of it once (its key is the
// case). Returns CASE_NOT_FOUND, CASE_STATE_CONFLICT (withdrawn already,
// finished), CASE_ACTION_IN_PROGRESS, or the province's errors.
func (s *Service) Withdraw(ctx context.Context, ownerID, caseID, reason string) (*Case, error) {
	c, err := s.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, err
	}
	reason = trimNote(reason)
	withdrawable := func(c *Case) error {
		switch {
		case c.Status == StatusWithdrawn:
			return ErrStateConflict.WithMessage("办件已撤回")
		case c.Status.Final():
			return ErrStateConflict.WithMessage("办件已办结，不能撤回")
		}
		return nil
	}
	if err := withdrawable(c); err != nil {
		return nil, err
	}
	if c.CaseNumber == "" {
		// Not at the province yet: the submit job sees the withdrawal and stops.
		return s.update(ctx, c.ID, func(c *Case) error {
			if err := withdrawable(c); err != nil {
				return err
			}
			if c.CaseNumber != "" || !c.Status.CanMoveTo(StatusWithdrawn) {
				return ErrStateConflict.WithMessage("办件已送达省平台，请重试撤回")
			}
			now := s.clock()
			note := "申请人撤回：" + reason
			c.move(StatusWithdrawn, "applicant", note, now)
			c.emitStatus(c.OwnerID, note, now)
			return nil
		})
	}
	c, claim, err := s.claimAction(ctx, c.ID, actionWithdraw, reason, withdrawable)
	if err != nil {
		return nil, err
	}
	pc, err := s.province.WithdrawCase(ctx, "withdraw:"+c.ID, c.CaseNumber, claim.Note)
	if err != nil {
		s.releaseAction(ctx, c.ID, claim)
		return nil, err
	}
	return s.applyAnswer(ctx, c, pc, StatusWithdrawn, "申请人撤回："+claim.Note)
}

// ErrEvaluation is returned for an evaluation that does not follow the rules.
var ErrEvaluation = apperr.New(apperr.KindInvalid, "EVALUATION_INVALID", "评价内容不符合要求")

// ErrEvaluated is returned when the case was rated before.
var ErrEvaluated = apperr.New(apperr.KindConflict, "EVALUATION_EXISTS", "该办件已评价，每个办件只能评价一次")

// Evaluate records the applicant's 好差评 of a finished case, once, and
// queues its report to the province. Every level takes reasons from its own
// list (EvaluationLevels); levels 1-2 need at least one (bad ratings must be
// followed up). A reason the level does not take is refused with the ones
// it takes (details.allowed_reasons).
//
// Returns CASE_NOT_FOUND, CASE_STATE_CONFLICT (not finished),
// EVALUATION_INVALID (fields) or EVALUATION_EXISTS.
func (s *Service) Evaluate(ctx context.Context, ownerID, caseID string, level int, reasons []string, comment string) (*Case, error) {
	var fields []apperr.FieldError
	var allowed []string
	if lv, ok := evaluationLevel(level); ok {
		fields, allowed = checkReasons(lv, reasons)
	} else {
		fields = append(fields, apperr.Field("level", "LEVEL_INVALID", "评价等级应为1-5"))
	}
	if utf8.RuneCountInString(comment) > 200 {
		fields = append(fields, apperr.Field("comment", "TOO_LONG", "评价内容不能超过200字"))
	}
	if len(fields) > 0 {
		err := ErrEvaluation.WithFields(fields...)
		if allowed != nil {
			err = err.WithDetail("allowed_reasons", allowed)
		}
		return nil, err
	}
	c, err := s.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, err
	}
	c, err = s.update(ctx, c.ID, func(c *Case) error {
		if c.Evaluation != nil {
			return ErrEvaluated
		}
		if c.Status != StatusCompletedApproved && c.Status != StatusCompletedDenied && c.Status != StatusRejectedAtIntake {
			return ErrStateConflict.WithMessage("办件办结后才能评价")
		}
		now := s.clock()
		c.Evaluation = &Evaluation{Level: level, Reasons: reasons, Comment: strings.TrimSpace(comment), At: now}
		c.emitEvaluated(now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobEvaluate, Key: c.ID, Payload: map[string]string{"case_id": c.ID}}); err != nil {
		s.log.Warn("evaluation report not queued", "case_id", c.ID, "err", err)
	}
	return c, nil
}

// HandleEvaluateJob reports an evaluation to the province (the JobEvaluate handler).
func (s *Service) HandleEvaluateJob(ctx context.Context, j *jobs.Job) error {
	c, err := s.caseOfJob(ctx, j)
	if err != nil {
		return err
	}
	if c.Evaluation == nil || c.Evaluation.Reported {
		return nil
	}
	e := c.Evaluation
	// The province records the reasons in words.
	tags := reasonLabels(e.Reasons)
	comment := e.Comment
	if comment == "" && e.Level <= 2 {
		comment = strings.Join(tags, "；")
	}
	if _, err := s.province.EvaluateCase(ctx, "evaluation:"+c.ID, c.CaseNumber, e.Level, comment, tags); err != nil {
		if apperr.KindOf(err) == apperr.KindConflict {
			// Already recorded there (a retry after a lost answer).
		} else {
			return err
		}
	}
	_, err = s.update(ctx, c.ID, func(c *Case) error {
		c.Evaluation.Reported = true
		return nil
	})
	return err
}

func trimNote(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	return s
}
