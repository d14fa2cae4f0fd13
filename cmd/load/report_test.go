package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func rowWith(g *goal, rps, baseRPS []float64, p99 float64) *row {
	r := &row{Mode: "embedded", Name: "GET /x", Conns: 64, Base: "bare", goal: g}
	for i := range rps {
		r.Rounds = append(r.Rounds, sample{RPS: rps[i], P99: p99})
		r.BaseRuns = append(r.BaseRuns, sample{RPS: baseRPS[i]})
	}
	r.finish()
	return r
}

func TestVerdicts(t *testing.T) {
	// Ratios per round 0.6, 0.4, 0.55: the median 0.55 meets 0.5.
	r := rowWith(goalHotRead, []float64{600, 400, 550}, []float64{1000, 1000, 1000}, 9)
	if r.Ratio != 0.55 || r.Verdict != "met" {
		t.Fatalf("ratio %v verdict %q, want 0.55 met", r.Ratio, r.Verdict)
	}
	// Fast enough but a p99 over 10 ms misses the hot-read goal.
	if r := rowWith(goalHotRead, []float64{900}, []float64{1000}, 10.5); r.Verdict != "MISSED" {
		t.Fatalf("p99 10.5 ms: %q", r.Verdict)
	}
	if r := rowWith(goalCase, []float64{190}, []float64{1000}, 50); r.Verdict != "MISSED" {
		t.Fatalf("0.19 of bare: %q", r.Verdict)
	}
	if r := rowWith(goalMixed, []float64{10}, []float64{1000}, 50); r.Verdict != "" || r.Goal == "" {
		t.Fatalf("a row without a check has no verdict: %q %q", r.Verdict, r.Goal)
	}
	burst := &row{Name: "500 people booking at once", Rounds: []sample{{RPS: 50, P99: 2000}}, goal: goalBurst}
	burst.finish()
	if burst.Verdict != "MISSED" {
		t.Fatalf("p99 of exactly 2 s is not under 2 s: %q", burst.Verdict)
	}
}

func TestFlatRows(t *testing.T) {
	small := []*row{{Mode: "embedded", Name: "GET /api/v1/cases/{id} (1,000 cases)", RPS: 1000}}
	big := []*row{{Mode: "embedded", Name: "GET /api/v1/cases/{id} (100,000 cases)", RPS: 790, Bound: &bound{Parts: []share{{"embedded store: SQLite", 40}}}}}
	f := flatRows(small, big, 1000, 100000)
	if len(f) != 1 || f[0].Verdict != "MISSED" || f[0].Ratio != 0.79 || f[0].Bound == nil {
		t.Fatalf("%+v", f[0])
	}
	if f[0].Name != "GET /api/v1/cases/{id}: 100,000 vs 1,000 cases" {
		t.Fatalf("name %q", f[0].Name)
	}
	big[0].RPS = 800
	if f := flatRows(small, big, 1000, 100000); f[0].Verdict != "met" {
		t.Fatalf("0.8 is flat enough: %q", f[0].Verdict)
	}
}

func TestTables(t *testing.T) {
	met := rowWith(goalHotRead, []float64{600}, []float64{1000}, 4)
	missed := rowWith(goalCase, []float64{100}, []float64{1000}, 40)
	missed.Name = "GET /api/v1/cases/{id} (100,000 cases)"
	missed.Bound = &bound{Parts: []share{{"embedded store: SQLite", 41.5}, {"JSON", 12}}, Top: []share{{"modernc.org/sqlite/lib._sqlite3VdbeExec", 9.2}},
		Zwfw: []share{{"zwfw/cases.(*MongoStore).Get", 55}}}
	var text, md bytes.Buffer
	printTable(&text, []*row{met, missed}, false)
	printTable(&md, []*row{met, missed}, true)
	lines := strings.Split(strings.TrimSpace(text.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "0.600 of bare") || !strings.Contains(lines[2], "MISSED") {
		t.Fatalf("text table:\n%s", text.String())
	}
	// Columns are aligned: "req/s" starts at the same place on every line.
	col := strings.Index(lines[0], "req/s")
	if !strings.HasPrefix(lines[1][col:], "600.0") {
		t.Fatalf("not aligned:\n%s", text.String())
	}
	if !strings.HasPrefix(md.String(), "| mode | scenario | conns | req/s | p50 ms | p99 ms | vs baseline | goal | met |\n|---|") ||
		!strings.Contains(md.String(), "| embedded | GET /x | 64 | 600.0 | 0.0 | 4.0 | 0.600 of bare | ≥ 0.5 of bare, p99 ≤ 10 ms | met |") {
		t.Fatalf("markdown table:\n%s", md.String())
	}
	var goals bytes.Buffer
	m, x := printGoals(&goals, []*row{met, missed}, false)
	if m != 1 || x != 1 {
		t.Fatalf("met %d missed %d", m, x)
	}
	if !strings.Contains(goals.String(), "bounded by: CPU by part: embedded store: SQLite 42%, JSON 12%; top functions: modernc.org/sqlite/lib._sqlite3VdbeExec 9%; in zwfw under: zwfw/cases.(*MongoStore).Get 55%") {
		t.Fatalf("goals:\n%s", goals.String())
	}
}

func TestParseTopAndParts(t *testing.T) {
	out := `File: zwfw
Type: cpu
Duration: 3.01s, Total samples = 4.36s (144.99%)
      flat  flat%   sum%        cum   cum%
     0.25s  5.73%  5.73%      0.25s  5.73%  internal/runtime/syscall/linux.Syscall6
     0.20s  4.59% 10.32%      0.87s 19.95%  encoding/json.(*Decoder).readValue
     0.12s  2.75% 13.07%      0.12s  2.75%  runtime.nextFreeFast (inline)
     0.10s  2.29% 15.36%      3.10s 71.10%  zwfw/bff.(*App).middleware
     0.09s  2.06% 17.42%      0.29s  6.65%  modernc.org/sqlite/lib._jsonTranslateTextToBlob
         0     0%   100%      1.07s 75.89%  github.com/FerretDB/FerretDB/internal/clientconn.(*conn).run
         0     0%   100%      0.07s  4.96%  github.com/valyala/fasthttp.(*workerPool).workerFunc
         0     0%   100%      0.50s 50.00%  github.com/FerretDB/FerretDB/internal/handler.(*Handler).MsgFind
`
	lines := parseTop(out)
	if len(lines) != 8 || lines[2].name != "runtime.nextFreeFast (inline)" || lines[1].cum != 19.95 {
		t.Fatalf("%+v", lines)
	}
	b := boundOf(out, out, out)
	if b.Parts[0].Name != "syscalls (network, files)" || len(b.Zwfw) != 0 {
		t.Fatalf("%+v", b) // the middleware holds 71 %: above the frames that say where
	}
	if !strings.HasPrefix(b.String(), "CPU under: embedded store (FerretDB, SQLite) 76%, HTTP requests 5%; the embedded store's CPU by command: find 50%; CPU by part: syscalls") {
		t.Fatalf("%s", b)
	}
	for fn, part := range map[string]string{"modernc.org/sqlite/lib.x": "embedded store: SQLite", "github.com/yuin/gopher-lua.(*LState).Call": "miniredis and its Lua",
		"runtime.mallocgc": "GC and allocation", "runtime.tryDeferToSpanScan": "GC and allocation", "runtime.schedule": "Go scheduler and runtime", "zwfw/booking.(*Service).Book": "zwfw's own code", "sort.Sort": "other"} {
		if got := partOf(fn); got != part {
			t.Errorf("partOf(%s) = %q, want %q", fn, got, part)
		}
	}
}

func TestMixCountsAndThousands(t *testing.T) {
	c := mixCounts(300)
	total := 0
	for _, n := range c {
		total += n
	}
	if total != 300 || c["home"] != 75 || c["book"] != 21 {
		t.Fatalf("%v", c)
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q", n, got)
		}
	}
}

func TestStoreCallRows(t *testing.T) {
	out := `goos: linux
--- BENCH: BenchmarkBookVsRawGuarded-2
BenchmarkBookVsRawGuarded-2   	      40	  26452585 ns/op	         0.1311 book/raw	        42.76 bookings/s	       326.1 raw_guarded/s	         7.000 store_calls/op
--- BENCH: BenchmarkBookVsRawGuarded-2
    bench_test.go:63: store calls per op: 2 findAndModify slot_counters, 1 find hall_configs
PASS`
	v, ok := metric(out, "store_calls/op")
	if !ok || v != 7 {
		t.Fatalf("%v %v", v, ok)
	}
	r := &row{Mode: "go test", Name: "store calls per booking", RPS: v, goal: goalBookCalls, Figure: "7.0 store calls per operation",
		Note: logLine(out, "store calls per op: ")}
	r.finishWith()
	var b bytes.Buffer
	if _, missed := printGoals(&b, []*row{r}, false); missed != 1 || !strings.Contains(b.String(), "per operation: 2 findAndModify slot_counters, 1 find hall_configs") {
		t.Fatalf("%d\n%s", missed, b.String())
	}
	r.RPS = 3
	if r.finishWith(); r.Verdict != "met" {
		t.Fatalf("3 calls: %q", r.Verdict)
	}
}

func TestCPUTicks(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	a, err := cpuTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30_000_000; i++ { // some CPU of our own
		_ = i * i
	}
	if b, err := cpuTicks(os.Getpid()); err != nil || b < a {
		t.Fatalf("%d then %d: %v", a, b, err)
	}
}

func TestChartOneLevel(t *testing.T) {
	// One level and a zero rate (every booking timed out) drew a log axis
	// reaching 0, and gonum panicked.
	rows := []*row{
		{Name: "GET /api/v1/items/{code}", Conns: 1, Base: "bare", RPS: 86, P99: 126, BaseRPS: 8000, BaseRuns: []sample{{P99: 1}}},
		{Name: "POST /api/v1/bookings", Conns: 1, Base: "raw guarded update", RPS: 0, P99: 30091, BaseRPS: 300, BaseRuns: []sample{{P99: 9}}},
	}
	if err := chart(t.TempDir()+"/c.png", "t", rows); err != nil {
		t.Fatal(err)
	}
}
