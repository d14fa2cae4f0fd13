package workdays

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"

	"zwfw/apperr"
)

// newTestCalendar returns a calendar over an in-memory store with overrides.
func newTestCalendar(t testing.TB, overrides ...Override) *Calendar {
	t.Helper()
	store := NewMemoryStore()
	for _, o := range overrides {
		if err := store.Put(context.Background(), o); err != nil {
			t.Fatalf("put %s: %v", o.Date, err)
		}
	}
	c, err := NewCalendar(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var d = MustParseDate

// The 2026 schedule (国务院办公厅关于2026年部分节假日安排的通知) as lunar-go ships it.
func TestIsWorkday2026(t *testing.T) {
	cal := newTestCalendar(t)
	cases := []struct {
		date    string
		workday bool
		why     string
	}{
		{"2026-01-01", false, "元旦 (Thursday)"},
		{"2026-01-02", false, "元旦 (Friday)"},
		{"2026-01-04", true, "Sunday, make-up workday for 元旦"},
		{"2026-02-13", true, "Friday before the Spring Festival"},
		{"2026-02-14", true, "Saturday, make-up workday for 春节"},
		{"2026-02-15", false, "春节, first day (Sunday)"},
		{"2026-02-16", false, "春节 (Monday)"},
		{"2026-02-17", false, "春节 (Tuesday, 正月初一)"},
		{"2026-02-20", false, "春节 (Friday)"},
		{"2026-02-23", false, "春节, last day (Monday)"},
		{"2026-02-24", true, "first Tuesday after the Spring Festival"},
		{"2026-02-28", true, "Saturday, second make-up workday for 春节"},
		{"2026-04-06", false, "清明节 (Monday)"},
		{"2026-05-05", false, "劳动节 (Tuesday)"},
		{"2026-05-09", true, "Saturday, make-up workday for 劳动节"},
		{"2026-06-19", false, "端午节 (Friday)"},
		{"2026-09-20", true, "Sunday, make-up workday for 国庆节"},
		{"2026-09-25", false, "中秋节 (Friday)"},
		{"2026-10-01", false, "国庆节, first day"},
		{"2026-10-05", false, "国庆节 (Monday)"},
		{"2026-10-07", false, "国庆节, last day (Wednesday)"},
		{"2026-10-08", true, "Thursday after 国庆节"},
		{"2026-10-10", true, "Saturday, make-up workday for 国庆节"},
		{"2026-10-11", false, "an ordinary Sunday"},
		{"2026-11-21", false, "an ordinary Saturday"},
		{"2026-11-24", true, "an ordinary Tuesday"},
	}
	for _, tc := range cases {
		if got := cal.IsWorkday(d(tc.date)); got != tc.workday {
			t.Errorf("IsWorkday(%s) = %v, want %v: %s", tc.date, got, tc.workday, tc.why)
		}
	}
}

func TestSpringFestival2026IsNineDaysOff(t *testing.T) {
	cal := newTestCalendar(t)
	for day := d("2026-02-15"); !day.After(d("2026-02-23")); day = day.AddDays(1) {
		if cal.IsWorkday(day) {
			t.Errorf("%s (%v) is in the Spring Festival holiday", day, day.Weekday())
		}
		if info := cal.Info(day); info.Name != "春节" || info.Source != SourceOfficial {
			t.Errorf("Info(%s) = %+v, want 春节 from the official schedule", day, info)
		}
	}
}

// Counted by hand from the schedule: 2026 has 261 weekdays, 19 of them are
// holidays and 6 weekend days are make-up workdays.
func TestWorkdaysIn2026(t *testing.T) {
	cal := newTestCalendar(t)
	if got := cal.WorkdaysBetween(d("2025-12-31"), d("2026-12-31")); got != 248 {
		t.Errorf("working days in 2026 = %d, want 261 - 19 + 6 = 248", got)
	}
}

func TestAddWorkdays(t *testing.T) {
	cal := newTestCalendar(t)
	cases := []struct {
		from string
		n    int
		want string
		why  string
	}{
		{"2026-11-24", 1, "2026-11-25", "Tuesday + 1 is Wednesday"},
		{"2026-11-20", 1, "2026-11-23", "Friday + 1 is the next Monday: the start day does not count"},
		{"2026-11-21", 1, "2026-11-23", "a case submitted on a Saturday: Monday is day 1"},
		{"2026-11-24", 0, "2026-11-24", "zero working days is the start day"},
		{"2026-09-30", 1, "2026-10-08", "skips the National Day holiday 10-01..10-07"},
		{"2026-09-30", 2, "2026-10-09", "Friday after National Day"},
		{"2026-09-30", 3, "2026-10-10", "the make-up Saturday counts"},
		{"2026-09-30", 4, "2026-10-12", "Sunday 10-11 does not"},
		{"2026-09-18", 1, "2026-09-20", "Friday + 1 is the make-up Sunday 09-20"},
		{"2026-09-24", 1, "2026-09-28", "中秋 09-25..27 is off"},
		{"2026-02-13", 1, "2026-02-14", "make-up Saturday before the Spring Festival"},
		{"2026-02-13", 2, "2026-02-24", "then nine days of Spring Festival"},
		{"2026-09-25", 15, "2026-10-22", "15 working days from the Mid-Autumn holiday: 09-28..30, 10-08..10, 10-12..16, 10-19..22"},
		{"2025-12-31", 1, "2026-01-04", "元旦 01-01..03 off, Sunday 01-04 works"},
		{"2026-10-08", -1, "2026-09-30", "one working day before 10-08 is back across the holiday"},
		{"2026-10-12", -2, "2026-10-09", "backwards across the make-up Saturday"},
	}
	for _, tc := range cases {
		if got := cal.AddWorkdays(d(tc.from), tc.n); got != d(tc.want) {
			t.Errorf("AddWorkdays(%s, %d) = %s, want %s: %s", tc.from, tc.n, got, tc.want, tc.why)
		}
	}
}

func TestWorkdaysBetween(t *testing.T) {
	cal := newTestCalendar(t)
	cases := []struct {
		from, to string
		want     int
		why      string
	}{
		{"2026-11-24", "2026-11-24", 0, "same day"},
		{"2026-11-24", "2026-11-25", 1, "the day after"},
		{"2026-11-20", "2026-11-22", 0, "Friday to Sunday: the weekend has no working days"},
		{"2026-11-20", "2026-11-23", 1, "Friday to Monday"},
		{"2026-09-30", "2026-10-07", 0, "the whole National Day holiday"},
		{"2026-09-30", "2026-10-12", 4, "10-08, 10-09, 10-10 (make-up), 10-12"},
		{"2026-10-12", "2026-09-30", -4, "reversed: four working days overdue"},
		{"2026-11-25", "2026-11-24", -1, "due yesterday: one working day overdue"},
		{"2026-11-23", "2026-11-20", -1, "Friday's deadline seen on Monday"},
		{"2026-11-22", "2026-11-20", 0, "Friday's deadline seen on Sunday: not overdue by a working day yet"},
	}
	for _, tc := range cases {
		if got := cal.WorkdaysBetween(d(tc.from), d(tc.to)); got != tc.want {
			t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d: %s", tc.from, tc.to, got, tc.want, tc.why)
		}
	}
}

// AddWorkdays and WorkdaysBetween agree: the due date is n working days away
// and is itself a working day, over two years around the 2026 schedule.
func TestAddWorkdaysAgreesWithWorkdaysBetween(t *testing.T) {
	cal := newTestCalendar(t)
	for from := d("2025-09-01"); from.Before(d("2027-03-01")); from = from.AddDays(1) {
		for _, n := range []int{1, 3, 15, 20} {
			due := cal.AddWorkdays(from, n)
			if !cal.IsWorkday(due) {
				t.Fatalf("AddWorkdays(%s, %d) = %s, not a working day", from, n, due)
			}
			if got := cal.WorkdaysBetween(from, due); got != n {
				t.Fatalf("WorkdaysBetween(%s, AddWorkdays(%s, %d) = %s) = %d", from, from, n, due, got)
			}
			if got := cal.WorkdaysBetween(due, from); got != -n {
				t.Fatalf("WorkdaysBetween(%s, %s) = %d, want %d", due, from, got, -n)
			}
			if cal.IsWorkday(from) {
				if back := cal.AddWorkdays(due, -n); back != from {
					t.Fatalf("AddWorkdays(%s, %d) = %s, want back to %s", due, -n, back, from)
				}
			}
		}
	}
}

func TestOverridesTakePrecedence(t *testing.T) {
	cal := newTestCalendar(t,
		Override{Date: d("2026-11-24"), Kind: KindHoliday, Name: "台风停止办公", UpdatedBy: "admin"},
		Override{Date: d("2026-11-22"), Kind: KindWorkday, Name: "集中办理日"},
		Override{Date: d("2026-10-10"), Kind: KindHoliday, Name: "取消调休"},
		Override{Date: d("2026-10-07"), Kind: KindWorkday, Name: "假期提前结束"},
	)
	cases := []struct {
		date    string
		workday bool
		why     string
	}{
		{"2026-11-24", false, "an ordinary Tuesday marked as holiday"},
		{"2026-11-22", true, "a Sunday marked as workday"},
		{"2026-10-10", false, "an official make-up Saturday overridden to holiday"},
		{"2026-10-07", true, "an official holiday overridden to workday"},
		{"2026-11-25", true, "days without overrides are unchanged"},
	}
	for _, tc := range cases {
		if got := cal.IsWorkday(d(tc.date)); got != tc.workday {
			t.Errorf("IsWorkday(%s) = %v, want %v: %s", tc.date, got, tc.workday, tc.why)
		}
	}
	info := cal.Info(d("2026-11-24"))
	if info.Source != SourceOverride || info.Name != "台风停止办公" || info.Workday || !info.Known {
		t.Errorf("Info(2026-11-24) = %+v", info)
	}
	// Counting sees them too: Monday 11-23 + 1 skips the Tuesday holiday.
	if got := cal.AddWorkdays(d("2026-11-23"), 1); got != d("2026-11-25") {
		t.Errorf("AddWorkdays(2026-11-23, 1) = %s, want 2026-11-25", got)
	}
	// Friday 11-20 + 1 is the Sunday workday.
	if got := cal.AddWorkdays(d("2026-11-20"), 1); got != d("2026-11-22") {
		t.Errorf("AddWorkdays(2026-11-20, 1) = %s, want 2026-11-22", got)
	}
}

func TestPutDeleteReloadInMemory(t *testing.T) {
	ctx := context.Background()
	cal := newTestCalendar(t)
	tue := d("2026-11-24")
	if err := cal.Put(ctx, Override{Date: tue, Kind: KindHoliday, Name: "临时闭厅"}); err != nil {
		t.Fatal(err)
	}
	if cal.IsWorkday(tue) {
		t.Error("Put takes effect at once on this calendar")
	}
	if got := cal.Overrides(d("2026-11-01"), d("2026-11-30")); len(got) != 1 || got[0].Date != tue || got[0].UpdatedAt.IsZero() {
		t.Errorf("Overrides = %+v", got)
	}
	if err := cal.Delete(ctx, tue); err != nil {
		t.Fatal(err)
	}
	if !cal.IsWorkday(tue) {
		t.Error("Delete takes effect at once")
	}
	if err := cal.Delete(ctx, tue); !errors.Is(err, ErrOverrideNotFound) {
		t.Errorf("second Delete = %v, want ErrOverrideNotFound", err)
	}
}

func TestOverrideValidation(t *testing.T) {
	bad := []struct {
		o     Override
		field string
	}{
		{Override{Kind: KindHoliday, Name: "x"}, "date"},
		{Override{Date: d("2026-11-24"), Kind: "closed", Name: "x"}, "kind"},
		{Override{Date: d("2026-11-24"), Kind: KindHoliday, Name: "  "}, "name"},
		{Override{Date: d("2026-11-24"), Kind: KindHoliday, Name: string(make([]rune, 65))}, "name"},
	}
	cal := newTestCalendar(t)
	for _, tc := range bad {
		err := cal.Put(context.Background(), tc.o)
		if !errors.Is(err, ErrInvalidOverride) {
			t.Errorf("Put(%+v) = %v, want ErrInvalidOverride", tc.o, err)
			continue
		}
		e := apperr.From(err)
		if e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != tc.field {
			t.Errorf("Put(%+v): fields %+v, want one on %q", tc.o, e.Fields, tc.field)
		}
	}
}

// Beyond the published schedules the calendar counts plain weekdays, and says so.
func TestUnknownYearsFallBackToWeekdaysAndAreReported(t *testing.T) {
	cal := newTestCalendar(t)
	if got := cal.KnownUntil(); got != d("2026-12-31") {
		t.Fatalf("KnownUntil = %s, want 2026-12-31 (lunar-go v1.4.6 ships schedules up to 2026)", got)
	}
	cases := []struct {
		date           string
		workday, known bool
		why            string
	}{
		{"2026-12-31", true, true, "last day of the 2026 schedule"},
		{"2027-01-01", true, false, "New Year's Day 2027 is a Friday: a holiday in fact, unknown to the calendar"},
		{"2031-10-01", true, false, "National Day 2031 (Wednesday) counts as a weekday"},
		{"2031-03-04", true, false, "an ordinary Tuesday in 2031"},
		{"2031-03-08", false, false, "an ordinary Saturday in 2031"},
		{"2002-10-01", false, true, "the first year of lunar-go's data"},
		{"2001-06-01", true, false, "before lunar-go's data"},
	}
	for _, tc := range cases {
		info := cal.Info(d(tc.date))
		if info.Workday != tc.workday || info.Known != tc.known || cal.Known(d(tc.date)) != tc.known {
			t.Errorf("%s: workday=%v known=%v, want %v %v: %s", tc.date, info.Workday, info.Known, tc.workday, tc.known, tc.why)
		}
		if !tc.known && info.Source != SourceWeekday {
			t.Errorf("%s: source %s, want weekday", tc.date, info.Source)
		}
	}
	if got, want := cal.Gaps(d("2026-06-01"), d("2031-12-31")), []int{2027, 2028, 2029, 2030, 2031}; !slices.Equal(got, want) {
		t.Errorf("Gaps(2026..2031) = %v, want %v", got, want)
	}
	if got := cal.Gaps(d("2031-12-31"), d("2031-01-01")); !slices.Equal(got, []int{2031}) {
		t.Errorf("Gaps in reverse order = %v, want [2031]", got)
	}
	if got := cal.Gaps(d("2002-01-01"), d("2026-12-31")); len(got) != 0 {
		t.Errorf("Gaps(2002..2026) = %v, want none", got)
	}
	// Counting still works there, on weekdays: Friday 2031-03-07 + 1 = Monday.
	if got := cal.AddWorkdays(d("2031-03-07"), 1); got != d("2031-03-10") {
		t.Errorf("AddWorkdays(2031-03-07, 1) = %s", got)
	}
}

// Entering next year's schedule as Official overrides makes that year known;
// a one-off special day does not hide a missing schedule.
func TestOfficialOverridesExtendKnownYears(t *testing.T) {
	cal := newTestCalendar(t,
		Override{Date: d("2027-01-01"), Kind: KindHoliday, Name: "元旦节", Official: true},
		Override{Date: d("2029-10-01"), Kind: KindHoliday, Name: "国庆节", Official: true},
		Override{Date: d("2031-03-04"), Kind: KindHoliday, Name: "特殊闭厅"},
	)
	if got := cal.KnownUntil(); got != d("2027-12-31") {
		t.Errorf("KnownUntil = %s, want 2027-12-31 (2028 is still missing)", got)
	}
	if !cal.Known(d("2027-06-01")) || cal.IsWorkday(d("2027-01-01")) {
		t.Error("2027 is known, and 2027-01-01 is a holiday")
	}
	if !cal.Known(d("2031-03-04")) || cal.Known(d("2031-03-05")) {
		t.Error("a special day is known by itself, the rest of its year is not")
	}
	if got, want := cal.Gaps(d("2026-01-01"), d("2031-12-31")), []int{2028, 2030, 2031}; !slices.Equal(got, want) {
		t.Errorf("Gaps = %v, want %v", got, want)
	}
}

// The in-memory index agrees with HolidayUtil.GetHoliday on every day it covers.
func TestOfficialIndexMatchesLunarGo(t *testing.T) {
	off := official()
	n := 0
	for day := d("2001-12-01"); !day.After(d("2027-01-31")); day = day.AddDays(1) {
		h := HolidayUtil.GetHoliday(day.String())
		e, ok := off.days[day]
		switch {
		case h == nil && ok:
			t.Errorf("%s: indexed %+v, lunar-go has nothing", day, e)
		case h != nil && !ok:
			t.Errorf("%s: lunar-go has %s, not indexed", day, h)
		case h != nil && (h.IsWork() != e.work || h.GetName() != e.name):
			t.Errorf("%s: indexed %+v, lunar-go has %s", day, e, h)
		}
		if ok {
			n++
		}
	}
	if n != len(off.days) {
		t.Errorf("index has %d days, %d of them in 2001-12..2027-01", len(off.days), n)
	}
}

func TestTimesAdapter(t *testing.T) {
	tc := newTestCalendar(t).Times()
	// 2026-09-30 20:00 in Beijing (12:00 UTC) + 1 working day = start of 2026-10-08 in Beijing.
	from := time.Date(2026, 9, 30, 12, 0, 0, 0, time.UTC)
	due := tc.AddWorkdays(from, 1)
	if !due.Equal(time.Date(2026, 10, 7, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("AddWorkdays = %v", due)
	}
	// 17:00 UTC on 09-30 is already 10-01 in Beijing: still 10-08.
	if got := tc.AddWorkdays(time.Date(2026, 9, 30, 17, 0, 0, 0, time.UTC), 1); !got.Equal(due) {
		t.Errorf("AddWorkdays from the early hours of 10-01 = %v", got)
	}
	if got := tc.WorkdaysBetween(due.Add(30*time.Hour), due); got != -1 {
		t.Errorf("a day after the deadline: %d, want -1", got)
	}
}

// Readers keep working while the overrides are reloaded (run with -race).
func TestConcurrentReload(t *testing.T) {
	ctx := context.Background()
	cal := newTestCalendar(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if got := cal.AddWorkdays(d("2026-09-30"), 1); got != d("2026-10-08") {
					t.Errorf("AddWorkdays during reload = %s", got)
					return
				}
				cal.IsWorkday(d("2026-11-24"))
			}
		})
	}
	for i := range 50 {
		kind := KindHoliday
		if i%2 == 0 {
			kind = KindWorkday
		}
		if err := cal.Put(ctx, Override{Date: d("2026-11-24"), Kind: kind, Name: "切换"}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

// A failing store leaves the calendar on its previous overrides.
func TestReloadErrorKeepsPreviousOverrides(t *testing.T) {
	ctx := context.Background()
	store := &flakyStore{MemoryStore: NewMemoryStore()}
	_ = store.Put(ctx, Override{Date: d("2026-11-24"), Kind: KindHoliday, Name: "临时闭厅"})
	cal, err := NewCalendar(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	store.fail = true
	if err := cal.Reload(ctx); err == nil {
		t.Fatal("Reload should report the store's error")
	}
	if cal.IsWorkday(d("2026-11-24")) {
		t.Error("the override loaded before is still in force")
	}
	if _, err := NewCalendar(ctx, store); err == nil {
		t.Error("NewCalendar should report the store's error")
	}
}

type flakyStore struct {
	*MemoryStore
	fail bool
}

func (s *flakyStore) List(ctx context.Context, from, to Date) ([]Override, error) {
	if s.fail {
		return nil, errors.New("store down")
	}
	return s.MemoryStore.List(ctx, from, to)
}

func BenchmarkAddWorkdays(b *testing.B) {
	cal := newTestCalendar(b, Override{Date: d("2026-10-14"), Kind: KindHoliday, Name: "bench"})
	from := d("2026-09-25")
	for b.Loop() {
		if cal.AddWorkdays(from, 15) != d("2026-10-23") {
			b.Fatal("wrong due date")
		}
	}
}

func BenchmarkWorkdaysBetweenYear(b *testing.B) {
	cal := newTestCalendar(b)
	for b.Loop() {
		cal.WorkdaysBetween(d("2025-12-31"), d("2026-12-31"))
	}
}
