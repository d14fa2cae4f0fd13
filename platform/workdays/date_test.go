package workdays

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"zwfw/apperr"
)

func TestParseDate(t *testing.T) {
	valid := []struct {
		in      string
		y       int
		m       time.Month
		d       int
		weekday time.Weekday
	}{
		{"2026-10-10", 2026, time.October, 10, time.Saturday},
		{"2026-01-01", 2026, time.January, 1, time.Thursday},
		{"2024-02-29", 2024, time.February, 29, time.Thursday},
		{"1970-01-01", 1970, time.January, 1, time.Thursday},
		{"1969-12-31", 1969, time.December, 31, time.Wednesday},
		{"0001-01-01", 1, time.January, 1, time.Monday},
		{"9999-12-31", 9999, time.December, 31, time.Friday},
	}
	for _, tc := range valid {
		d, err := ParseDate(tc.in)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", tc.in, err)
			continue
		}
		if y, m, dd := d.Civil(); y != tc.y || m != tc.m || dd != tc.d {
			t.Errorf("ParseDate(%q) = %d-%d-%d", tc.in, y, m, dd)
		}
		if d.String() != tc.in {
			t.Errorf("ParseDate(%q).String() = %q", tc.in, d.String())
		}
		if d.Weekday() != tc.weekday {
			t.Errorf("%s is a %v, got %v", tc.in, tc.weekday, d.Weekday())
		}
	}

	invalid := []string{
		"", "2026-1-5", "2026/10/10", "20261010", " 2026-10-10", "2026-10-10 ",
		"2026-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-10-00",
		"+026-10-10", "-026-10-10", "0000-01-01", "2026-10-10T00:00:00Z", "今天",
	}
	for _, in := range invalid {
		_, err := ParseDate(in)
		if !errors.Is(err, ErrInvalidDate) {
			t.Errorf("ParseDate(%q) = %v, want ErrInvalidDate", in, err)
			continue
		}
		if apperr.KindOf(err) != apperr.KindInvalid {
			t.Errorf("ParseDate(%q): kind %v, want KindInvalid", in, apperr.KindOf(err))
		}
	}
}

func TestDateArithmeticAndOrder(t *testing.T) {
	a := MustParseDate("2026-09-30")
	b := a.AddDays(1)
	if b.String() != "2026-10-01" {
		t.Fatalf("2026-09-30 + 1 day = %s", b)
	}
	if got := MustParseDate("2026-12-31").AddDays(1).String(); got != "2027-01-01" {
		t.Errorf("2026-12-31 + 1 day = %s", got)
	}
	if got := MustParseDate("2024-03-01").AddDays(-1).String(); got != "2024-02-29" {
		t.Errorf("2024-03-01 - 1 day = %s", got)
	}
	if !a.Before(b) || !b.After(a) || a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Error("ordering of 2026-09-30 and 2026-10-01 is wrong")
	}
	if a.DaysUntil(MustParseDate("2026-10-10")) != 10 {
		t.Error("2026-09-30 to 2026-10-10 should be 10 days")
	}
	if got := NewDate(2026, time.February, 30); got != MustParseDate("2026-03-02") {
		t.Errorf("NewDate normalizes 2026-02-30 to 2026-03-02, got %s", got)
	}
	if !(Date{}).IsZero() || a.IsZero() {
		t.Error("IsZero")
	}
}

// Instants become dates in Asia/Shanghai, never in UTC or the server's zone.
func TestDateOfUsesShanghai(t *testing.T) {
	cases := []struct {
		instant time.Time
		want    string
	}{
		{time.Date(2026, 9, 30, 15, 59, 59, 0, time.UTC), "2026-09-30"}, // 23:59:59 in Beijing
		{time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC), "2026-10-01"},   // midnight in Beijing
		{time.Date(2026, 10, 1, 0, 30, 0, 0, time.FixedZone("X", -10*3600)), "2026-10-01"},
	}
	for _, tc := range cases {
		if got := DateOf(tc.instant).String(); got != tc.want {
			t.Errorf("DateOf(%v) = %s, want %s", tc.instant, got, tc.want)
		}
	}
	start := MustParseDate("2026-10-01").Start()
	if !start.Equal(time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("Start of 2026-10-01 = %v, want 2026-09-30T16:00Z", start)
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		Due  Date `json:"due"`
		None Date `json:"none"`
	}
	b, err := json.Marshal(doc{Due: MustParseDate("2026-10-10")})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"due":"2026-10-10","none":""}` {
		t.Fatalf("json = %s", b)
	}
	var back doc
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Due != MustParseDate("2026-10-10") || !back.None.IsZero() {
		t.Errorf("round trip = %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"due":"2026-02-30"}`), &back); !errors.Is(err, ErrInvalidDate) {
		t.Errorf("bad date in JSON: %v", err)
	}
}
