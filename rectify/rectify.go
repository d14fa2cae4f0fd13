// Package rectify follows up bad 好差评 evaluations (差评整改): every
// evaluation at or below a configured level opens one rectification of its
// case, which a supervisor gives an owner; the owner replies to the citizen
// (the reply reaches them through notify, by an event), calls them back and
// records the outcome, and only then may close it. A rectification is due 15
// working days after it opened, on the official calendar.
//
// The package owns the Rectification document and its state machine, the
// evaluation counters the console's 好差评 page shows (kept by the same
// consumer that opens rectifications, so the page never scans cases), its
// store interfaces and their MongoDB implementation.
package rectify

import (
	"fmt"
	"time"

	"zwfw/apperr"
	"zwfw/platform/events"
)

// State is where a rectification stands.
type State string

// States of a rectification: open → replied → called_back → closed.
const (
	// StateOpen: opened by a bad evaluation; an owner is assigned here.
	StateOpen State = "open"
	// StateReplied: the owner replied to the citizen.
	StateReplied State = "replied"
	// StateCalledBack: the citizen was called back (回访) and the outcome recorded.
	StateCalledBack State = "called_back"
	// StateClosed: done; nothing changes any more.
	StateClosed State = "closed"
)

// States lists the states in the order the console shows them.
var States = []State{StateOpen, StateReplied, StateCalledBack, StateClosed}

// Label is the state as staff read it.
func (s State) Label() string {
	switch s {
	case StateOpen:
		return "待整改"
	case StateReplied:
		return "已回复"
	case StateCalledBack:
		return "已回访"
	case StateClosed:
		return "已办结"
	}
	return string(s)
}

// Action is a change a supervisor makes to a rectification.
type Action string

// Actions, as the history records them.
const (
	ActionOpen     Action = "open"
	ActionAssign   Action = "assign"
	ActionReply    Action = "reply"
	ActionCallBack Action = "call_back"
	ActionClose    Action = "close"
)

// Label is the action as the history shows it.
func (a Action) Label() string {
	switch a {
	case ActionOpen:
		return "差评自动立案"
	case ActionAssign:
		return "指定整改责任人"
	case ActionReply:
		return "答复群众"
	case ActionCallBack:
		return "回访"
	case ActionClose:
		return "办结"
	}
	return string(a)
}

// Errors of the package (codes unique across zwfw, messages for staff).
var (
	ErrNotFound = apperr.New(apperr.KindNotFound, "RECTIFY_NOT_FOUND", "整改记录不存在")
	// ErrInvalid: a form field is missing or too long (details in Fields).
	ErrInvalid = apperr.New(apperr.KindInvalid, "RECTIFY_INVALID", "整改信息填写有误")
	// ErrClosed: a closed rectification changes no more.
	ErrClosed = apperr.New(apperr.KindConflict, "RECTIFY_CLOSED", "该整改已办结，不能再修改")
	// ErrOwnerRequired: a reply needs an owner first.
	ErrOwnerRequired = apperr.New(apperr.KindConflict, "RECTIFY_OWNER_REQUIRED", "请先指定整改责任人，再答复群众")
	// ErrReplyRequired: a call-back follows a reply.
	ErrReplyRequired = apperr.New(apperr.KindConflict, "RECTIFY_REPLY_REQUIRED", "请先答复群众，再进行回访")
	// ErrCallBackRequired: closing needs a recorded call-back.
	ErrCallBackRequired = apperr.New(apperr.KindConflict, "RECTIFY_CALLBACK_REQUIRED", "办结前须完成回访并登记回访结果")
)

// Next is the state machine: the state after action a in state s, or the
// error that refuses it. Assigning an owner keeps the state; a second reply
// or call-back (the citizen was unreachable the first time) is allowed
// until the rectification is closed.
func Next(s State, a Action) (State, error) {
	if s == StateClosed {
		return s, ErrClosed
	}
	switch a {
	case ActionAssign:
		return s, nil
	case ActionReply:
		if s == StateCalledBack {
			return s, nil // a further reply after a call-back keeps the call-back on record
		}
		return StateReplied, nil
	case ActionCallBack:
		if s == StateOpen {
			return s, ErrReplyRequired
		}
		return StateCalledBack, nil
	case ActionClose:
		if s != StateCalledBack {
			return s, ErrCallBackRequired
		}
		return StateClosed, nil
	}
	return s, ErrInvalid.WithMessage(fmt.Sprintf("未知的整改操作：%s", a))
}

// Outcome is how a call-back went.
type Outcome string

// Call-back outcomes.
const (
	OutcomeSatisfied   Outcome = "satisfied"
	OutcomeUnsatisfied Outcome = "unsatisfied"
	OutcomeUnreachable Outcome = "unreachable"
)

// Outcomes lists the outcomes in the order the form offers them.
var Outcomes = []Outcome{OutcomeSatisfied, OutcomeUnsatisfied, OutcomeUnreachable}

// Label is the outcome as staff read it.
func (o Outcome) Label() string {
	switch o {
	case OutcomeSatisfied:
		return "满意"
	case OutcomeUnsatisfied:
		return "不满意"
	case OutcomeUnreachable:
		return "未联系上"
	}
	return string(o)
}

// Staff is who made a change.
type Staff struct {
	ID   string `bson:"id"`
	Name string `bson:"name"`
}

// Owner is the staff member responsible for the rectification.
type Owner struct {
	Name       string    `bson:"name"` // the responsible person (may be outside the console's accounts)
	Dept       string    `bson:"dept,omitempty"`
	AssignedBy Staff     `bson:"assigned_by"`
	At         time.Time `bson:"at"`
}

// Reply is one answer to the citizen.
type Reply struct {
	Text string    `bson:"text"`
	By   Staff     `bson:"by"`
	At   time.Time `bson:"at"`
}

// CallBack is one call to the citizen after the reply (回访).
type CallBack struct {
	Caller   string    `bson:"caller"` // who called
	CalledAt time.Time `bson:"called_at"`
	Outcome  Outcome   `bson:"outcome"`
	Note     string    `bson:"note,omitempty"`
	By       Staff     `bson:"by"` // who recorded it
	At       time.Time `bson:"at"`
}

// Change is one line of a rectification's history.
type Change struct {
	At     time.Time `bson:"at"`
	By     Staff     `bson:"by"`
	Action Action    `bson:"action"`
	State  State     `bson:"state"` // the state after the change
	Note   string    `bson:"note,omitempty"`
}

// Evaluation is the bad evaluation that opened the rectification.
type Evaluation struct {
	Level   int       `bson:"level"`
	Reasons []string  `bson:"reasons,omitempty"`
	Comment string    `bson:"comment,omitempty"`
	At      time.Time `bson:"at"`
}

// Rectification is the follow-up of one bad evaluation of one case.
type Rectification struct {
	// ID is deterministic from the case (IDOf): one rectification per case.
	ID         string     `bson:"_id"`
	CaseID     string     `bson:"case_id"`
	CaseNumber string     `bson:"case_number"`
	ItemCode   string     `bson:"item_code"`
	ItemName   string     `bson:"item_name"`
	Dept       string     `bson:"dept"`
	UserID     string     `bson:"user_id"` // the citizen, who gets the reply
	Evaluation Evaluation `bson:"evaluation"`
	State      State      `bson:"state"`
	// Rank sorts the list: 0 while not closed, 1 once closed (open first).
	Rank      int        `bson:"rank"`
	Owner     *Owner     `bson:"owner,omitempty"`
	Replies   []Reply    `bson:"replies"`
	CallBacks []CallBack `bson:"call_backs"`
	OpenedAt  time.Time  `bson:"opened_at"`
	// DueOn is the first instant (Asia/Shanghai) of the due date: 15
	// working days after the day it opened.
	DueOn    time.Time  `bson:"due_on"`
	ClosedAt *time.Time `bson:"closed_at,omitempty"`
	History  []Change   `bson:"history"`
	Version  int64      `bson:"version"`
	// UpdatedAt is the last change.
	UpdatedAt time.Time `bson:"updated_at"`
	// Outbox holds the replies' events until the relay appended them.
	events.Outbox `bson:",inline"`
}

// IDOf is the rectification id of a case.
func IDOf(caseID string) string { return "r_" + caseID }

// Overdue reports whether the rectification is past its due date at now
// and not closed (the due date itself is still in time).
func (r *Rectification) Overdue(now time.Time) bool {
	return r.State != StateClosed && !now.Before(r.DueOn.AddDate(0, 0, 1))
}

// rankOf is the list order of a state.
func rankOf(s State) int {
	if s == StateClosed {
		return 1
	}
	return 0
}
