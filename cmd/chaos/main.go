// Command chaos is zwfw's fault suite. It runs the real binaries as a
// deployment does — zwfw with ZWFW_SANDBOX=off on its embedded store, a
// real redis-server, and the standalone sandbox (cmd/sandbox) in its own
// process standing in for every outside system — all on loopback, breaks
// things on purpose, and counts afterwards, in zwfw's store and in the
// sandbox's own records, whether any work was lost or done twice:
//
//   - kill -9 mid-job: the province booked a submission whose answer zwfw
//     never recorded; zwfw killed between state writes and the outbox relay
//   - Redis killed and restarted under traffic
//   - province errors, timeouts and dropped connections
//   - a storm of WeChat Pay and Alipay notifies, concurrent and out of order
//   - a double tap on every money and slot endpoint
//
// It prints a table (scenario, requests, errors by code, work lost, work
// duplicated, time to recover) and the counts behind it, and exits 1 if
// anything was lost or duplicated. Run it from the repository root:
//
//	go run ./cmd/chaos [-short] [-only kill,redis,province,notify,doubletap] [-keep]
//
// CHAOS_SHORT=1 is -short: fewer rounds and copies, for CI.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"zwfw/platform/childproc"
)

// spec is a scenario of the suite: each runs on a fresh deployment and
// returns its rows.
type spec struct {
	id  string
	run func(ctx context.Context, d *deployment, short bool) []*scenario
}

var specs = []spec{
	{"kill", runKill},
	{"redis", runRedis},
	{"province", runProvince},
	{"notify", runNotifyStorm},
	{"doubletap", runDoubleTap},
}

func main() {
	os.Exit(run())
}

func run() int {
	short := flag.Bool("short", os.Getenv("CHAOS_SHORT") == "1", "the short version (CI): fewer rounds and copies; also CHAOS_SHORT=1")
	only := flag.String("only", "", "comma-separated scenarios to run (kill, redis, province, notify, doubletap); default all")
	keep := flag.Bool("keep", false, "keep the working directory (logs, data directories) even when everything passed")
	binDir := flag.String("bin", "", "a directory holding already built zwfw and sandbox binaries (default: build them)")
	goBin := flag.String("go", "go", "the go command used to build the binaries")
	limit := flag.Duration("timeout", 15*time.Minute, "give up after this long")
	parallel := flag.Bool("parallel", false, "run the scenarios side by side, each on its own deployment (default with -short)")
	flag.Parse()
	if *short && !isFlagSet("parallel") {
		*parallel = true
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()
	defer childproc.StopAll(0)

	work, err := os.MkdirTemp("", "zwfw-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	started := time.Now()
	mode := "full"
	if *short {
		mode = "short"
	}
	if *parallel {
		mode += ", scenarios side by side"
	}
	fmt.Printf("zwfw fault suite (%s), working directory %s\n", mode, work)
	if _, err := lookRedis(); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	bin := *binDir
	if bin == "" {
		bin = filepath.Join(work, "bin")
		t0 := time.Now()
		if err := buildBinaries(ctx, *goBin, bin); err != nil {
			fmt.Fprintln(os.Stderr, "chaos:", err)
			return 1
		}
		fmt.Printf("built zwfw and sandbox in %.1fs\n", time.Since(t0).Seconds())
	}

	// Each scenario has its own deployment, so they can run side by side
	// (the short run does, to fit in CI's time); the full run takes them
	// one at a time so their recovery times are not shared out over two
	// cores.
	var chosen []spec
	for _, sp := range specs {
		if *only == "" || contains(strings.Split(*only, ","), sp.id) {
			chosen = append(chosen, sp)
		}
	}
	rows := make([][]*scenario, len(chosen))
	var wg sync.WaitGroup
	for i, sp := range chosen {
		if !*parallel {
			rows[i] = runSpec(ctx, sp, bin, filepath.Join(work, sp.id), *short)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows[i] = runSpec(ctx, sp, bin, filepath.Join(work, sp.id), *short)
		}()
	}
	wg.Wait()
	var results []*scenario
	for _, r := range rows {
		results = append(results, r...)
	}

	fmt.Println()
	printTable(os.Stdout, results)
	printDetails(os.Stdout, results)
	failed := false
	for _, s := range results {
		failed = failed || s.failed()
	}
	fmt.Printf("\n%d scenarios in %.0fs: ", len(results), time.Since(started).Seconds())
	if failed {
		fmt.Printf("FAILED (logs and data kept in %s)\n", work)
		return 1
	}
	fmt.Println("nothing lost, nothing duplicated")
	if !*keep {
		_ = os.RemoveAll(work)
	}
	return 0
}

// runSpec runs one scenario on a fresh deployment.
func runSpec(ctx context.Context, sp spec, bin, dir string, short bool) []*scenario {
	t0 := time.Now()
	fail := func(err error) []*scenario {
		progress(sp.id, "%v", err)
		return []*scenario{{name: sp.id, t: newTally(), err: err, recovered: -1, took: time.Since(t0)}}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	d, err := newDeployment(ctx, sp.id, bin, dir)
	if err != nil {
		return fail(fmt.Errorf("deploy: %w", err))
	}
	defer d.close()
	d.progress("deployed: sandbox, redis-server, zwfw")
	rows := sp.run(ctx, d, short)
	for _, s := range rows {
		if s.took == 0 {
			s.took = time.Since(t0)
		}
		status := "ok"
		if s.failed() {
			status = "FAILED"
		}
		d.progress("%s: %s (lost %d, duplicated %d)", s.name, status, s.lost(), s.duplicated())
		if s.err != nil {
			printMu.Lock()
			fmt.Printf("error in %s: %s\n%s", s.name, indent(s.err.Error()), d.logs())
			printMu.Unlock()
		}
	}
	d.progress("done in %.0fs", time.Since(t0).Seconds())
	return rows
}

func isFlagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.TrimSpace(v) == s {
			return true
		}
	}
	return false
}

// suiteStart is when the run began; progress lines are stamped from it.
var suiteStart = time.Now()

// printMu keeps the lines of scenarios running side by side whole.
var printMu sync.Mutex

// progress prints a step of the run as it happens.
func progress(name, format string, args ...any) {
	printMu.Lock()
	defer printMu.Unlock()
	fmt.Printf("%6.1fs  %-9s "+format+"\n", append([]any{time.Since(suiteStart).Seconds(), name}, args...)...)
}

// progress prints a step of the deployment's scenario.
func (d *deployment) progress(format string, args ...any) { progress(d.name, format, args...) }
