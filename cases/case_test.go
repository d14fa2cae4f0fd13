package cases

import (
	"testing"
	"time"

	"zwfw/province"
)

func TestStateMachine(t *testing.T) {
	cases := []struct {
		from, to Status
		ok       bool
	}{
		{StatusDraft, StatusSubmitted, true},
		{StatusDraft, StatusAccepted, false},
		{StatusSubmitted, StatusAccepted, true},
		{StatusSubmitted, StatusRejectedAtIntake, true},
		{StatusAccepted, StatusSupplementRequested, true},
		{StatusSupplementRequested, StatusResubmitted, true},
		{StatusResubmitted, StatusCompletedApproved, true},
		{StatusAccepted, StatusSubmitted, false},
		{StatusCompletedApproved, StatusAccepted, false},
		{StatusWithdrawn, StatusSubmitted, false},
		{StatusRejectedAtIntake, StatusResubmitted, false},
	}
	for _, c := range cases {
		if got := c.from.CanMoveTo(c.to); got != c.ok {
			t.Errorf("%s -> %s: %v, want %v", c.from, c.to, got, c.ok)
		}
	}
	for _, s := range []Status{StatusRejectedAtIntake, StatusCompletedApproved, StatusCompletedDenied, StatusWithdrawn} {
		if !s.Final() || !s.Valid() || s.Label() == string(s) {
			t.Errorf("%s: final=%v valid=%v label=%q", s, s.Final(), s.Valid(), s.Label())
		}
	}
	if Status("$ne").Valid() {
		t.Error("an unknown status is valid")
	}
}

// weekdays is a calendar without holidays, enough to test the arithmetic.
type weekdays struct{}

func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

func (weekdays) AddWorkdays(from time.Time, n int) time.Time {
	d := day(from)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			n--
		}
	}
	return d
}

func (weekdays) WorkdaysBetween(from, to time.Time) int {
	a, b, sign := day(from), day(to), 1
	if b.Before(a) {
		a, b, sign = b, a, -1
	}
	n := 0
	for d := a.AddDate(0, 0, 1); !d.After(b); d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			n++
		}
	}
	return sign * n
}

func TestTimeLimit(t *testing.T) {
	mon := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC) // a Monday
	c := &Case{PromisedDays: 5, StatutoryDays: 20, Status: StatusAccepted, AcceptedAt: &mon}
	cases := []struct {
		now     time.Time
		left    int
		overdue bool
	}{
		{mon, 5, false},
		{mon.AddDate(0, 0, 4), 1, false},  // Friday
		{mon.AddDate(0, 0, 7), 0, false},  // next Monday: due today
		{mon.AddDate(0, 0, 8), -1, true},  // a working day late
		{mon.AddDate(0, 0, 12), -4, true}, // Saturday after
	}
	for _, tc := range cases {
		tl := TimeLimitOf(c, weekdays{}, tc.now)
		if tl.DueOn == nil || !day(*tl.DueOn).Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("due = %v, want 2026-11-23", tl.DueOn)
		}
		if tl.DaysLeft != tc.left || tl.Overdue != tc.overdue {
			t.Errorf("at %s: left %d overdue %v, want %d %v", tc.now.Format("Mon 01-02"), tl.DaysLeft, tl.Overdue, tc.left, tc.overdue)
		}
	}
	// Finished on time: the clock stops at completion.
	done := mon.AddDate(0, 0, 3)
	c.Status, c.CompletedAt = StatusCompletedApproved, &done
	if tl := TimeLimitOf(c, weekdays{}, mon.AddDate(0, 1, 0)); tl.Overdue {
		t.Error("a case finished on time shows overdue later")
	}
	if tl := TimeLimitOf(&Case{PromisedDays: 5, Status: StatusDraft}, weekdays{}, mon); tl.DueOn != nil {
		t.Error("a draft has a due date")
	}
}

func TestPreReviewListsEveryProblem(t *testing.T) {
	g := province.Guide{
		FormFields: []province.FormField{
			{Name: "business_name", Label: "名称", Type: "string", Required: true, MaxLength: 10},
			{Name: "capital", Label: "资金数额", Type: "number", Required: true},
			{Name: "start_on", Label: "开业日期", Type: "date"},
			{Name: "kind", Label: "组成形式", Type: "enum", Options: []string{"个人经营", "家庭经营"}},
			{Name: "phone", Label: "联系电话", Type: "phone", Required: true},
		},
		Materials: []province.Material{{ID: "m1", Name: "申请书", Required: true}, {ID: "m2", Name: "身份证", Required: true}, {ID: "m3", Name: "其他"}},
	}
	form := map[string]any{"business_name": "一个特别特别长的个体户名称", "capital": "十万", "start_on": "2026/11/01", "kind": "公司", "$where": "1"}
	got := map[string]string{}
	for _, f := range checkForm(g, form, true) {
		got[f.Field] = f.Code
	}
	want := map[string]string{"form.business_name": "INVALID", "form.capital": "INVALID", "form.start_on": "INVALID",
		"form.kind": "INVALID", "form.$where": "UNKNOWN_FIELD", "form.phone": "REQUIRED"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	mats := []Material{{SlotID: "m1", Round: 0}}
	if p := checkMaterials(g, mats, 0, nil); len(p) != 1 || p[0].Field != "materials.m2" {
		t.Errorf("materials: %v", p)
	}
	// A supplement needs exactly the requested slots, in its own round.
	if p := checkMaterials(g, mats, 1, []string{"m1", "m3"}); len(p) != 2 {
		t.Errorf("supplement round: %v", p)
	}
}
