package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// scenario is one row of the table: what was done to zwfw, what it
// answered, and what was counted afterwards.
type scenario struct {
	name      string
	d         *deployment
	t         *tally
	short     bool
	checks    []check
	recovered time.Duration // from the end of the fault to all work done; <0: not applicable
	notes     []string
	err       error // the scenario could not be carried out
	took      time.Duration
}

// check is one count: how much work was expected, how much was missing
// (lost) and how much was there more than once (duplicated).
type check struct {
	what      string
	lost, dup int
	broken    bool // a guarantee that is neither about lost nor duplicated work failed
	detail    string
}

func newScenario(name string, d *deployment, short bool) *scenario {
	return &scenario{name: name, d: d, t: newTally(), short: short, recovered: -1}
}

// count records a check.
func (s *scenario) count(what string, lost, dup int, format string, args ...any) {
	s.checks = append(s.checks, check{what: what, lost: lost, dup: dup, detail: fmt.Sprintf(format, args...)})
}

// guarantee records a check of a promise other than "nothing lost, nothing
// twice" (a limit that must hold, a recovery that must happen in time).
func (s *scenario) guarantee(what string, held bool, format string, args ...any) {
	s.checks = append(s.checks, check{what: what, broken: !held, detail: fmt.Sprintf(format, args...)})
}

func (s *scenario) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

func (s *scenario) lost() int {
	n := 0
	for _, c := range s.checks {
		n += c.lost
	}
	return n
}

func (s *scenario) duplicated() int {
	n := 0
	for _, c := range s.checks {
		n += c.dup
	}
	return n
}

func (s *scenario) failed() bool {
	for _, c := range s.checks {
		if c.broken {
			return true
		}
	}
	return s.err != nil || s.lost() > 0 || s.duplicated() > 0
}

func (s *scenario) recoverText() string {
	if s.recovered < 0 {
		return "—"
	}
	return fmt.Sprintf("%.1fs", s.recovered.Seconds())
}

// printTable writes the summary table and then what each scenario counted.
func printTable(w io.Writer, all []*scenario) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\trequests\terrors by code\twork lost\twork duplicated\ttime to recover\tverdict\t")
	for _, s := range all {
		lost, dup := fmt.Sprint(s.lost()), fmt.Sprint(s.duplicated())
		if s.err != nil {
			lost, dup = "?", "?"
		}
		verdict := "ok"
		if s.failed() {
			verdict = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", s.name, s.t.requests, s.t.summary(), lost, dup, s.recoverText(), verdict)
	}
	tw.Flush()
}

// printDetails lists every check with its numbers, so the table's zeros
// can be traced to what was counted.
func printDetails(w io.Writer, all []*scenario) {
	for _, s := range all {
		verdict := "ok"
		if s.failed() {
			verdict = "FAILED"
		}
		fmt.Fprintf(w, "\n%s — %s (%.1fs)\n", s.name, verdict, s.took.Seconds())
		for _, n := range s.notes {
			fmt.Fprintf(w, "    · %s\n", n)
		}
		for _, c := range s.checks {
			mark := "ok "
			if c.lost > 0 || c.dup > 0 || c.broken {
				mark = "BAD"
			}
			fmt.Fprintf(w, "  %s %s: %s", mark, c.what, c.detail)
			if c.lost > 0 || c.dup > 0 {
				fmt.Fprintf(w, " (lost %d, duplicated %d)", c.lost, c.dup)
			}
			fmt.Fprintln(w)
		}
		if s.err != nil {
			fmt.Fprintf(w, "  ERROR %s\n", indent(s.err.Error()))
		}
	}
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n        ") }
