package workdays

import (
	"context"
	"sync/atomic"
	"time"
)

// Source says which source decided whether a date is a working day.
type Source string

// The sources, in precedence order.
const (
	SourceOverride Source = "override" // an admin override
	SourceOfficial Source = "official" // the State Council schedule (lunar-go)
	SourceWeekday  Source = "weekday"  // Monday to Friday work, weekends off
)

// DayInfo explains one date, for admin pages and hall opening hours.
type DayInfo struct {
	Date    Date   `json:"date"`
	Workday bool   `json:"workday"`
	Name    string `json:"name,omitempty"` // the holiday or make-up day's name, if any
	Source  Source `json:"source"`
	// Known is false when the date's year has no known schedule and the
	// answer is only a guess from the day of the week.
	Known bool `json:"known"`
}

// Calendar answers working-day questions. It is safe for concurrent use:
// readers see an immutable snapshot that Reload replaces atomically.
type Calendar struct {
	store OverrideStore
	snap  atomic.Pointer[snapshot]
}

// snapshot is the calendar at one load of the overrides; never modified.
type snapshot struct {
	official  *officialSchedule
	overrides map[Date]Override
	// years whose schedule is known: lunar-go's plus years of Official overrides.
	years      map[int]bool
	knownUntil Date
}

// NewCalendar loads the overrides of store and returns the calendar. A nil
// store means no overrides yet; an in-memory store is used so Put works.
func NewCalendar(ctx context.Context, store OverrideStore) (*Calendar, error) {
	if store == nil {
		store = NewMemoryStore()
	}
	c := &Calendar{store: store}
	if err := c.Reload(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the overrides again. Callers reload periodically so that an
// override entered on another instance takes effect; on error the calendar
// keeps its previous overrides.
func (c *Calendar) Reload(ctx context.Context) error {
	list, err := c.store.List(ctx, Date{}, Date{})
	if err != nil {
		return err
	}
	c.snap.Store(newSnapshot(official(), list))
	return nil
}

func newSnapshot(off *officialSchedule, list []Override) *snapshot {
	s := &snapshot{official: off, overrides: make(map[Date]Override, len(list)), years: map[int]bool{}}
	for y := range off.years {
		s.years[y] = true
	}
	for _, o := range list {
		s.overrides[o.Date] = o
		if o.Official {
			s.years[o.Date.Year()] = true
		}
	}
	// Known until the end of the unbroken run of scheduled years that starts
	// at lunar-go's first year: a schedule entered for 2029 does not make
	// 2028 known.
	if off.first != 0 && s.years[off.first] {
		y := off.first
		for s.years[y+1] {
			y++
		}
		s.knownUntil = NewDate(y, time.December, 31)
	}
	return s
}

// Put stores an override and reloads, so that this instance sees it at once.
func (c *Calendar) Put(ctx context.Context, o Override) error {
	if err := c.store.Put(ctx, o); err != nil {
		return err
	}
	return c.Reload(ctx)
}

// Delete removes the override of d and reloads.
func (c *Calendar) Delete(ctx context.Context, d Date) error {
	if err := c.store.Delete(ctx, d); err != nil {
		return err
	}
	return c.Reload(ctx)
}

// Overrides returns the overrides from from to to inclusive (zero bounds are
// open), as currently loaded.
func (c *Calendar) Overrides(from, to Date) []Override {
	s := c.snap.Load()
	var out []Override
	for d := range s.overrides {
		if inRange(d, from, to) {
			out = append(out, s.overrides[d])
		}
	}
	sortOverrides(out)
	return out
}

// IsWorkday reports whether d is a working day: a weekday that is not a
// statutory holiday, or a weekend day that is an official make-up workday
// (调休上班); admin overrides win over both.
func (c *Calendar) IsWorkday(d Date) bool { return c.snap.Load().isWorkday(d) }

func (s *snapshot) isWorkday(d Date) bool {
	if o, ok := s.overrides[d]; ok {
		return o.Kind == KindWorkday
	}
	if e, ok := s.official.days[d]; ok {
		return e.work
	}
	w := d.Weekday()
	return w != time.Saturday && w != time.Sunday
}

// Info explains d: whether it is a working day, why, and under what name.
func (c *Calendar) Info(d Date) DayInfo {
	s := c.snap.Load()
	info := DayInfo{Date: d, Workday: s.isWorkday(d), Source: SourceWeekday, Known: s.known(d)}
	if o, ok := s.overrides[d]; ok {
		info.Source, info.Name = SourceOverride, o.Name
	} else if e, ok := s.official.days[d]; ok {
		info.Source, info.Name = SourceOfficial, e.name
	}
	return info
}

// AddWorkdays returns the date that is n working days after from; from
// itself does not count, so a case submitted on a Friday with 1 working day
// is due on the next working day. n == 0 returns from; n < 0 returns the
// |n|-th working day before from.
func (c *Calendar) AddWorkdays(from Date, n int) Date {
	s := c.snap.Load()
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	d := from
	for n > 0 {
		d = d.AddDays(step)
		if s.isWorkday(d) {
			n--
		}
	}
	return d
}

// WorkdaysBetween counts the working days after from up to and including to
// ("working days left" until a deadline). When to is before from the count is
// negative: -WorkdaysBetween(to, from), the working days overdue.
func (c *Calendar) WorkdaysBetween(from, to Date) int {
	s := c.snap.Load()
	sign := 1
	if to.Before(from) {
		from, to, sign = to, from, -1
	}
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if s.isWorkday(d) {
			n++
		}
	}
	return sign * n
}

// Known reports whether d is covered by a known official schedule: its year
// has one (lunar-go's data or Official overrides), or d itself has an
// override or official entry. For other dates the calendar only guesses from
// the day of the week.
func (c *Calendar) Known(d Date) bool { return c.snap.Load().known(d) }

func (s *snapshot) known(d Date) bool {
	if _, ok := s.overrides[d]; ok {
		return true
	}
	if _, ok := s.official.days[d]; ok {
		return true
	}
	return s.years[d.Year()]
}

// KnownUntil returns the last date covered by the known schedules without a
// gap (31 December of the last such year). Deadlines after it are guesses.
//
// The New Year arrangement of the following year may still reach back into
// late December (2024's began on 2023-12-30); it arrives with that year's
// schedule.
func (c *Calendar) KnownUntil() Date { return c.snap.Load().knownUntil }

// Gaps lists the years from from's year to to's year (in either order) that
// have no known schedule, where the calendar falls back to weekdays, so that
// admins can be told to enter them.
func (c *Calendar) Gaps(from, to Date) []int {
	s := c.snap.Load()
	if to.Before(from) {
		from, to = to, from
	}
	var gaps []int
	for y := from.Year(); y <= to.Year(); y++ {
		if !s.years[y] {
			gaps = append(gaps, y)
		}
	}
	return gaps
}

// Times adapts the calendar to instants, for callers that keep time.Time
// (such as cases.Calendar): instants become dates in Asia/Shanghai and
// results are the first instant of the resulting date.
func (c *Calendar) Times() TimeCalendar { return TimeCalendar{c} }

// TimeCalendar is a Calendar seen through time.Time; see Calendar.Times.
type TimeCalendar struct{ c *Calendar }

// AddWorkdays returns the start of the date n working days after the date of from.
func (t TimeCalendar) AddWorkdays(from time.Time, n int) time.Time {
	return t.c.AddWorkdays(DateOf(from), n).Start()
}

// WorkdaysBetween counts working days after the date of from up to and
// including the date of to.
func (t TimeCalendar) WorkdaysBetween(from, to time.Time) int {
	return t.c.WorkdaysBetween(DateOf(from), DateOf(to))
}
