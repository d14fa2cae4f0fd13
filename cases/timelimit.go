package cases

import "time"

// Calendar counts working days on the official schedule (法定节假日, 调休);
// implemented over platform/workdays.
type Calendar interface {
	// AddWorkdays returns the date n working days after the day of from.
	AddWorkdays(from time.Time, n int) time.Time
	// WorkdaysBetween counts working days after the day of from up to and including the day of to.
	WorkdaysBetween(from, to time.Time) int
}

// TimeLimit is where a case stands against its promised time limit (承诺时限).
type TimeLimit struct {
	PromisedDays  int
	StatutoryDays int
	DueOn         *time.Time // nil until the clock starts (acceptance, or submission when not yet accepted)
	DaysLeft      int        // working days left; negative when overdue
	Overdue       bool
}

// TimeLimitOf computes the time limit at now: the clock runs in working days
// from acceptance (from submission until the province accepts), and stops
// when the case is finished.
func TimeLimitOf(c *Case, cal Calendar, now time.Time) TimeLimit {
	tl := TimeLimit{PromisedDays: c.PromisedDays, StatutoryDays: c.StatutoryDays}
	start := c.AcceptedAt
	if start == nil {
		start = c.SubmittedAt
	}
	if start == nil || cal == nil || c.PromisedDays <= 0 {
		return tl
	}
	due := cal.AddWorkdays(*start, c.PromisedDays)
	tl.DueOn = &due
	end := now
	if c.CompletedAt != nil {
		end = *c.CompletedAt
	}
	tl.DaysLeft = cal.WorkdaysBetween(end, due)
	tl.Overdue = tl.DaysLeft < 0 && (c.Status != StatusWithdrawn)
	return tl
}
