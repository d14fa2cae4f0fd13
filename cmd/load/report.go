package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printTable writes the rows as an aligned text table (tab-separated for
// tabwriter) or, with md, as a Markdown table.
func printTable(w io.Writer, rows []*row, md bool) {
	head := []string{"mode", "scenario", "conns", "req/s", "p50 ms", "p99 ms", "vs baseline", "goal", "met"}
	lines := [][]string{head}
	for _, r := range rows {
		lines = append(lines, []string{r.Mode, r.Name, fmt.Sprint(r.Conns), fmt.Sprintf("%.1f", r.RPS), fmt.Sprintf("%.1f", r.P50),
			fmt.Sprintf("%.1f", r.P99), vsText(r), r.Goal, verdictText(r)})
	}
	if md {
		for i, l := range lines {
			fmt.Fprintf(w, "| %s |\n", strings.Join(l, " | "))
			if i == 0 {
				fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(l)))
			}
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range lines {
		fmt.Fprintln(tw, strings.Join(l, "\t"))
	}
	_ = tw.Flush()
}

func vsText(r *row) string {
	if r.Base == "" {
		return "—"
	}
	return fmt.Sprintf("%.3f of %s", r.Ratio, r.Base)
}

func verdictText(r *row) string {
	switch {
	case r.Verdict == "":
		return "—"
	case r.Failures > 0:
		return r.Verdict + " (" + fmt.Sprint(r.Failures) + " failed)"
	}
	return r.Verdict
}

// flatRows compares each case look-up with the small and the big store.
func flatRows(small, big []*row, smallN, bigN int) []*row {
	var out []*row
	for i := range min(len(small), len(big)) {
		s, b := small[i], big[i]
		name := strings.SplitN(b.Name, " (", 2)[0]
		r := &row{Mode: b.Mode, Group: "flat as data grows", Name: fmt.Sprintf("%s: %s vs %s cases", name, thousands(bigN), thousands(smallN)),
			Conns: b.Conns, Base: thousands(smallN) + "-case req/s", RPS: b.RPS, P50: b.P50, P99: b.P99, BaseRPS: s.RPS, goal: goalFlat, Bound: b.Bound}
		if s.RPS > 0 {
			r.Ratio = b.RPS / s.RPS
		}
		r.Goal = goalFlat.text
		r.Verdict = "MISSED"
		if goalFlat.check(r) {
			r.Verdict = "met"
		}
		out = append(out, r)
	}
	return out
}

// thousands prints 100000 as 100,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// printGoals lists every row with a goal, met or missed, and for a missed
// one what its CPU profile says bounds it (a row without a profile of its
// own, the burst, borrows the booking row's of its mode).
func printGoals(w io.Writer, rows []*row, md bool) (met, missed int) {
	bookings := map[string]*bound{}
	for _, r := range rows {
		if r.Name == "POST /api/v1/bookings" && r.Bound != nil {
			bookings[r.Mode] = r.Bound
		}
	}
	for _, r := range rows {
		if r.Verdict == "" && r.Figure == "" {
			continue
		}
		figure := fmt.Sprintf("%s, p99 %.1f ms", vsText(r), r.P99)
		switch {
		case r.Figure != "":
			figure = r.Figure
		case r.Base == "":
			figure = fmt.Sprintf("p99 %.1f ms", r.P99)
		}
		verdict := r.Verdict
		if verdict == "" {
			verdict = "—"
		}
		if md {
			fmt.Fprintf(w, "- **%s** — %s, %s: %s (goal: %s)\n", verdict, r.Mode, r.Name, figure, r.Goal)
		} else {
			fmt.Fprintf(w, "  %-6s  %-8s  %-52s  %s  (goal: %s)\n", verdict, r.Mode, r.Name, figure, r.Goal)
		}
		if r.Figure != "" && r.Note != "" {
			if md {
				fmt.Fprintf(w, "  - per operation: %s\n", r.Note)
			} else {
				fmt.Fprintf(w, "          per operation: %s\n", r.Note)
			}
		}
		if r.Verdict != "MISSED" {
			if r.Verdict == "met" {
				met++
			}
			continue
		}
		missed++
		b, from := r.Bound, ""
		if b == nil && bookings[r.Mode] != nil && strings.Contains(r.Name, "booking at once") {
			b, from = bookings[r.Mode], " (the booking row's profile)"
		}
		switch {
		case b != nil && md:
			fmt.Fprintf(w, "  - bounded by%s: %s\n", from, b)
		case b != nil:
			fmt.Fprintf(w, "          bounded by%s: %s\n", from, b)
		case r.Figure != "":
			// The calls listed above are what bounds it.
		case md:
			fmt.Fprintf(w, "  - no CPU profile of this row (-profiles)\n")
		default:
			fmt.Fprintf(w, "          no CPU profile of this row (-profiles)\n")
		}
	}
	return met, missed
}
