package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The write goal "a booking in ≤ 3 store calls" cannot be seen
// from outside zwfw's process: the benchmarks count it (make bench), with
// a command monitor on the store's client (platform/testenv). The harness
// runs the two that count store calls, briefly, after its measurements.

var goalBookCalls = &goal{text: "≤ 3 store calls", check: func(r *row) bool { return r.RPS <= 3 }}

// storeCallBenches are the benchmarks reporting store_calls/op.
var storeCallBenches = []struct {
	name, pkg, bench string
	goal             *goal
}{
	{"store calls per booking (booking.BenchmarkBookVsRawGuarded)", "./booking/", "BookVsRawGuarded", goalBookCalls},
	{"store calls per first payment notify (payments.BenchmarkNotifyFirstVsRawGuarded)", "./payments/", "NotifyFirstVsRawGuarded",
		&goal{text: "none of its own (≥ 0.25 of a raw guarded update: the notify row)"}},
}

// storeCalls runs each benchmark for a few dozen operations and keeps its
// store_calls/op as a row (the figure in RPS; shown in the goals list).
func (h *harness) storeCalls(ctx context.Context) {
	for _, b := range storeCallBenches {
		t0 := time.Now()
		cmd := exec.CommandContext(ctx, h.goBin, "test", "-count=1", "-run", "^$", "-bench", "^Benchmark"+b.bench+"$", "-benchtime", "40x", b.pkg)
		out, err := cmd.CombinedOutput()
		calls, ok := metric(string(out), "store_calls/op")
		if err != nil || !ok {
			h.note("%s: not measured (go test: %v)\n%s", b.name, err, tail(string(out), 600))
			continue
		}
		r := &row{Mode: "go test", Group: "store calls", Name: b.name, RPS: calls, goal: b.goal,
			Figure: fmt.Sprintf("%.1f store calls per operation", calls)}
		r.Note = logLine(string(out), "store calls per op: ")
		r.finishWith()
		h.calls = append(h.calls, r)
		h.progress("%s: %.1f (%.0fs)", b.name, calls, time.Since(t0).Seconds())
	}
}

// metric is the value before unit on a benchmark's result line.
func metric(out, unit string) (float64, bool) {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		for i := 1; i < len(f); i++ {
			if f[i] == unit && strings.HasPrefix(f[0], "Benchmark") {
				v, err := strconv.ParseFloat(f[i-1], 64)
				return v, err == nil
			}
		}
	}
	return 0, false
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// logLine is the rest of the last line of out containing prefix.
func logLine(out, prefix string) string {
	last := ""
	for _, l := range strings.Split(out, "\n") {
		if _, rest, ok := strings.Cut(l, prefix); ok {
			last = strings.TrimSpace(rest)
		}
	}
	return last
}
