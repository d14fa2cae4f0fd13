package rectify

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"zwfw/apperr"
	"zwfw/cases"
	"zwfw/platform/events"
)

// DefaultMaxLevel is the worst level that is not a 差评: 3 (基本满意) and
// below open a rectification unless configured otherwise.
const DefaultMaxLevel = 3

// DueWorkdays is the time a rectification has: 15 working days.
const DueWorkdays = 15

// ConsumerName is the event-log consumer that opens rectifications and
// counts evaluations. A new deployment's cursor starts at the log's
// beginning, so evaluations made before this package existed are caught up.
const ConsumerName = "rectify.evaluations"

// EventTypes are the events HandleEvent acts on.
func EventTypes() []string { return []string{cases.EventEvaluated} }

// Cases reads a case by id (implemented by *cases.Service).
type Cases interface {
	ByID(ctx context.Context, id string) (*cases.Case, error)
}

// Calendar counts working days on the official calendar (implemented by
// workdays.TimeCalendar, like cases.Calendar).
type Calendar interface {
	AddWorkdays(from time.Time, n int) time.Time
}

// Deps are the service's collaborators; all are required but Logger and Now.
type Deps struct {
	Store    Store
	Tallies  Tallies
	Cases    Cases
	Calendar Calendar
	// MaxLevel is the worst level that opens a rectification (ZWFW_RECTIFY_MAX_LEVEL).
	MaxLevel int
	Logger   *slog.Logger
	Now      func() time.Time
}

// Service runs rectifications.
type Service struct {
	d Deps
}

// NewService builds the service.
func NewService(d Deps) *Service {
	if d.MaxLevel < 1 || d.MaxLevel > 5 {
		d.MaxLevel = DefaultMaxLevel
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d}
}

// MaxLevel is the worst level that opens a rectification.
func (s *Service) MaxLevel() int { return s.d.MaxLevel }

func (s *Service) clock() time.Time { return s.d.Now().UTC().Truncate(time.Millisecond) }

// HandleEvent is the events.Handler of ConsumerName: a case's evaluation
// is counted (once per event-log position) and, when it is at or below
// MaxLevel, opens the case's rectification (once per case: its id is the
// case's). Delivery is at-least-once; a replay changes nothing.
func (s *Service) HandleEvent(ctx context.Context, e events.Event) error {
	if e.Type != cases.EventEvaluated {
		return nil
	}
	caseID := strings.TrimPrefix(e.Subject, "case:")
	c, err := s.d.Cases.ByID(ctx, caseID)
	if errors.Is(err, cases.ErrNotFound) {
		s.d.Logger.Warn("evaluated case not found; skipped", "case_id", caseID, "seq", e.Seq)
		return nil
	}
	if err != nil {
		return err
	}
	if c.Evaluation == nil {
		return nil
	}
	if c.Evaluation.Level <= s.d.MaxLevel {
		if _, err := s.Open(ctx, c); err != nil {
			return err
		}
	}
	return s.d.Tallies.Count(ctx, e.Seq, c.Evaluation.Level, c.Dept, c.ItemCode, c.ItemName)
}

// Open opens the rectification of c's evaluation if it has none (the
// consumer calls it; exported for the catch-up of old evaluations and
// tests). It reports whether this call opened it.
func (s *Service) Open(ctx context.Context, c *cases.Case) (bool, error) {
	now := s.clock()
	ev := c.Evaluation
	r := &Rectification{ID: IDOf(c.ID), CaseID: c.ID, CaseNumber: c.CaseNumber, ItemCode: c.ItemCode, ItemName: c.ItemName,
		Dept: c.Dept, UserID: c.OwnerID,
		Evaluation: Evaluation{Level: ev.Level, Reasons: ev.Reasons, Comment: ev.Comment, At: ev.At},
		State:      StateOpen, Rank: rankOf(StateOpen), Replies: []Reply{}, CallBacks: []CallBack{},
		OpenedAt: now, DueOn: s.DueOn(now), Version: 1, UpdatedAt: now,
		History: []Change{{At: now, By: Staff{ID: "system", Name: "系统"}, Action: ActionOpen, State: StateOpen,
			Note: "评价等级 " + levelLabel(ev.Level)}}}
	return s.d.Store.Insert(ctx, r)
}

// DueOn is the due date of a rectification opened at opened: the start of
// the day DueWorkdays working days later on the official calendar.
func (s *Service) DueOn(opened time.Time) time.Time {
	return s.d.Calendar.AddWorkdays(opened, DueWorkdays).UTC()
}

// Get returns the rectification id, or RECTIFY_NOT_FOUND.
func (s *Service) Get(ctx context.Context, id string) (*Rectification, error) {
	return s.d.Store.Get(ctx, id)
}

// List returns rectifications, not closed first, by due date. overdue
// keeps those past their due date at now.
func (s *Service) List(ctx context.Context, state State, overdue bool, limit int) ([]*Rectification, error) {
	f := Filter{State: state, Limit: limit}
	if overdue {
		now := s.clock()
		// Due before today's start in Asia/Shanghai: the due day itself is in time.
		f.DueBefore = s.d.Calendar.AddWorkdays(now, 0).UTC()
	}
	return s.d.Store.List(ctx, f)
}

// Tally returns the evaluation counts.
func (s *Service) Tally(ctx context.Context) (*Tally, error) { return s.d.Tallies.Tally(ctx) }

// Now is the service's clock (the console shows overdue by it).
func (s *Service) Now() time.Time { return s.clock() }

const maxText = 500

func text(field, v string, required bool) (string, []apperr.FieldError) {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		return v, []apperr.FieldError{apperr.Field(field, "REQUIRED", "请填写此项")}
	case utf8.RuneCountInString(v) > maxText:
		return v, []apperr.FieldError{apperr.Field(field, "TOO_LONG", "不能超过500字")}
	}
	return v, nil
}

// Assign makes owner (a name, with their department) responsible.
// Returns RECTIFY_NOT_FOUND, RECTIFY_INVALID or RECTIFY_CLOSED.
func (s *Service) Assign(ctx context.Context, id string, by Staff, owner, dept string) (*Rectification, error) {
	owner, f1 := text("owner", owner, true)
	dept, f2 := text("owner_dept", dept, false)
	if fs := append(f1, f2...); len(fs) > 0 {
		return nil, ErrInvalid.WithFields(fs...)
	}
	return s.change(ctx, id, by, ActionAssign, func(r *Rectification, now time.Time) string {
		r.Owner = &Owner{Name: owner, Dept: dept, AssignedBy: by, At: now}
		if dept != "" {
			return owner + "（" + dept + "）"
		}
		return owner
	})
}

// Reply records an answer to the citizen and tells them (rectify.replied,
// in the same write). Returns RECTIFY_NOT_FOUND, RECTIFY_INVALID,
// RECTIFY_OWNER_REQUIRED or RECTIFY_CLOSED.
func (s *Service) Reply(ctx context.Context, id string, by Staff, reply string) (*Rectification, error) {
	reply, fs := text("reply", reply, true)
	if len(fs) > 0 {
		return nil, ErrInvalid.WithFields(fs...)
	}
	return s.change(ctx, id, by, ActionReply, func(r *Rectification, now time.Time) string {
		r.Replies = append(r.Replies, Reply{Text: reply, By: by, At: now})
		r.emitReplied(by.ID, now)
		return reply
	})
}

// CallBackInput is a call-back as the form records it.
type CallBackInput struct {
	Caller   string
	CalledAt time.Time // zero: now
	Outcome  Outcome
	Note     string
}

// CallBack records a call to the citizen after the reply. Returns
// RECTIFY_NOT_FOUND, RECTIFY_INVALID, RECTIFY_REPLY_REQUIRED or RECTIFY_CLOSED.
func (s *Service) CallBack(ctx context.Context, id string, by Staff, in CallBackInput) (*Rectification, error) {
	caller, fs := text("caller", in.Caller, true)
	note, f2 := text("note", in.Note, false)
	fs = append(fs, f2...)
	valid := false
	for _, o := range Outcomes {
		valid = valid || o == in.Outcome
	}
	if !valid {
		fs = append(fs, apperr.Field("outcome", "INVALID", "请选择回访结果"))
	}
	if !in.CalledAt.IsZero() && in.CalledAt.After(s.clock().Add(time.Minute)) {
		fs = append(fs, apperr.Field("called_at", "IN_FUTURE", "回访时间不能晚于现在"))
	}
	if len(fs) > 0 {
		return nil, ErrInvalid.WithFields(fs...)
	}
	return s.change(ctx, id, by, ActionCallBack, func(r *Rectification, now time.Time) string {
		at := in.CalledAt
		if at.IsZero() {
			at = now
		}
		r.CallBacks = append(r.CallBacks, CallBack{Caller: caller, CalledAt: at.UTC().Truncate(time.Millisecond), Outcome: in.Outcome,
			Note: note, By: by, At: now})
		out := caller + "：" + in.Outcome.Label()
		if note != "" {
			out += "，" + note
		}
		return out
	})
}

// Close ends the rectification; it needs a recorded call-back. Returns
// RECTIFY_NOT_FOUND, RECTIFY_INVALID, RECTIFY_CALLBACK_REQUIRED or RECTIFY_CLOSED.
func (s *Service) Close(ctx context.Context, id string, by Staff, note string) (*Rectification, error) {
	note, fs := text("note", note, false)
	if len(fs) > 0 {
		return nil, ErrInvalid.WithFields(fs...)
	}
	return s.change(ctx, id, by, ActionClose, func(r *Rectification, now time.Time) string {
		r.ClosedAt = &now
		return note
	})
}

// change applies action to the rectification id: the state machine decides,
// apply makes the change and says its history note, and the save is
// guarded by the version read. When another supervisor saved meanwhile the
// change is made again on their result (re-checked by the state machine),
// so neither write is lost.
func (s *Service) change(ctx context.Context, id string, by Staff, a Action, apply func(r *Rectification, now time.Time) string) (*Rectification, error) {
	for attempt := 0; ; attempt++ {
		r, err := s.d.Store.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		next, err := Next(r.State, a)
		if err != nil {
			return nil, err
		}
		if a == ActionReply && r.Owner == nil {
			return nil, ErrOwnerRequired
		}
		now := s.clock()
		prev := r.Version
		r.Version, r.UpdatedAt = prev+1, now
		note := apply(r, now)
		r.State, r.Rank = next, rankOf(next)
		r.History = append(r.History, Change{At: now, By: by, Action: a, State: next, Note: note})
		err = s.d.Store.Save(ctx, r, prev)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, apperr.Conflict) || attempt >= 8 {
			return nil, err
		}
	}
}

func levelLabel(level int) string {
	for _, l := range cases.EvaluationLevels {
		if l.Level == level {
			return l.Label
		}
	}
	return "?"
}
