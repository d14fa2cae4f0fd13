package main

import (
	"fmt"
	"net"
	"net/http"
	"testing"
)

// The suite's verdicts rest on these counts; each is checked on the cases
// that must pass and those that must fail.

func TestExactlyOnceFilesMissingAsLostAndRepeatsAsDuplicated(t *testing.T) {
	s := newScenario("t", nil, true)
	exactlyOnce(s, "things", map[string]int{"a": 1, "b": 0, "c": 3, "d": 1})
	if s.lost() != 1 || s.duplicated() != 2 || !s.failed() {
		t.Fatalf("lost %d, duplicated %d, failed %v; want 1, 2, true", s.lost(), s.duplicated(), s.failed())
	}
	ok := newScenario("t", nil, true)
	exactlyOnce(ok, "things", map[string]int{"a": 1, "b": 1})
	if ok.failed() {
		t.Fatalf("all once, yet failed: %+v", ok.checks)
	}
}

func TestGuaranteeThatDidNotHoldFailsTheScenario(t *testing.T) {
	s := newScenario("t", nil, true)
	s.guarantee("limit", false, "9 of 8 allowed")
	if !s.failed() || s.lost() != 0 || s.duplicated() != 0 {
		t.Fatalf("failed %v, lost %d, duplicated %d", s.failed(), s.lost(), s.duplicated())
	}
}

func answer(status int, body string, replayed bool) reply {
	h := http.Header{}
	if replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	return reply{status: status, header: h, body: []byte(body)}
}

func TestTapOutcome(t *testing.T) {
	won := answer(201, `{"id":"b1"}`, false)
	again := answer(201, `{"id":"b1"}`, true)
	inUse := answer(409, `{"code":"IDEMPOTENCY_KEY_IN_USE"}`, false)
	dupItem := answer(409, `{"code":"BOOKING_DUPLICATE_ITEM"}`, false)
	for _, c := range []struct {
		name    string
		answers []reply
		same    bool
		shared  bool
		held    bool
	}{
		{"one key: one success, replays and in-use", []reply{won, again, inUse}, true, false, true},
		{"one key: two first-hand successes", []reply{won, answer(201, `{"id":"b2"}`, false)}, true, false, false},
		{"one key: a replay that differs", []reply{won, answer(201, `{"id":"b2"}`, true)}, true, false, false},
		{"one key: a domain refusal", []reply{won, dupItem}, true, false, false},
		{"different keys: one success, precise refusals", []reply{won, dupItem, dupItem}, false, false, true},
		{"different keys: an unexpected code", []reply{won, answer(500, `{"code":"INTERNAL"}`, false)}, false, false, false},
		{"different keys: a replay", []reply{won, again}, false, false, false},
		{"different keys: two successes", []reply{won, answer(201, `{"id":"b2"}`, false)}, false, false, false},
		{"different keys, shared answer: every copy served", []reply{won, won, won}, false, true, true},
		{"nothing succeeded", []reply{dupItem}, false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newScenario("t", nil, true)
			tapOutcome(s, "POST /bookings", c.answers, c.same, c.shared, "409 BOOKING_DUPLICATE_ITEM")
			if s.failed() == c.held {
				t.Fatalf("held %v, want %v: %+v", !s.failed(), c.held, s.checks)
			}
		})
	}
}

func TestErrorKeys(t *testing.T) {
	_, refused := net.Dial("tcp", "127.0.0.1:1")
	for _, c := range []struct {
		r    reply
		want string
	}{
		{answer(200, `{}`, false), ""},
		{answer(409, `{"code":"CASE_NOT_DRAFT"}`, false), "409 CASE_NOT_DRAFT"},
		{answer(502, `<html>bad gateway</html>`, false), "502"},
		{reply{err: refused}, "connection refused"},
	} {
		if got := c.r.errorKey(); got != c.want {
			t.Errorf("%v: %q, want %q", c.r, got, c.want)
		}
	}
	tl := newTally()
	for i := 0; i < 3; i++ {
		tl.record(answer(409, `{"code":"A"}`, false))
	}
	tl.record(answer(429, `{"code":"RATE_LIMITED"}`, false))
	tl.record(answer(200, `{}`, false))
	if got, want := tl.summary(), "409 A×3, 429 RATE_LIMITED×1"; got != want || tl.requests != 5 {
		t.Fatalf("summary %q of %d requests, want %q of 5", got, tl.requests, want)
	}
}

func TestMoneyCounts(t *testing.T) {
	for _, c := range []struct {
		yuan string
		fen  int64
	}{{"10.00", 1000}, {"0.01", 1}, {"12", 1200}, {"3.5", 350}} {
		if got := fen(c.yuan); got != c.fen {
			t.Errorf("fen(%q) = %d, want %d", c.yuan, got, c.fen)
		}
	}
	for _, c := range []struct {
		sum, amount int64
		lost, dup   int
		held        bool // the sum is a whole number of notices
	}{{1000, 1000, 0, 0, true}, {0, 1000, 1, 0, true}, {3000, 1000, 0, 2, true}, {1500, 1000, 0, 0, false}, {1, 1000, 0, 0, false}} {
		s := newScenario("t", nil, true)
		countMoney(s, "money", money{"P1": {c.sum, c.amount}})
		wantFailed := !c.held || c.lost > 0 || c.dup > 0
		if s.lost() != c.lost || s.duplicated() != c.dup || s.failed() != wantFailed {
			t.Errorf("%s of %s: lost %d, duplicated %d, failed %v", moneyText(c.sum), moneyText(c.amount), s.lost(), s.duplicated(), s.failed())
		}
	}
	if got := fmt.Sprint(moneyText(12345)); got != "¥123.45" {
		t.Errorf("moneyText: %s", got)
	}
}

func TestReminderWantsMatchRefundSubjectsByPrefix(t *testing.T) {
	per := map[reminderKey]int{{"u1", "payment.refunded", "payment:P1#RF9"}: 1}
	if !anyWithPrefix(per, reminderKey{"u1", "payment.refunded", "payment:P1#"}) {
		t.Fatal("the refund's reminder was not found by its payment's prefix")
	}
	if anyWithPrefix(per, reminderKey{"u2", "payment.refunded", "payment:P1#"}) {
		t.Fatal("another user's reminder matched")
	}
}
