package rectify_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"zwfw/apperr"
	"zwfw/cases"
	"zwfw/platform/events"
	"zwfw/platform/testenv"
	"zwfw/platform/workdays"
	"zwfw/rectify"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The state machine: open → replied → called_back → closed; assigning
// keeps the state; a call-back needs a reply, closing a call-back; a closed
// rectification refuses everything.
func TestNext(t *testing.T) {
	type (
		S = rectify.State
		A = rectify.Action
	)
	tests := []struct {
		from S
		act  A
		to   S
		err  error
	}{
		{rectify.StateOpen, rectify.ActionAssign, rectify.StateOpen, nil},
		{rectify.StateOpen, rectify.ActionReply, rectify.StateReplied, nil},
		{rectify.StateOpen, rectify.ActionCallBack, rectify.StateOpen, rectify.ErrReplyRequired},
		{rectify.StateOpen, rectify.ActionClose, rectify.StateOpen, rectify.ErrCallBackRequired},
		{rectify.StateReplied, rectify.ActionAssign, rectify.StateReplied, nil},
		{rectify.StateReplied, rectify.ActionReply, rectify.StateReplied, nil},
		{rectify.StateReplied, rectify.ActionCallBack, rectify.StateCalledBack, nil},
		{rectify.StateReplied, rectify.ActionClose, rectify.StateReplied, rectify.ErrCallBackRequired},
		{rectify.StateCalledBack, rectify.ActionReply, rectify.StateCalledBack, nil},
		{rectify.StateCalledBack, rectify.ActionCallBack, rectify.StateCalledBack, nil},
		{rectify.StateCalledBack, rectify.ActionClose, rectify.StateClosed, nil},
		{rectify.StateClosed, rectify.ActionAssign, rectify.StateClosed, rectify.ErrClosed},
		{rectify.StateClosed, rectify.ActionReply, rectify.StateClosed, rectify.ErrClosed},
		{rectify.StateClosed, rectify.ActionCallBack, rectify.StateClosed, rectify.ErrClosed},
		{rectify.StateClosed, rectify.ActionClose, rectify.StateClosed, rectify.ErrClosed},
		{rectify.StateOpen, A("delete"), rectify.StateOpen, rectify.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s", tc.from, tc.act), func(t *testing.T) {
			got, err := rectify.Next(tc.from, tc.act)
			if got != tc.to || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("Next(%s, %s) = %s, %v; want %s, %v", tc.from, tc.act, got, err, tc.to, tc.err)
			}
		})
	}
}

func calendar(t *testing.T) workdays.TimeCalendar {
	t.Helper()
	cal, err := workdays.NewCalendar(context.Background(), workdays.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	return cal.Times()
}

// Due 15 working days after the day it opened, on the official calendar:
// the National Day week and its make-up Saturday count as they are.
func TestDueOnWorkingDays(t *testing.T) {
	svc := rectify.NewService(rectify.Deps{Calendar: calendar(t)})
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, workdays.Location)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct{ opened, due string }{
		{"2026-11-23 09:30", "2026-12-14"}, // three ordinary weeks
		{"2026-11-21 22:00", "2026-12-11"}, // opened on a Saturday: the count starts on Monday
		{"2026-09-28 16:00", "2026-10-23"}, // over 国庆节 (10-01..10-07 off, Saturday 10-10 worked)
	}
	for _, tc := range tests {
		due := svc.DueOn(at(tc.opened))
		if got := due.In(workdays.Location).Format("2006-01-02 15:04"); got != tc.due+" 00:00" {
			t.Errorf("opened %s: due %s, want %s", tc.opened, got, tc.due)
		}
		r := &rectify.Rectification{State: rectify.StateReplied, DueOn: due}
		last, next := at(tc.due+" 23:59"), at(tc.due+" 00:00").AddDate(0, 0, 1)
		if r.Overdue(last) || !r.Overdue(next) {
			t.Errorf("due %s: overdue on its last minute %v, the next day %v", tc.due, r.Overdue(last), r.Overdue(next))
		}
		r.State = rectify.StateClosed
		if r.Overdue(next) {
			t.Errorf("a closed rectification is never overdue")
		}
	}
}

// fakeCases serves evaluated cases by id.
type fakeCases map[string]*cases.Case

func (f fakeCases) ByID(_ context.Context, id string) (*cases.Case, error) {
	if c, ok := f[id]; ok {
		return c, nil
	}
	return nil, cases.ErrNotFound
}

func evaluated(id string, level int, dept string) *cases.Case {
	return &cases.Case{ID: id, OwnerID: "u_" + id, CaseNumber: "N" + id, ItemCode: "item-1", ItemName: "事项一", Dept: dept,
		Status:     cases.StatusCompletedApproved,
		Evaluation: &cases.Evaluation{Level: level, Reasons: []string{"too_slow"}, At: time.Now().UTC().Truncate(time.Millisecond)}}
}

func evaluatedEvent(seq int64, caseID string, level int) events.Event {
	e, err := events.NewEvent(cases.EventEvaluated, cases.Subject(caseID), "u_"+caseID, cases.Evaluated{Level: level})
	if err != nil {
		panic(err)
	}
	e.Seq = seq
	return e
}

func newService(t *testing.T, cs fakeCases) (*rectify.Service, *rectify.MongoStore) {
	t.Helper()
	store := rectify.NewMongoStore(testenv.DB(t))
	if err := store.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rectify.NewService(rectify.Deps{Store: store, Tallies: store, Cases: cs, Calendar: calendar(t)}), store
}

// A replayed case.evaluated event (at-least-once delivery, a crash before
// the cursor moved, a new replica) opens one rectification and counts the
// evaluation once; a good evaluation is counted and opens none.
func TestReplayedEvaluationOpensOneRectification(t *testing.T) {
	ctx := context.Background()
	cs := fakeCases{"c1": evaluated("c1", 2, "市公安局"), "c2": evaluated("c2", 5, "市公安局"), "c3": evaluated("c3", 3, "市民政局")}
	svc, store := newService(t, cs)
	for round := 0; round < 3; round++ {
		for i, id := range []string{"c1", "c2", "c3"} {
			if err := svc.HandleEvent(ctx, evaluatedEvent(int64(10+i), id, cs[id].Evaluation.Level)); err != nil {
				t.Fatal(err)
			}
		}
	}
	list, err := store.List(ctx, rectify.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].CaseID == list[1].CaseID {
		t.Fatalf("rectifications %d, want 2 (c1 and c3)", len(list))
	}
	for _, r := range list {
		if r.ID != rectify.IDOf(r.CaseID) || r.State != rectify.StateOpen || r.CaseID == "c2" {
			t.Fatalf("rectification %+v", r)
		}
	}
	tally, err := svc.Tally(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tally.Levels["2"] != 1 || tally.Levels["5"] != 1 || tally.Levels["3"] != 1 || tally.Seq != 12 ||
		tally.Depts[rectify.KeyOf("市公安局")]["5"] != 1 || tally.Items["item-1"]["3"] != 1 {
		t.Fatalf("tally after replays: %+v", tally)
	}
}

// Two supervisors changing one rectification at once both land: the
// version-guarded save retries the loser on the winner's result.
func TestConcurrentChangesAreNotLost(t *testing.T) {
	ctx := context.Background()
	cs := fakeCases{"c9": evaluated("c9", 1, "市人社局")}
	svc, _ := newService(t, cs)
	if err := svc.HandleEvent(ctx, evaluatedEvent(1, "c9", 1)); err != nil {
		t.Fatal(err)
	}
	id := rectify.IDOf("c9")
	a, b := rectify.Staff{ID: "s1", Name: "甲"}, rectify.Staff{ID: "s2", Name: "乙"}
	if _, err := svc.Assign(ctx, id, a, "张科长", "市人社局"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			by := a
			if i%2 == 1 {
				by = b
			}
			_, errs[i] = svc.Reply(ctx, id, by, fmt.Sprintf("答复%d", i))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r, err := svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Replies) != 4 || len(r.History) != 6 || r.Version != 6 || len(r.Pending) != 4 {
		t.Fatalf("replies %d, history %d, version %d, pending events %d; want 4, 6, 6, 4", len(r.Replies), len(r.History), r.Version, len(r.Pending))
	}

	// Closing before the call-back is refused with its own code; after it, closed.
	if _, err := svc.Close(ctx, id, a, ""); !errors.Is(err, rectify.ErrCallBackRequired) || apperr.From(err).Code != "RECTIFY_CALLBACK_REQUIRED" {
		t.Fatalf("close before the call-back: %v", err)
	}
	if _, err := svc.CallBack(ctx, id, b, rectify.CallBackInput{Caller: "乙", Outcome: "maybe"}); !errors.Is(err, rectify.ErrInvalid) {
		t.Fatalf("a call-back without an outcome: %v", err)
	}
	if _, err := svc.CallBack(ctx, id, b, rectify.CallBackInput{Caller: "乙", Outcome: rectify.OutcomeSatisfied}); err != nil {
		t.Fatal(err)
	}
	r, err = svc.Close(ctx, id, a, "整改完成")
	if err != nil || r.State != rectify.StateClosed || r.ClosedAt == nil || r.Rank != 1 {
		t.Fatalf("close: %v %+v", err, r)
	}
	if _, err := svc.Reply(ctx, id, a, "再答复"); !errors.Is(err, rectify.ErrClosed) {
		t.Fatalf("a reply after closing: %v", err)
	}
}

// The cached lists follow every write: an opening and a change show on
// the next read (another replica's too: the generation is in Redis).
func TestListCacheFollowsWrites(t *testing.T) {
	ctx := context.Background()
	rdb, keys := testenv.Redis(t)
	store := rectify.NewMongoStore(testenv.DB(t))
	cached := rectify.NewListCache(store, rdb, keys, time.Minute, slog.Default())
	other := rectify.NewListCache(store, rdb, keys, time.Minute, slog.Default()) // another replica
	cs := fakeCases{"c1": evaluated("c1", 1, "市公安局"), "c2": evaluated("c2", 2, "市公安局")}
	svc := rectify.NewService(rectify.Deps{Store: cached, Tallies: store, Cases: cs, Calendar: calendar(t)})
	list := func(s rectify.Store, st rectify.State) []*rectify.Rectification {
		t.Helper()
		l, err := s.List(ctx, rectify.Filter{State: st})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if err := svc.HandleEvent(ctx, evaluatedEvent(1, "c1", 1)); err != nil {
		t.Fatal(err)
	}
	if n := len(list(other, "")); n != 1 {
		t.Fatalf("listed %d, want 1", n)
	}
	if err := svc.HandleEvent(ctx, evaluatedEvent(2, "c2", 2)); err != nil {
		t.Fatal(err)
	}
	if n := len(list(other, "")); n != 2 {
		t.Fatalf("after an opening: listed %d, want 2", n)
	}
	if n := len(list(other, rectify.StateOpen)); n != 2 {
		t.Fatalf("open: %d, want 2", n)
	}
	if _, err := svc.Assign(ctx, rectify.IDOf("c1"), rectify.Staff{ID: "s", Name: "甲"}, "王", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reply(ctx, rectify.IDOf("c1"), rectify.Staff{ID: "s", Name: "甲"}, "已整改"); err != nil {
		t.Fatal(err)
	}
	if l := list(other, rectify.StateOpen); len(l) != 1 || l[0].CaseID != "c2" {
		t.Fatalf("open after a reply: %d", len(l))
	}
	if l := list(other, rectify.StateReplied); len(l) != 1 || l[0].Owner == nil || l[0].Owner.Name != "王" {
		t.Fatalf("replied: %+v", l)
	}
}
