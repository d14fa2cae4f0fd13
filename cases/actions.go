package cases

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"zwfw/apperr"
	"zwfw/platform/jobs"
)

// Supplement answers the province's supplement request (补正) with the
// materials uploaded for it: every requested material must be there (all
// missing ones are listed at once). The province moves the case to
// resubmitted. key makes a retry harmless.
//
// Returns IDEMPOTENCY_KEY_REQUIRED, CASE_NOT_FOUND, CASE_STATE_CONFLICT,
// CASE_PREREVIEW_FAILED (fields), or the province's errors.
func (s *Service) Supplement(ctx context.Context, ownerID, caseID, key, note string) (*Case, error) {
	if !idemKeyPattern.MatchString(key) {
		return nil, ErrIdempotencyKey
	}
	c, err := s.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, err
	}
	if c.Status != StatusSupplementRequested {
		if c.Status == StatusResubmitted {
			return c, nil // the retry of a supplement that went through
		}
		return nil, ErrStateConflict.WithMessage("办件当前不需要补正")
	}
	g, err := s.province.GetItem(ctx, c.ItemCode)
	if err != nil {
		return nil, err
	}
	if problems := checkMaterials(g.Guide, c.Materials, c.SupplementNo, c.Supplement); len(problems) > 0 {
		return nil, ErrPreReview.WithFields(problems...)
	}
	pc, err := s.province.SupplementCase(ctx, "supplement:"+c.ID+":"+key, c.CaseNumber, materialRefs(c.Materials, c.SupplementNo), trimNote(note))
	if err != nil {
		return nil, err
	}
	seq := len(pc.History)
	if seq == 0 {
		seq = c.ProvinceSeq + 1
	}
	c, _, err = s.ApplyProvinceUpdate(ctx, ProvinceUpdate{CaseNumber: c.CaseNumber, Status: StatusResubmitted, Seq: seq,
		At: s.clock(), Note: "已提交补正材料"})
	return c, err
}

// Withdraw withdraws a case: a draft at once, a submitted case only if the
// province still allows it. Returns CASE_NOT_FOUND, CASE_STATE_CONFLICT or
// the province's errors.
func (s *Service) Withdraw(ctx context.Context, ownerID, caseID, key, reason string) (*Case, error) {
	if !idemKeyPattern.MatchString(key) {
		return nil, ErrIdempotencyKey
	}
	c, err := s.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, err
	}
	switch {
	case c.Status == StatusWithdrawn:
		return c, nil
	case c.Status.Final():
		return nil, ErrStateConflict.WithMessage("办件已办结，不能撤回")
	case c.Status == StatusDraft || (c.Status == StatusSubmitted && c.CaseNumber == ""):
		// Not at the province yet: the submit job sees the withdrawal and stops.
		c, err := s.update(ctx, c.ID, func(c *Case) error {
			if c.CaseNumber != "" || !c.Status.CanMoveTo(StatusWithdrawn) {
				return ErrStateConflict.WithMessage("办件已送达省平台，请重试撤回")
			}
			c.move(StatusWithdrawn, "applicant", "申请人撤回："+trimNote(reason), s.clock())
			return nil
		})
		if err == nil {
			s.event(ctx, "case.status_changed", c, map[string]any{"status": string(c.Status)})
		}
		return c, err
	}
	pc, err := s.province.WithdrawCase(ctx, "withdraw:"+c.ID+":"+key, c.CaseNumber, trimNote(reason))
	if err != nil {
		return nil, err
	}
	seq := len(pc.History)
	if seq == 0 {
		seq = c.ProvinceSeq + 1
	}
	c, _, err = s.ApplyProvinceUpdate(ctx, ProvinceUpdate{CaseNumber: c.CaseNumber, Status: StatusWithdrawn, Seq: seq,
		At: s.clock(), Note: "申请人撤回：" + trimNote(reason)})
	return c, err
}

// Evaluation levels of the national 好差评 scheme.
var evaluationLabels = map[int]string{5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

// LowRatingReasons are the reasons an applicant picks for a level 1-2 rating.
var LowRatingReasons = []string{"办事流程繁琐", "办理时间过长", "材料要求不清楚", "多次跑动", "工作人员态度不好", "系统操作不便", "其他"}

// ErrEvaluation is returned for an evaluation that does not follow the rules.
var ErrEvaluation = apperr.New(apperr.KindInvalid, "EVALUATION_INVALID", "评价内容不符合要求")

// ErrEvaluated is returned when the case was rated before.
var ErrEvaluated = apperr.New(apperr.KindConflict, "EVALUATION_EXISTS", "该办件已评价，每个办件只能评价一次")

// Evaluate records the applicant's 好差评 of a finished case, once, and
// queues its report to the province. Levels 1-2 need at least one reason
// from LowRatingReasons (bad ratings must be followed up).
//
// Returns CASE_NOT_FOUND, CASE_STATE_CONFLICT (not finished),
// EVALUATION_INVALID (fields) or EVALUATION_EXISTS.
func (s *Service) Evaluate(ctx context.Context, ownerID, caseID string, level int, reasons []string, comment string) (*Case, error) {
	var fields []apperr.FieldError
	if _, ok := evaluationLabels[level]; !ok {
		fields = append(fields, apperr.Field("level", "LEVEL_INVALID", "评价等级应为1-5"))
	}
	for _, r := range reasons {
		if !slices.Contains(LowRatingReasons, r) {
			fields = append(fields, apperr.Field("reasons", "REASON_UNKNOWN", "不支持的评价原因："+r))
		}
	}
	if level <= 2 && level >= 1 && len(reasons) == 0 {
		fields = append(fields, apperr.Field("reasons", "REQUIRED", "差评请选择原因，以便跟进整改"))
	}
	if utf8.RuneCountInString(comment) > 200 {
		fields = append(fields, apperr.Field("comment", "TOO_LONG", "评价内容不能超过200字"))
	}
	if len(fields) > 0 {
		return nil, ErrEvaluation.WithFields(fields...)
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
		c.Evaluation = &Evaluation{Level: level, Reasons: reasons, Comment: strings.TrimSpace(comment), At: s.clock()}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobEvaluate, Key: c.ID, Payload: map[string]string{"case_id": c.ID}}); err != nil {
		s.log.Warn("evaluation report not queued", "case_id", c.ID, "err", err)
	}
	s.event(ctx, "case.evaluated", c, map[string]any{"level": level})
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
	comment := e.Comment
	if comment == "" && e.Level <= 2 {
		comment = strings.Join(e.Reasons, "；")
	}
	if _, err := s.province.EvaluateCase(ctx, "evaluation:"+c.ID, c.CaseNumber, e.Level, comment, e.Reasons); err != nil {
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
