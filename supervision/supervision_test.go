package supervision_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"zwfw/cases"
	"zwfw/platform/workdays"
	"zwfw/supervision"
)

func calendar(t *testing.T) workdays.TimeCalendar {
	t.Helper()
	cal, err := workdays.NewCalendar(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cal.Times()
}

// at is 10:00 of a date, Asia/Shanghai.
func at(day string) time.Time { return workdays.MustParseDate(day).Start().Add(10 * time.Hour) }

// The states on the official calendar around the 2026 Spring Festival: a
// case accepted on Tuesday 10 February with 5 working days is due on
// Tuesday 24 February (11, 12, 13, Saturday 14 a make-up workday, then the
// holiday until the 23rd); with 3 warning days it is yellow from the 13th
// (two working days left after it) through the holiday to the due date,
// and red the day after.
func TestClassifyOnWorkingDays(t *testing.T) {
	cal := calendar(t)
	for _, tc := range []struct {
		today    string
		promised int
		warn     int
		due      string
		left     int
		state    supervision.State
	}{
		{"2026-02-10", 5, 3, "2026-02-24", 5, supervision.Normal},
		{"2026-02-11", 5, 3, "2026-02-24", 4, supervision.Normal},
		{"2026-02-12", 5, 3, "2026-02-24", 3, supervision.Normal},    // the last 3 working days are still ahead
		{"2026-02-13", 5, 3, "2026-02-24", 2, supervision.Yellow},    // the first of the last 3
		{"2026-02-14", 5, 3, "2026-02-24", 1, supervision.Yellow},    // a Saturday, make-up workday
		{"2026-02-17", 5, 3, "2026-02-24", 1, supervision.Yellow},    // 春节: no working day passes
		{"2026-02-24", 5, 3, "2026-02-24", 0, supervision.Yellow},    // due today
		{"2026-02-25", 5, 3, "2026-02-24", -1, supervision.Red},      // one working day overdue
		{"2026-02-28", 5, 3, "2026-02-24", -4, supervision.Red},      // Saturday, make-up workday: 25, 26, 27, 28
		{"2026-03-01", 5, 3, "2026-02-24", -4, supervision.Red},      // Sunday: nothing more
		{"2026-02-24", 5, 0, "2026-02-24", 0, supervision.Normal},    // no warning period
		{"2026-02-25", 5, 0, "2026-02-24", -1, supervision.Red},      // red whatever the warning
		{"2026-02-10", 1, 3, "2026-02-11", 1, supervision.Yellow},    // a one-day item is yellow at once
		{"2026-02-12", 20, 20, "2026-03-16", 18, supervision.Yellow}, // a warning longer than the rest
	} {
		t.Run(fmt.Sprintf("%s_%dd_warn%d", tc.today, tc.promised, tc.warn), func(t *testing.T) {
			l := supervision.Classify(cal, at("2026-02-10"), tc.promised, at(tc.today), tc.warn)
			if l.DueOn.String() != tc.due || l.DaysLeft != tc.left || l.State != tc.state {
				t.Fatalf("got due %s, %d left, %s; want due %s, %d left, %s", l.DueOn, l.DaysLeft, l.State, tc.due, tc.left, tc.state)
			}
		})
	}
	if l := supervision.Classify(cal, at("2026-02-10"), 0, at("2027-01-01"), 3); l.State != supervision.Normal || !l.DueOn.IsZero() {
		t.Fatalf("a case without a time limit: %+v", l)
	}
}

// A finished or draft case has no entry; a case in progress counts its
// time limit from acceptance, from submission before it.
func TestEntryOf(t *testing.T) {
	sub, acc := at("2026-02-02"), at("2026-02-04")
	c := &cases.Case{ID: "c1", Status: cases.StatusSubmitted, SubmittedAt: &sub, PromisedDays: 5, Dept: "D", ItemCode: "I"}
	if e, ok := supervision.EntryOf(c); !ok || !e.StartedAt.Equal(sub) {
		t.Fatalf("submitted: %+v %v", e, ok)
	}
	c.Status, c.AcceptedAt = cases.StatusAccepted, &acc
	if e, ok := supervision.EntryOf(c); !ok || !e.StartedAt.Equal(acc) {
		t.Fatalf("accepted: %+v %v", e, ok)
	}
	for _, st := range []cases.Status{cases.StatusDraft, cases.StatusCompletedApproved, cases.StatusCompletedDenied, cases.StatusWithdrawn, cases.StatusRejectedAtIntake} {
		c.Status = st
		if _, ok := supervision.EntryOf(c); ok {
			t.Fatalf("%s has an entry", st)
		}
	}
}

// memStore is a Store in memory.
type memStore struct {
	mu      sync.Mutex
	entries map[string]supervision.Entry
	days    map[string]supervision.Day
	reads   int
	gate    chan struct{} // when set, All waits for it
	changes int64
}

func (m *memStore) Bump(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.changes++
	return m.changes, nil
}

func (m *memStore) Changes(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changes, nil
}

func (m *memStore) Put(_ context.Context, e supervision.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[e.CaseID] = e
	return nil
}

func (m *memStore) Remove(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, id)
	return nil
}

func (m *memStore) All(context.Context) ([]supervision.Entry, error) {
	if m.gate != nil {
		<-m.gate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	var out []supervision.Entry
	for _, e := range m.entries {
		out = append(out, e)
	}
	return out, nil
}

func (m *memStore) PutDay(_ context.Context, d supervision.Day) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.days[d.Day] = d
	return nil
}

func (m *memStore) Days(_ context.Context, from, to workdays.Date) ([]supervision.Day, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []supervision.Day
	for k, d := range m.days {
		if k >= from.String() && k <= to.String() {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out, nil
}

type caseMap map[string]*cases.Case

func (m caseMap) ByID(_ context.Context, id string) (*cases.Case, error) {
	if c, ok := m[id]; ok {
		return c, nil
	}
	return nil, cases.ErrNotFound
}

// The board counts by department and item, lists the most overdue first,
// follows the case's changes without reading the index again, and a
// finished case leaves it; today's counts are written once per change.
func TestBoardFollowsChanges(t *testing.T) {
	ctx := context.Background()
	store := &memStore{entries: map[string]supervision.Entry{}, days: map[string]supervision.Day{}}
	now := at("2026-03-02")
	cs := caseMap{}
	add := func(id, dept, item string, started string, promised int) {
		s := at(started)
		cs[id] = &cases.Case{ID: id, CaseNumber: "N" + id, Status: cases.StatusAccepted, SubmittedAt: &s, AcceptedAt: &s, PromisedDays: promised, Dept: dept, ItemCode: item, ItemName: "事项" + item}
	}
	add("a", "D1", "I1", "2026-02-26", 20) // normal
	add("b", "D1", "I1", "2026-02-26", 3)  // due 2 March (Saturday 28 February is a make-up workday): yellow
	add("c", "D1", "I2", "2026-02-02", 5)  // due 9 Feb: red
	add("d", "D2", "I3", "2026-02-03", 5)  // red, less overdue
	svc := supervision.New(store, cs, calendar(t), supervision.Options{WarnDays: 3, TTL: time.Hour, Now: func() time.Time { return now }})
	for id := range cs {
		if err := svc.Sync(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	b, err := svc.Board(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.Total != (supervision.Counts{Normal: 1, Yellow: 1, Red: 2}) {
		t.Fatalf("totals %+v", b.Total)
	}
	if got := fmt.Sprint(b.ByDept[0].Dept, b.ByDept[0].Counts); got != "D1{1 1 1}" {
		t.Fatalf("first department %s", got)
	}
	list, n := b.Cases(supervision.Filter{State: supervision.Red}, 0)
	if n != 2 || list[0].CaseID != "c" || list[1].CaseID != "d" {
		t.Fatalf("red cases %+v", list)
	}
	if list, n := b.Cases(supervision.Filter{Dept: "D1", ItemCode: "I1"}, 1); n != 2 || len(list) != 1 || list[0].CaseID != "b" {
		t.Fatalf("D1/I1 limited to 1: %d %+v", n, list)
	}

	// The red case is completed: it leaves the board at once, without a reload.
	done := at("2026-03-02")
	cs["c"].Status, cs["c"].CompletedAt = cases.StatusCompletedApproved, &done
	reads := store.reads
	if err := svc.Sync(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	b, _ = svc.Board(ctx)
	if b.Total.Red != 1 || store.reads != reads {
		t.Fatalf("after completion: %+v, %d reads of the index", b.Total, store.reads-reads)
	}
	if _, ok := b.Case("c"); ok {
		t.Fatal("a finished case is still on the board")
	}
	if _, ok := store.entries["c"]; ok {
		t.Fatal("a finished case is still in the index")
	}

	// A case finished without an event this index saw (a cursor reset, a
	// restored backup): the daily recheck reads it back and drops it.
	cs["d"].Status = cases.StatusWithdrawn
	if fixed, err := svc.Recheck(ctx); err != nil || fixed != 1 {
		t.Fatalf("recheck: %d %v", fixed, err)
	}
	if b, _ = svc.Board(ctx); b.Total.Red != 0 {
		t.Fatalf("after the recheck: %+v", b.Total)
	}
	if fixed, err := svc.Recheck(ctx); err != nil || fixed != 0 {
		t.Fatalf("a second recheck: %d %v", fixed, err)
	}

	if err := svc.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if d := store.days["2026-03-02"]; d.Counts != (supervision.Counts{Normal: 1, Yellow: 1}) {
		t.Fatalf("today's counts %+v", d)
	}
	store.days["2026-03-01"] = supervision.Day{Day: "2026-03-01", Counts: supervision.Counts{Red: 9}}
	now = at("2026-03-03") // a new day: b is past its due date; the stored days come before today's
	svc2 := supervision.New(store, cs, calendar(t), supervision.Options{WarnDays: 3, Now: func() time.Time { return now }})
	h, err := svc2.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[0].Day != "2026-03-01" || h[1].Day != "2026-03-02" || h[2].Day != "2026-03-03" || h[2].Red != 1 {
		t.Fatalf("history %+v", h)
	}
}

// Requests that arrive while the index is first read wait for it: none
// sees an empty board; the store is read once.
func TestFirstBoardsWaitForTheLoad(t *testing.T) {
	ctx := context.Background()
	store := &memStore{entries: map[string]supervision.Entry{}, days: map[string]supervision.Day{}, gate: make(chan struct{})}
	for i := range 5 {
		id := fmt.Sprint("c", i)
		store.entries[id] = supervision.Entry{CaseID: id, StartedAt: at("2026-02-02"), PromisedDays: 5}
	}
	svc := supervision.New(store, caseMap{}, calendar(t), supervision.Options{WarnDays: 3, Now: func() time.Time { return at("2026-03-02") }})
	totals := make(chan int, 3)
	for range 3 {
		go func() {
			b, err := svc.Board(ctx)
			if err != nil {
				totals <- -1
				return
			}
			totals <- b.Total.Red
		}()
	}
	time.Sleep(20 * time.Millisecond) // let them queue behind the first read (no effect on the outcome)
	close(store.gate)
	for range 3 {
		if n := <-totals; n != 5 {
			t.Fatalf("a board during the first load counted %d red, want 5", n)
		}
	}
	if store.reads != 1 {
		t.Fatalf("the index was read %d times", store.reads)
	}
}

// Two replicas on one store: a change the other consumed shows here after
// the TTL (the change count moved, so the index is read again); while
// nothing changes, a check reads the count, not the index.
func TestChangesOfAnotherReplicaShowAfterTheTTL(t *testing.T) {
	ctx := context.Background()
	store := &memStore{entries: map[string]supervision.Entry{}, days: map[string]supervision.Day{}}
	now := at("2026-03-02")
	clock := func() time.Time { return now }
	s1 := at("2026-02-02")
	cs := caseMap{"a": {ID: "a", Status: cases.StatusAccepted, SubmittedAt: &s1, AcceptedAt: &s1, PromisedDays: 5}}
	here := supervision.New(store, cs, calendar(t), supervision.Options{WarnDays: 3, TTL: time.Minute, Now: clock})
	there := supervision.New(store, cs, calendar(t), supervision.Options{WarnDays: 3, TTL: time.Minute, Now: clock})
	if b, _ := here.Board(ctx); b.Total.Total() != 0 {
		t.Fatalf("empty at first: %+v", b.Total)
	}
	if err := there.Sync(ctx, "a"); err != nil { // the other replica consumes the event
		t.Fatal(err)
	}
	if b, _ := here.Board(ctx); b.Total.Red != 0 {
		t.Fatal("shown before the TTL: this replica read the store per request")
	}
	now = now.Add(time.Minute)
	if b, _ := here.Board(ctx); b.Total.Red != 1 {
		t.Fatalf("after the TTL: %+v", b.Total)
	}
	reads := store.reads
	for range 3 {
		now = now.Add(time.Minute)
		if b, _ := here.Board(ctx); b.Total.Red != 1 {
			t.Fatalf("quiet: %+v", b.Total)
		}
	}
	if store.reads != reads {
		t.Fatalf("a quiet index was read %d more times", store.reads-reads)
	}
	now = now.Add(supervision.FullReloadEvery)
	here.Board(ctx)
	if store.reads != reads+1 {
		t.Fatalf("no full read after %s", supervision.FullReloadEvery)
	}
}
