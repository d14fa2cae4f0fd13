package main

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var mongoUpsert = options.UpdateOne().SetUpsert(true)

// goal is what the issue asks of a row, and the check of it.
type goal struct {
	text  string
	check func(r *row) bool // nil: informational
}

// row is one line of the table: a request kind at a number of connections,
// its medians over the rounds, and its baseline measured in the same rounds.
type row struct {
	Mode     string    `json:"mode"`
	Group    string    `json:"group"`
	Name     string    `json:"name"`
	Conns    int       `json:"connections"`
	Base     string    `json:"baseline"`
	Rounds   []sample  `json:"rounds"`
	BaseRuns []sample  `json:"baseline_rounds"`
	Ratios   []float64 `json:"ratios"`
	RPS      float64   `json:"rps"`
	P50      float64   `json:"p50_ms"`
	P99      float64   `json:"p99_ms"`
	BaseRPS  float64   `json:"baseline_rps"`
	Ratio    float64   `json:"ratio"`
	Goal     string    `json:"goal,omitempty"`
	Verdict  string    `json:"verdict,omitempty"` // met | MISSED | "" (no goal)
	Note     string    `json:"note,omitempty"`
	Failures int       `json:"failed_requests"`
	// Bound is what the row's CPU profile says bounds it: the functions
	// with the most CPU of their own, and zwfw's own calls with the most
	// beneath them.
	Bound *bound `json:"bound,omitempty"`
	// Figure, when set, is what the goals list shows instead of the
	// ratio and p99 (the store-call counts).
	Figure string `json:"figure,omitempty"`
	goal   *goal
}

// finish takes the medians and judges the goal.
func (r *row) finish() {
	var rps, p50, p99, base []float64
	for i, s := range r.Rounds {
		rps, p50, p99 = append(rps, s.RPS), append(p50, s.P50), append(p99, s.P99)
		r.Failures += s.Failed
		if i < len(r.BaseRuns) && r.BaseRuns[i].RPS > 0 {
			base = append(base, r.BaseRuns[i].RPS)
			r.Ratios = append(r.Ratios, s.RPS/r.BaseRuns[i].RPS)
		}
	}
	r.RPS, r.P50, r.P99, r.BaseRPS, r.Ratio = median(rps), median(p50), median(p99), median(base), median(r.Ratios)
	r.finishWith()
	if r.Failures > 0 {
		keys := map[string]int{}
		for _, s := range r.Rounds {
			for k, n := range s.Failures {
				keys[k] += n
			}
		}
		r.Note = fmt.Sprintf("%d failed: %v", r.Failures, keys)
	}
}

// finishWith judges the row's goal on its figures.
func (r *row) finishWith() {
	if r.goal == nil {
		return
	}
	r.Goal = r.goal.text
	if r.goal.check != nil {
		r.Verdict = "MISSED"
		if r.goal.check(r) {
			r.Verdict = "met"
		}
	}
}

// spec is one row to measure: shot makes the round's requests (a fresh
// targeter each round: writes use up what was prepared for them).
type spec struct {
	name string
	shot func(round int) (shot, error)
	goal *goal
	// profile, when set, names the CPU profile taken during one more round
	// after the measured ones.
	profile string
	// counted rows use up what was prepared for them: no warm-up round.
	counted bool
	// long rows (writes, the mix) run rounds of h.longDur: their answers
	// take longer, and a round must hold many of them.
	long bool
}

// baseline is what a group's rows are compared with, measured in every
// round right before them.
type baseline struct {
	name string
	run  func(ctx context.Context, conns int, dur time.Duration) sample
}

// group measures a baseline and its rows in interleaved rounds (baseline,
// row 1, row 2, ..., then again), so a machine that slows down or speeds up
// during the run moves both sides of each ratio alike.
func (h *harness) group(ctx context.Context, mode, name string, conns, rounds int, base baseline, specs []spec) ([]*row, error) {
	if rounds == 0 {
		rounds = h.rounds
	}
	if h.overBudget() {
		h.note("%s · %s at %d connections: skipped, the run is over its budget (-budget)", mode, name, conns)
		return nil, nil
	}
	h.progress("%s · %s at %d connections: %d rows × %d rounds", mode, name, conns, len(specs), rounds)
	rows := make([]*row, len(specs))
	for i, s := range specs {
		rows[i] = &row{Mode: mode, Group: name, Name: s.name, Conns: conns, Base: base.name, goal: s.goal}
	}
	// Warm-up: connections, caches, the first request's lazy work. Only
	// for rows that read (a write round would use up prepared requests).
	if base.run != nil {
		base.run(ctx, conns, h.warm)
	}
	for _, s := range specs {
		if s.counted {
			continue
		}
		sh, err := s.shot(-1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		attack(ctx, sh, conns, h.warm)
	}
	began := time.Now()
	for round := range rounds {
		if round > 0 && time.Since(began) > h.budget {
			h.note("%s · %s at %d connections: %d of %d rounds (over its time budget of %s)", mode, name, conns, round, rounds, h.budget)
			break
		}
		var b sample
		if base.run != nil {
			b = base.run(ctx, conns, h.dur)
		}
		for i, s := range specs {
			sh, err := s.shot(round)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			d := h.dur
			if s.long {
				d = h.longDur
			}
			res := attack(ctx, sh, conns, d)
			rows[i].Rounds = append(rows[i].Rounds, res)
			rows[i].BaseRuns = append(rows[i].BaseRuns, b)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
	}
	for i, s := range specs {
		rows[i].finish()
		h.progress("  %-52s %8.1f req/s  p50 %7.1f ms  p99 %7.1f ms  %s", s.name, rows[i].RPS, rows[i].P50, rows[i].P99, ratioText(rows[i]))
		// A missed goal is profiled even when -profiles leaves it out:
		// the report names what bounds it.
		if s.profile != "" && (h.profileSet[s.profile] || rows[i].Verdict == "MISSED") {
			h.profile(ctx, mode, s, conns, rows[i])
		}
	}
	return rows, nil
}

// ratioText is "0.123 of bare Fiber GET", or "" without a baseline.
func ratioText(r *row) string {
	if r.Base == "" {
		return ""
	}
	return fmt.Sprintf("%.3f of %s", r.Ratio, r.Base)
}

// overBudget says the run has used its time (-budget): no group starts.
func (h *harness) overBudget() bool { return !h.deadline.IsZero() && time.Now().After(h.deadline) }
