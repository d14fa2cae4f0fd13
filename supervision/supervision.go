// Package supervision is electronic supervision (电子监察): every case in
// progress, by where it stands against its promised time limit — normal,
// yellow (within the last working days of the limit) or red (overdue) —
// counted by department and item, listed down to the case, and the counts
// of each day kept for the chart of the last weeks.
//
// The console's page must cost the same with ten or ten million cases, and
// on the embedded FerretDB only _id look-ups are indexed, so nothing here
// reads the cases collection per request. Instead:
//
//   - an index of the cases in progress (collection supervision_cases, one
//     small document per case, _id = case id) is kept by the event consumer
//     "supervision.index" (HandleEvent): on each case.status_changed (and
//     case.submitted_to_province, which brings the case number) the case is
//     read back by id and its entry written, or deleted once the case is
//     finished. The consumer re-reads the case, so a replayed or late event
//     writes the current state, never an old one;
//   - the service keeps that index in memory. The replica that consumes
//     applies each change to it at once and counts it in the store (one
//     counter document); every replica looks at the count in the background
//     every TTL and reads the index again (a scan of open cases only, off
//     the request path) only when it moved, so a change made on another
//     replica shows within the TTL, and a quiet index costs one look-up;
//   - classifying the cases at "today" is memoised per (start date, promised
//     days), so a board costs the number of distinct dates, not of cases, and
//     is computed once per change or day, not per request.
//
// The daily counts (supervision_days, _id = the date) are written by the
// daily job and, for today, by the background refresh whenever they change;
// both are idempotent upserts of the same document. The daily job first
// rechecks every entry against its case (Recheck), so an entry whose event
// was never seen is corrected within a day.
package supervision

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"zwfw/cases"
	"zwfw/platform/workdays"
)

// State is where a case in progress stands against its time limit.
type State string

// The time-limit states.
const (
	// Normal: more than the warning days left, or no time limit.
	Normal State = "normal"
	// Yellow (预警): today is one of the last WarnDays working days of the limit.
	Yellow State = "yellow"
	// Red (超期): past the due date.
	Red State = "red"
)

// States lists the states in display order.
var States = []State{Normal, Yellow, Red}

// Label is the state as supervisors know it.
func (s State) Label() string {
	switch s {
	case Normal:
		return "正常"
	case Yellow:
		return "黄牌预警"
	case Red:
		return "红牌超期"
	}
	return string(s)
}

// Valid reports whether s is a known state.
func (s State) Valid() bool { return slices.Contains(States, s) }

// Entry is one case in progress as supervision sees it (no personal data).
type Entry struct {
	CaseID   string `bson:"_id"`
	Number   string `bson:"number"`
	Dept     string `bson:"dept"`
	ItemCode string `bson:"item_code"`
	ItemName string `bson:"item_name"`
	Status   string `bson:"status"`
	// StartedAt is when the time limit started: acceptance, or submission
	// until the province accepts (as cases.TimeLimitOf counts it).
	StartedAt    time.Time `bson:"started_at"`
	PromisedDays int       `bson:"promised_days"`
	// Version is the case's version the entry was taken from.
	Version int64 `bson:"version"`
}

// EntryOf is c's entry, or false when c is not in progress (a draft, or
// finished: its time limit no longer runs).
func EntryOf(c *cases.Case) (Entry, bool) {
	if c.Status == cases.StatusDraft || c.Status.Final() || c.SubmittedAt == nil {
		return Entry{}, false
	}
	start := *c.SubmittedAt
	if c.AcceptedAt != nil {
		start = *c.AcceptedAt
	}
	return Entry{CaseID: c.ID, Number: c.CaseNumber, Dept: c.Dept, ItemCode: c.ItemCode, ItemName: c.ItemName,
		Status: string(c.Status), StartedAt: start.UTC(), PromisedDays: c.PromisedDays, Version: c.Version}, true
}

// Limit is where one case stands at a day.
type Limit struct {
	DueOn    workdays.Date // zero when the case has no time limit
	DaysLeft int           // working days after today up to the due date; negative when overdue
	State    State
}

// Classify computes the limit of a case started at start with promised
// working days, at now, warning warnDays working days before the due date.
// The time limit is the one the case's one view shows (cases.TimeLimitOf):
// due = start + promised working days; a case is red once the due date
// has passed, yellow when fewer than warnDays working days are left after
// today (so on each of the last warnDays working days of the limit,
// and on the days off between them), normal otherwise and when it has no
// time limit.
func Classify(cal cases.Calendar, start time.Time, promised int, now time.Time, warnDays int) Limit {
	tl := cases.TimeLimitOf(&cases.Case{SubmittedAt: &start, PromisedDays: promised, Status: cases.StatusAccepted}, cal, now)
	if tl.DueOn == nil {
		return Limit{State: Normal}
	}
	l := Limit{DueOn: workdays.DateOf(*tl.DueOn), DaysLeft: tl.DaysLeft, State: Normal}
	switch {
	case tl.Overdue:
		l.State = Red
	case tl.DaysLeft < warnDays:
		l.State = Yellow
	}
	return l
}

// Counts are the cases in each state.
type Counts struct {
	Normal int `bson:"normal"`
	Yellow int `bson:"yellow"`
	Red    int `bson:"red"`
}

// Total is all cases counted.
func (c Counts) Total() int { return c.Normal + c.Yellow + c.Red }

// Of is the count of one state.
func (c Counts) Of(s State) int {
	switch s {
	case Yellow:
		return c.Yellow
	case Red:
		return c.Red
	}
	return c.Normal
}

func (c *Counts) add(s State) {
	switch s {
	case Yellow:
		c.Yellow++
	case Red:
		c.Red++
	default:
		c.Normal++
	}
}

// Row is the counts of one department, or of one item of a department.
type Row struct {
	Dept               string
	ItemCode, ItemName string
	Counts
}

// Case is one case on the board with its limit.
type Case struct {
	Entry
	Limit
}

// Board is the cases in progress classified at one day. It is shared by
// every request of that day until the index changes: never modify it.
type Board struct {
	Today    workdays.Date
	WarnDays int
	Total    Counts
	ByDept   []Row // by department, most red first
	ByItem   []Row // by department and item, most red first
	cases    []Case
	byID     map[string]int
}

// Filter selects cases of a board; empty fields select all.
type Filter struct {
	State          State
	Dept, ItemCode string
}

// Cases returns the cases f selects, most overdue first, at most limit of
// them (all when limit <= 0), and how many there are.
func (b *Board) Cases(f Filter, limit int) ([]Case, int) {
	var out []Case
	n := 0
	for _, c := range b.cases {
		if (f.State != "" && c.State != f.State) || (f.Dept != "" && c.Dept != f.Dept) || (f.ItemCode != "" && c.ItemCode != f.ItemCode) {
			continue
		}
		n++
		if limit <= 0 || len(out) < limit {
			out = append(out, c)
		}
	}
	return out, n
}

// Case returns the case with id if it is on the board.
func (b *Board) Case(id string) (Case, bool) {
	i, ok := b.byID[id]
	if !ok {
		return Case{}, false
	}
	return b.cases[i], true
}

// newBoard classifies entries at now. Limits are memoised per start date
// and promised days: a board costs the distinct dates, not the cases.
func newBoard(entries map[string]Entry, cal cases.Calendar, now time.Time, warnDays int) *Board {
	type key struct {
		start    workdays.Date
		promised int
	}
	memo := map[key]Limit{}
	b := &Board{Today: workdays.DateOf(now), WarnDays: warnDays, cases: make([]Case, 0, len(entries)), byID: make(map[string]int, len(entries))}
	depts := map[string]*Row{}
	items := map[[2]string]*Row{}
	for _, e := range entries {
		k := key{workdays.DateOf(e.StartedAt), e.PromisedDays}
		l, ok := memo[k]
		if !ok {
			l = Classify(cal, e.StartedAt, e.PromisedDays, now, warnDays)
			memo[k] = l
		}
		b.cases = append(b.cases, Case{Entry: e, Limit: l})
		b.Total.add(l.State)
		d := depts[e.Dept]
		if d == nil {
			d = &Row{Dept: e.Dept}
			depts[e.Dept] = d
		}
		d.add(l.State)
		ik := [2]string{e.Dept, e.ItemCode}
		it := items[ik]
		if it == nil {
			it = &Row{Dept: e.Dept, ItemCode: e.ItemCode, ItemName: e.ItemName}
			items[ik] = it
		}
		it.add(l.State)
	}
	// Most overdue first; cases without a time limit last.
	slices.SortFunc(b.cases, func(x, y Case) int {
		if x.DueOn.IsZero() != y.DueOn.IsZero() {
			if x.DueOn.IsZero() {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(x.DaysLeft, y.DaysLeft); c != 0 {
			return c
		}
		return strings.Compare(x.Number+x.CaseID, y.Number+y.CaseID)
	})
	for i, c := range b.cases {
		b.byID[c.CaseID] = i
	}
	byUrgency := func(x, y Row) int {
		if c := cmp.Compare(y.Red, x.Red); c != 0 {
			return c
		}
		if c := cmp.Compare(y.Yellow, x.Yellow); c != 0 {
			return c
		}
		if c := cmp.Compare(y.Total(), x.Total()); c != 0 {
			return c
		}
		return strings.Compare(x.Dept+"\x00"+x.ItemCode, y.Dept+"\x00"+y.ItemCode)
	}
	for _, d := range depts {
		b.ByDept = append(b.ByDept, *d)
	}
	for _, it := range items {
		b.ByItem = append(b.ByItem, *it)
	}
	slices.SortFunc(b.ByDept, byUrgency)
	slices.SortFunc(b.ByItem, byUrgency)
	return b
}

// Day is one day's counts (collection supervision_days, _id the date).
type Day struct {
	Day    string `bson:"_id"` // 2006-01-02, Asia/Shanghai
	Counts `bson:",inline"`
	At     time.Time `bson:"at"` // when they were counted
}

// Store keeps the index and the daily counts (implemented by *MongoStore).
// Every write is by _id.
type Store interface {
	// Put writes a case's entry (insert or replace).
	Put(ctx context.Context, e Entry) error
	// Remove deletes a case's entry (none: nothing to do).
	Remove(ctx context.Context, caseID string) error
	// All reads every entry (the cases in progress).
	All(ctx context.Context) ([]Entry, error)
	// PutDay writes a day's counts (insert or replace).
	PutDay(ctx context.Context, d Day) error
	// Days reads the counts of the days from..to (inclusive) that have them, in order.
	Days(ctx context.Context, from, to workdays.Date) ([]Day, error)
	// Bump counts one more change of the index and returns the count.
	Bump(ctx context.Context) (int64, error)
	// Changes returns the count of changes (0 before the first).
	Changes(ctx context.Context) (int64, error)
}

// Cases reads a case by id (implemented by *cases.Service).
type Cases interface {
	ByID(ctx context.Context, id string) (*cases.Case, error)
}
