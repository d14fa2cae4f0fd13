// Command load is zwfw's load harness (make load). It builds the real zwfw
// binary, starts it on the embedded default (FerretDB, miniredis, the
// sandbox in-process) and then again on the same data with a real Redis (a
// redis-server it starts on a free loopback port), seeds people, a hall,
// applications and fees through the public API, and drives it over
// loopback with many connections using vegeta, next to a bare Fiber v2
// JSON handler in its own process measured in the same interleaved rounds.
// For writes the baseline is one raw guarded update on zwfw's own store.
//
// It prints one row per scenario — requests/s, p50, p99, the ratio to the
// baseline (medians of the rounds) — with the goal for the row and
// whether it is met; writes results.md, results.json, a PNG chart of
// throughput and p99 against concurrency, and CPU profiles of zwfw taken
// during the scenarios through its debug listener (ZWFW_DEBUG_ADDR), each
// with its `go tool pprof -top`. Run it from the repository root:
//
//	go run ./cmd/load [-quick] [-modes embedded,redis] [-out DIR] [-profiles slots,booking,...]
//
// LOAD_QUICK=1 is -quick: fewer people, rounds of one second, the embedded
// default only, for a smoke check in a minute or two.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"zwfw/platform/childproc"
)

// plan is how much a run seeds and sends.
type plan struct {
	readers    int // people signed in for /me, /home and case detail
	realCases  int // applications made through the API (the readers' first ones)
	smallStore int // cases in the store for the first case look-ups
	bigStore   int // ... and for the second
	owners     int // people the bulk cases belong to
	bookCount  int // bookings per round of the booking row
	notifyCnt  int // first notifies per round of the notify row
	burst      int // people booking at once
	mixedCount int // requests per round of the mixed workload
	levels     []int
	sweepBook  int // the most bookings a rising-concurrency round sends
	conns      int
}

var (
	fullPlan = plan{readers: 64, realCases: 20, smallStore: 1_000, bigStore: 100_000, owners: 10_000,
		bookCount: 120, notifyCnt: 80, burst: 500, mixedCount: 300, levels: []int{1, 4, 16, 64, 256, 512}, sweepBook: 128, conns: 64}
	quickPlan = plan{readers: 16, realCases: 4, smallStore: 1_000, bigStore: 10_000, owners: 1_000,
		bookCount: 30, notifyCnt: 20, burst: 50, mixedCount: 90, levels: []int{1, 16, 64}, sweepBook: 32, conns: 64}
)

// sweepBookings is how many bookings a rising-concurrency round at conns sends.
func (p plan) sweepBookings(conns int) int { return max(16, min(2*conns, p.sweepBook)) }

// harness is one run.
type harness struct {
	out        string
	goBin      string
	quick      bool
	rounds     int
	dur, warm  time.Duration
	longDur    time.Duration // the round of writes and the mix
	budget     time.Duration // a group starts no new round after this long
	deadline   time.Time     // no group starts after it (-budget): the run is bounded
	growFor    time.Duration // growing the store stops after this long (-grow-budget)
	quietFor   time.Duration // the longest wait for zwfw to go quiet after seeding (-quiet)
	profSecs   int           // the shortest CPU profile
	plan       plan
	profileSet map[string]bool
	profiles   []profileFile
	started    time.Time
	bare       *bareServer
	z          *zwfwProc // the zwfw of the mode running
	cases      []realCase
	bigActual  int    // cases in the store after growing it
	rows       []*row // the scenarios
	sweep      []*row // rising concurrency
	calls      []*row // store calls per operation (go test benchmarks)
	notes      []string
	loadStart  string
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-serve-bare" {
		if err := serveBare(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bare:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run())
}

var defaultProfiles = "slots,booking,guide,me,home,notify,mixed,case-detail-100000,hotline-100000"

func run() int {
	quick := flag.Bool("quick", os.Getenv("LOAD_QUICK") == "1", "the smoke check: fewer people, one-second rounds, the embedded default only; also LOAD_QUICK=1")
	modes := flag.String("modes", "", "comma-separated: embedded, redis (default both; embedded with -quick)")
	out := flag.String("out", "", "results directory (default bench/results/load-<time>)")
	rounds := flag.Int("rounds", 3, "measured rounds per row (the table shows medians)")
	dur := flag.Duration("dur", 0, "length of a timed round (default 2s, 1s with -quick)")
	profiles := flag.String("profiles", "", "rows whose CPU profile is taken (names: items-search, guide, me, home, slots, case-detail-N, hotline-N, booking, notify, mixed; all; none); default "+defaultProfiles+" (slots,booking with -quick)")
	goBin := flag.String("go", "go", "the go command (builds zwfw, reads profiles)")
	bin := flag.String("bin", "", "an already built zwfw binary (default: build it)")
	limit := flag.Duration("timeout", 30*time.Minute, "give up after this long")
	keepLogs := flag.Bool("keep-logs", false, "keep zwfw's logs and data directory after a run that worked")
	runBudget := flag.Duration("budget", 10*time.Minute, "no scenario group starts after this long (the rest are skipped, with a note): the run's bound; 0 for none")
	bigStore := flag.Int("cases", 0, "cases in the store for the second case look-ups (default 100,000; 10,000 with -quick)")
	quietFor := flag.Duration("quiet", time.Minute, "after seeding, wait at most this long for zwfw's background work (outbox relay, event consumers) to settle")
	growFor := flag.Duration("grow-budget", 150*time.Second, "growing the store to -cases stops after this long, and the rows say how many cases there were")
	calls := flag.Bool("store-calls", true, "count store calls per booking and per first notify with their Go benchmarks after the run (about a minute)")
	var extra multiFlag
	flag.Var(&extra, "env", "KEY=VALUE passed to zwfw besides the harness's settings (repeatable), e.g. -env ZWFW_ACCESS_LOG_SAMPLE=0.01")
	flag.Parse()

	h := &harness{goBin: *goBin, quick: *quick, rounds: max(1, *rounds), started: time.Now(), plan: fullPlan,
		dur: 2 * time.Second, longDur: 5 * time.Second, warm: time.Second, budget: 2 * time.Minute, profSecs: 3}
	if h.quick {
		h.plan, h.dur, h.longDur, h.warm, h.budget, h.profSecs = quickPlan, time.Second, 3*time.Second, 500*time.Millisecond, 40*time.Second, 3
	}
	if *bigStore > 0 {
		h.plan.bigStore = max(*bigStore, h.plan.smallStore)
	}
	h.growFor, h.quietFor = *growFor, *quietFor
	if *runBudget > 0 {
		h.deadline = h.started.Add(*runBudget)
	}
	if *dur > 0 {
		h.dur, h.longDur = *dur, max(*dur, h.longDur)
	}
	if *modes == "" {
		*modes = "embedded,redis"
		if h.quick {
			*modes = "embedded"
		}
	}
	prof := *profiles
	if prof == "" {
		prof = defaultProfiles
		if h.quick {
			prof = "slots,booking"
		}
	}
	prof = strings.ReplaceAll(prof, "100000", fmt.Sprint(h.plan.bigStore))
	h.profileSet = map[string]bool{}
	for _, p := range strings.Split(prof, ",") {
		h.profileSet[strings.TrimSpace(p)] = true
	}
	if h.profileSet["all"] {
		for _, p := range strings.Split(strings.ReplaceAll(defaultProfiles+",items-search,case-detail-1000,hotline-1000", "100000", fmt.Sprint(h.plan.bigStore)), ",") {
			h.profileSet[p] = true
		}
	}
	if _, err := os.Stat("go.mod"); err != nil {
		fmt.Fprintln(os.Stderr, "load: run it from the repository root (make load)")
		return 2
	}
	h.out = *out
	if h.out == "" {
		h.out = filepath.Join("bench", "results", "load-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(h.out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 1
	}
	if abs, err := filepath.Abs(h.out); err == nil {
		h.out = abs
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()
	defer childproc.StopAll(5 * time.Second)

	h.loadStart = loadAverage()
	kind := "full"
	if h.quick {
		kind = "quick (LOAD_QUICK=1)"
	}
	fmt.Printf("zwfw load harness, %s run: modes %s, %d rounds of %s per row, %d CPUs, load average %s\nresults in %s\n",
		kind, *modes, h.rounds, h.dur, runtime.NumCPU(), h.loadStart, h.out)

	err := h.runAll(ctx, strings.Split(*modes, ","), *bin, extra)
	if err == nil && *calls {
		h.storeCalls(ctx)
	}
	h.report(err)
	if err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n(logs kept in %s)\n", err, h.out)
		return 1
	}
	if !*keepLogs {
		for _, pat := range []string{"zwfw-*.log", "redis.log", "bare.log"} {
			files, _ := filepath.Glob(filepath.Join(h.out, pat))
			for _, f := range files {
				_ = os.Remove(f)
			}
		}
		_ = os.RemoveAll(filepath.Join(h.out, "data"))
		_ = os.RemoveAll(filepath.Join(h.out, "bin"))
	}
	return 0
}

func (h *harness) runAll(ctx context.Context, modes []string, bin string, extra []string) error {
	if bin == "" {
		t0 := time.Now()
		var err error
		if bin, err = buildZwfw(ctx, h.goBin, filepath.Join(h.out, "bin")); err != nil {
			return err
		}
		h.progress("built zwfw in %.0fs", time.Since(t0).Seconds())
	}
	var err error
	if h.bare, err = startBare(ctx, h.out); err != nil {
		return err
	}
	defer h.bare.p.Stop(5 * time.Second)
	dataDir := filepath.Join(h.out, "data")
	if err := os.RemoveAll(dataDir); err != nil { // a fresh store for every run
		return err
	}
	first := true
	for _, m := range modes {
		m = strings.TrimSpace(m)
		if !first && h.overBudget() {
			h.note("%s: skipped, the run is over its budget (-budget)", m)
			continue
		}
		redisURL := ""
		switch m {
		case "embedded":
		case "redis":
			// A redis-server of the run's own: empty, and nobody else's
			// traffic on its one thread. Without redis-server, the one on
			// 127.0.0.1:6379 when it answers (under a key prefix of the
			// run's own); without either, the mode is skipped.
			r, err := startRedis(h.out)
			switch {
			case err == nil:
				defer r.p.Stop(5 * time.Second)
				redisURL = r.url()
			case pingRedis("127.0.0.1:6379") == nil:
				h.note("redis: %v; using the Redis on 127.0.0.1:6379 under the key prefix %s", err, h.redisPrefix())
				redisURL = "redis://127.0.0.1:6379/0"
				extra = append(extra, "ZWFW_REDIS_PREFIX="+h.redisPrefix())
			default:
				h.note("redis: skipped: %v, and nothing answers on 127.0.0.1:6379", err)
				continue
			}
		default:
			return fmt.Errorf("unknown mode %q (embedded, redis)", m)
		}
		if err := h.runMode(ctx, m, bin, dataDir, redisURL, first, extra); err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		first = false
	}
	return nil
}

// progress prints a step of the run as it happens.
var printMu sync.Mutex

func (h *harness) progress(format string, args ...any) {
	printMu.Lock()
	defer printMu.Unlock()
	fmt.Printf("%6.1fs  "+format+"\n", append([]any{time.Since(h.started).Seconds()}, args...)...)
}

func (h *harness) note(format string, args ...any) {
	h.notes = append(h.notes, fmt.Sprintf(format, args...))
	h.progress(format, args...)
}

// loadAverage is the machine's 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// writeJSON saves v as indented JSON.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// redisPrefix keeps the run's keys apart in a Redis others use too.
func (h *harness) redisPrefix() string { return "zwfw-load-" + h.started.Format("150405") + ":" }
