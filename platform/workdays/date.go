// Package workdays is the official working-day calendar: statutory holidays
// (法定节假日) and make-up workdays (调休上班) as published by the State
// Council, plus admin overrides. Statutory and promised time limits of cases
// are counted in its working days.
//
// Precedence for a date: an admin override, then the official schedule
// shipped with github.com/6tail/lunar-go (HolidayUtil), then plain weekdays.
// Years with no known schedule fall back to weekdays for counting, and the
// calendar reports them (Known, KnownUntil, Gaps, DayInfo.Known) so that
// admins can enter next year's schedule before cases run into it.
package workdays

import (
	"fmt"
	"time"

	"zwfw/apperr"
)

// Location is the time zone in which instants become calendar dates
// (Asia/Shanghai; a fixed UTC+8 zone when the tz database is missing, which
// is exact since China has no daylight saving time).
var Location = loadLocation()

func loadLocation() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// ErrInvalidDate is returned by ParseDate for input that is not a calendar
// date written as YYYY-MM-DD.
var ErrInvalidDate = apperr.New(apperr.KindInvalid, "WORKDAYS_DATE_INVALID", "日期格式有误，应为 YYYY-MM-DD，如 2026-10-10")

// Date is a calendar date (years 1..9999) with no time of day and no time zone. The zero
// Date is "no date" (IsZero); all other values are proper dates, comparable
// with ==, usable as map keys and ordered by Compare/Before/After.
type Date struct {
	// n counts days with 0001-01-01 as 1, so that the zero value is invalid
	// and day arithmetic is plain integer arithmetic.
	n int32
}

// unixShift is n of 1970-01-01 (719162 days after 0001-01-01, plus one).
const unixShift = 719163

const secondsPerDay = 86400

// NewDate returns the date year-month-day. Like time.Date it normalizes
// out-of-range values (2026-02-30 becomes 2026-03-02); use ParseDate to
// validate input.
func NewDate(year int, month time.Month, day int) Date {
	// Civil arithmetic in UTC is exact: no offsets or DST are involved.
	unixDays := time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay
	return Date{n: int32(unixDays + unixShift)}
}

// DateOf returns the calendar date of t in Asia/Shanghai, so that an instant
// late in the evening UTC lands on the right Chinese day.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Location).Date()
	return NewDate(y, m, d)
}

// Today returns the current date in Asia/Shanghai.
func Today() Date { return DateOf(time.Now()) }

// ParseDate parses a date written as YYYY-MM-DD (e.g. "2026-10-10"). It
// rejects other layouts, surrounding spaces and impossible dates such as
// 2026-02-30.
func ParseDate(s string) (Date, error) {
	// time.Parse alone would accept signs in the year ("+026-01-01"), so
	// check the shape first and let time.Parse check the ranges.
	var err error
	if !dateShape(s) {
		err = fmt.Errorf("not in YYYY-MM-DD form")
	} else {
		var t time.Time
		if t, err = time.Parse(time.DateOnly, s); err == nil {
			if t.Year() < 1 {
				err = fmt.Errorf("year 0000 is not supported")
			} else {
				return NewDate(t.Date()), nil
			}
		}
	}
	return Date{}, ErrInvalidDate.
		WithMessage(fmt.Sprintf("日期 %q 有误，应为 YYYY-MM-DD 格式的日历日期，如 2026-10-10", s)).
		WithCause(err)
}

// dateShape reports whether s looks like DDDD-DD-DD (digits and two dashes).
func dateShape(s string) bool {
	if len(s) != len(time.DateOnly) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 4 || i == 7 {
			if s[i] != '-' {
				return false
			}
		} else if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MustParseDate is ParseDate for constants in code and tests; it panics on
// bad input.
func MustParseDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// utc returns the date as midnight UTC, for civil field access only.
func (d Date) utc() time.Time {
	return time.Unix(int64(d.n-unixShift)*secondsPerDay, 0).UTC()
}

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d.n == 0 }

// Civil returns the year, month and day of d.
func (d Date) Civil() (year int, month time.Month, day int) { return d.utc().Date() }

// Year returns the year of d.
func (d Date) Year() int { return d.utc().Year() }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	// 1970-01-01 was a Thursday; keep the remainder non-negative for earlier dates.
	w := (int(d.n-unixShift) + int(time.Thursday)) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// AddDays returns the date n calendar days after d (before it when n < 0).
func (d Date) AddDays(n int) Date { return Date{n: d.n + int32(n)} }

// DaysUntil returns the number of calendar days from d to e (negative when e is before d).
func (d Date) DaysUntil(e Date) int { return int(e.n - d.n) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.n < e.n:
		return -1
	case d.n > e.n:
		return 1
	}
	return 0
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.n < e.n }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.n > e.n }

// Start returns the first instant of d in Asia/Shanghai.
func (d Date) Start() time.Time {
	y, m, dd := d.Civil()
	return time.Date(y, m, dd, 0, 0, 0, 0, Location)
}

// String formats d as YYYY-MM-DD; the zero Date is "0000-00-00".
func (d Date) String() string {
	if d.IsZero() {
		return "0000-00-00"
	}
	y, m, dd := d.Civil()
	return fmt.Sprintf("%04d-%02d-%02d", y, int(m), dd)
}

// MarshalText writes d as YYYY-MM-DD (empty for the zero Date), so Date
// works as a JSON string and map key.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads YYYY-MM-DD; empty text is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
