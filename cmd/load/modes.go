package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

// runMode starts zwfw in mode on dataDir, seeds what the mode's rows use
// up, and measures. The first mode seeds the store (catalog reads, the
// hall, applications, the bulk of cases); a later one runs on that store.
func (h *harness) runMode(ctx context.Context, mode, bin, dataDir, redisURL string, first bool, extra []string) error {
	t0 := time.Now()
	z, err := startZwfw(ctx, mode, bin, h.out, dataDir, redisURL, extra)
	if err != nil {
		return err
	}
	h.z = z
	defer z.stop()
	h.progress("%s: zwfw ready in %.0fs at %s (store %s, debug %s)", mode, time.Since(t0).Seconds(), z.base, z.storeURI, z.debug)
	s := &seeder{z: z, api: z.base + "/api/v1"}
	w, err := h.seed(ctx, s, mode, first)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	p := h.plan
	bare := baseline{name: "bare", run: func(ctx context.Context, conns int, dur time.Duration) sample {
		return attack(ctx, shot{targets: targets(get(h.bare.url, "")), ok: status2xx}, conns, dur)
	}}
	raw := baseline{name: "raw guarded update", run: func(ctx context.Context, conns int, dur time.Duration) sample {
		return rawGuarded(ctx, z.db, conns, dur)
	}}
	add := func(rows []*row, err error) error {
		h.rows = append(h.rows, rows...)
		return err
	}

	if err := add(h.group(ctx, mode, "hot reads", p.conns, 0, bare, h.reads(s, w))); err != nil {
		return err
	}
	var small []*row
	if first {
		if small, err = h.group(ctx, mode, "case look-ups", p.conns, 0, bare, h.caseReads(s, w, p.smallStore, fmt.Sprint(p.smallStore))); err != nil {
			return err
		}
		h.rows = append(h.rows, small...)
	}
	if err := add(h.group(ctx, mode, "writes", p.conns, 0, raw, h.writes(s, w))); err != nil {
		return err
	}
	if first {
		g := goalBurst
		if mode != "embedded" {
			g = goalBurstRd
		}
		// One round: the release happens once, and its p99 is over p.burst answers.
		if err := add(h.group(ctx, mode, "booking at once", p.burst, 1, baseline{}, []spec{h.burst(s, w, g)})); err != nil {
			return err
		}
	}
	if err := add(h.group(ctx, mode, "mixed", p.conns, 0, bare, []spec{h.mixed(s, w)})); err != nil {
		return err
	}
	if first {
		if err := h.rising(ctx, mode, s, w, bare, raw); err != nil {
			return err
		}
		if h.overBudget() {
			h.note("%s: the store was not grown to %s cases: the run is over its budget (-budget)", mode, thousands(p.bigStore))
			return nil
		}
		t := time.Now()
		n, err := growCases(ctx, z.db, h.cases, p.bigStore, p.owners, t.Add(h.growFor))
		if err != nil {
			return fmt.Errorf("grow the store: %w", err)
		}
		if h.bigActual, err = countCases(ctx, z.db); err != nil {
			return err
		}
		h.progress("%s: %d cases copied into the store in %.0fs (%s in all, owned by %s people)", mode, n, time.Since(t).Seconds(),
			thousands(h.bigActual), thousands(p.owners))
		if h.bigActual < p.bigStore {
			h.note("the store was grown to %s cases, not %s: growing stopped after -grow-budget %s", thousands(h.bigActual), thousands(p.bigStore), h.growFor)
		}
	}
	big, err := h.group(ctx, mode, "case look-ups", p.conns, 0, bare, h.caseReads(s, w, h.bigActual, fmt.Sprint(p.bigStore)))
	if err != nil {
		return err
	}
	h.rows = append(h.rows, big...)
	if first {
		h.rows = append(h.rows, flatRows(small, big, p.smallStore, h.bigActual)...)
	}
	return nil
}

// rising measures a hot read and a booking at rising concurrency.
func (h *harness) rising(ctx context.Context, mode string, s *seeder, w *world, bare, raw baseline) error {
	guide := h.reads(s, w)[1]
	guide.profile, guide.goal = "", nil // the goal is set at 64 connections: the table's row
	for _, c := range h.plan.levels {
		rows, err := h.group(ctx, mode, "rising concurrency", c, 0, bare, []spec{guide})
		if err != nil {
			return err
		}
		h.sweep = append(h.sweep, rows...)
		n := h.plan.sweepBookings(c)
		book := spec{name: "POST /api/v1/bookings", counted: true, long: true,
			shot: func(int) (shot, error) { return s.bookShot(context.Background(), w.bookings, w.hall.hall, n) }}
		rows, err = h.group(ctx, mode, "rising concurrency", c, 1, raw, []spec{book})
		if err != nil {
			return err
		}
		h.sweep = append(h.sweep, rows...)
	}
	return nil
}

// seed makes the mode's world: people for every row, the hall, the
// applications (first mode), and the payments its rows complete.
func (h *harness) seed(ctx context.Context, s *seeder, mode string, first bool) (*world, error) {
	t0 := time.Now()
	p := h.plan
	w := &world{}
	admin, err := s.staff(ctx, "admin")
	if err != nil {
		return nil, err
	}
	w.hotline = &staffToken{username: "hotline01"}
	if w.hotline.token, err = s.staff(ctx, "hotline01"); err != nil {
		return nil, err
	}
	w.hotline.at = time.Now()
	guides, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	if w.hall, err = s.setupHall(ctx, admin, guides, 3, 1000); err != nil {
		return nil, err
	}
	w.guide = w.hall.items[0]
	var hits struct {
		Items []itemSummary `json:"items"`
	}
	if err := want(ctx, 200, "GET", s.api+"/items?q=营业执照", nil, &hits); err != nil {
		return nil, err
	}
	h.progress("%s: %d items in the catalog, %d found for 营业执照; hall %s serves %v, %d bookable slots this week",
		mode, len(guides), len(hits.Items), w.hall.hall, w.hall.items, len(w.hall.slots))

	// What the rows use up, rounds plus the profiled one.
	// A row missing its goal is profiled in one more round whatever
	// -profiles says: the writes with a goal always get that round.
	extra := func(name string) int {
		if h.profileSet[name] || name == "booking" || name == "notify" {
			return 1
		}
		return 0
	}
	mix := mixCounts(p.mixedCount)
	mixRounds := h.rounds + extra("mixed")
	books := (h.rounds+extra("booking"))*p.bookCount + mixRounds*mix["book"]
	if first {
		for _, c := range p.levels {
			books += p.sweepBookings(c)
		}
	}
	items := len(w.hall.items)
	if first {
		books += p.burst
	}
	// One pool of people for every booking: a person may hold one booking
	// per item, so each books up to len(items) times over the run (signing
	// people in is the slowest part of seeding). The burst needs p.burst
	// different people: any p.burst consecutive bookings of the pool are
	// by different people when it has at least p.burst of them.
	bookers := (books+items-1)/items + books/20 + 1
	if first {
		bookers = max(bookers, p.burst)
	}
	notifies := (h.rounds+extra("notify"))*p.notifyCnt + mixRounds*mix["notify"]
	pays := mixRounds * mix["pay"]
	if w.readers, err = s.citizens(ctx, mode+"-r", p.readers); err != nil {
		return nil, err
	}
	people, err := s.citizens(ctx, mode+"-b", bookers)
	if err != nil {
		return nil, err
	}
	w.bookings = newBookingPool(people, w.hall, items)
	w.burst = w.bookings
	h.progress("%s: %d people signed in and verified (%d readers, %d booking) in %.0fs",
		mode, p.readers+bookers, p.readers, bookers, time.Since(t0).Seconds())
	// Payers: each looks up at most 8 notices (the look-up limit allows 10 at once).
	payers := append(append([]*citizen(nil), w.readers...), people...)
	if need := (notifies + pays + 7) / 8; need > len(payers) {
		return nil, fmt.Errorf("%d notices need %d payers, only %d people", notifies+pays, need, len(payers))
	}
	t1 := time.Now()
	ns, err := s.notices(ctx, payers, notifies+pays)
	if err != nil {
		return nil, err
	}
	if w.notifies, err = s.openOrders(ctx, ns[:notifies]); err != nil {
		return nil, err
	}
	w.notices = ns[notifies:]
	h.progress("%s: %d fees issued and looked up, %d paid at WeChat Pay with the notify held back, in %.0fs",
		mode, len(ns), notifies, time.Since(t1).Seconds())
	if first {
		t2 := time.Now()
		if h.cases, err = s.cases(ctx, w.readers[:p.realCases], guides); err != nil {
			return nil, err
		}
		n, err := growCases(ctx, s.z.db, h.cases, p.smallStore, p.owners, time.Time{})
		if err != nil {
			return nil, fmt.Errorf("grow the store: %w", err)
		}
		h.bigActual = p.smallStore // until the store is grown
		h.progress("%s: %d applications made, submitted and numbered, %d copied: %s cases in the store, in %.0fs",
			mode, len(h.cases), n, thousands(p.smallStore), time.Since(t2).Seconds())
	}
	w.cases = h.cases
	h.progress("%s: seeded in %.0fs", mode, time.Since(t0).Seconds())
	h.warmHomes(ctx, mode, s, w.readers)
	h.waitQuiet(ctx, mode, h.quietFor)
	return w, nil
}

// warmHomes opens each reader's first screen until it is complete, at most
// homeWarmFor in all: a person's first screen builds their home index from
// the domains' lists once (whole-collection reads on the embedded store),
// and the home row measures the screen as it is seen again, not that.
func (h *harness) warmHomes(ctx context.Context, mode string, s *seeder, readers []*citizen) {
	t0 := time.Now()
	wctx, cancel := context.WithTimeout(ctx, homeWarmFor)
	defer cancel()
	var complete atomic.Int64
	_ = parallel(wctx, len(readers), 4, func(ctx context.Context, i int) error {
		for ctx.Err() == nil {
			r, err := call(ctx, "GET", s.api+"/home", nil, bearer(readers[i].token)...)
			if err == nil && r.status == 200 && bytes.Contains(r.body, []byte(`"degraded":false`)) {
				complete.Add(1)
				return nil
			}
			time.Sleep(200 * time.Millisecond)
		}
		return nil
	})
	h.progress("%s: %d of %d readers' first screens complete in %.0fs", mode, complete.Load(), len(readers), time.Since(t0).Seconds())
}

// homeWarmFor bounds warmHomes.
const homeWarmFor = 2 * time.Minute

// report prints the tables and writes results.md, results.json and the chart.
func runtimeCPUs() int { return runtime.NumCPU() }

func (h *harness) report(runErr error) {
	var md strings.Builder
	loadEnd := loadAverage()
	fmt.Fprintf(&md, "# zwfw load run %s\n\n", h.started.Format(time.RFC3339))
	kind := "full"
	if h.quick {
		kind = "quick"
	}
	fmt.Fprintf(&md, "%s run, %d rounds of %s per row (medians), %d CPUs, load average %s at the start and %s at the end; took %.0fs.\n\n",
		kind, h.rounds, h.dur, runtimeCPUs(), h.loadStart, loadEnd, time.Since(h.started).Seconds())
	fmt.Fprintf(&md, "Seeded: %d readers, %d applications through the API; cases in the store %s then %s (owned by %s people).\n\n",
		h.plan.readers, h.plan.realCases, thousands(h.plan.smallStore), thousands(h.plan.bigStore), thousands(h.plan.owners))
	if runErr != nil {
		fmt.Fprintf(&md, "**The run stopped early:** %v\n\n", runErr)
	}
	fmt.Println()
	printTable(os.Stdout, h.rows, false)
	printTable(&md, h.rows, true)
	if len(h.sweep) > 0 {
		fmt.Println("\nrising concurrency:")
		printTable(os.Stdout, h.sweep, false)
		md.WriteString("\n## Rising concurrency\n\n")
		printTable(&md, h.sweep, true)
		png := filepath.Join(h.out, "concurrency.png")
		if err := chart(png, "zwfw (embedded default)", h.sweep); err != nil {
			h.progress("chart: %v", err)
		} else {
			fmt.Printf("\nchart: %s\n", png)
			fmt.Fprintf(&md, "\n![throughput and p99 against connections](concurrency.png)\n")
		}
	}
	if len(h.profiles) > 0 {
		md.WriteString("\n## CPU profiles\n\n")
		fmt.Println("\nCPU profiles (go tool pprof -top FILE):")
		for _, p := range h.profiles {
			fmt.Printf("  %-9s %-52s %s\n", p.Mode, p.Row, p.Profile)
			fmt.Fprintf(&md, "- %s, %s: `%s` (top: `%s`)\n", p.Mode, p.Row, filepath.Base(p.Profile), filepath.Base(p.Top))
		}
	}
	if len(h.notes) > 0 {
		md.WriteString("\n## Notes\n\n")
		for _, n := range h.notes {
			fmt.Fprintf(&md, "- %s\n", n)
		}
	}
	fmt.Println("\ngoals of the speed issue (met or missed, and what bounds a missed one):")
	all := append(append([]*row(nil), h.rows...), h.calls...)
	met, missed := printGoals(os.Stdout, all, false)
	md.WriteString("\n## Goals\n\n")
	printGoals(&md, all, true)
	fmt.Printf("\ngoals met %d, missed %d; load average %s at the start, %s at the end; results in %s\n", met, missed, h.loadStart, loadEnd, h.out)
	_ = os.WriteFile(filepath.Join(h.out, "results.md"), []byte(md.String()), 0o644)
	_ = writeJSON(filepath.Join(h.out, "results.json"), map[string]any{
		"started": h.started, "quick": h.quick, "rounds": h.rounds, "round": h.dur.String(), "load_start": h.loadStart, "load_end": loadEnd,
		"rows": h.rows, "rising_concurrency": h.sweep, "store_calls": h.calls, "profiles": h.profiles, "notes": h.notes})
}
