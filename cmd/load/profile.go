package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// profile runs one more round of the row while zwfw records a CPU profile
// through its debug listener (ZWFW_DEBUG_ADDR), and saves the profile and
// its top functions (go tool pprof -top) next to the results. The round is
// not counted: profiling costs a little.
func (h *harness) profile(ctx context.Context, mode string, s spec, conns int, r *row) {
	sh, err := s.shot(h.rounds)
	if err != nil {
		h.progress("  profile %s: %v", s.profile, err)
		return
	}
	// Long enough to say something (a second of a slow route holds a
	// handful of samples); a timed shot runs as long as the profile.
	d := h.dur
	if s.long {
		d = h.longDur
	}
	secs := max(h.profSecs, int(math.Round(d.Seconds())))
	if sh.count > 0 && !sh.timed && r.RPS > 0 {
		secs = max(secs, int(math.Round(float64(sh.count)/r.RPS)))
	}
	file := filepath.Join(h.out, fmt.Sprintf("cpu-%s-%s.pprof", mode, s.profile))
	got := make(chan error, 1)
	go func() { got <- fetchProfile(ctx, h.z.debug, secs, file) }()
	time.Sleep(100 * time.Millisecond) // the profiler is on before the first request
	attack(ctx, sh, conns, time.Duration(secs)*time.Second)
	if err := <-got; err != nil {
		h.progress("  profile %s: %v", s.profile, err)
		return
	}
	top := file + ".top.txt"
	var out []byte
	var tops [3]string
	for i, args := range [][]string{{"-top", "-nodecount=40"}, {"-top", "-cum", "-nodecount=60"}, {"-top", "-nodecount=0"}} {
		cmd := exec.CommandContext(ctx, h.goBin, append(append([]string{"tool", "pprof"}, args...), file)...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			h.progress("  profile %s saved to %s (go tool pprof failed: %v)", s.profile, file, err)
			return
		}
		tops[i] = string(b)
		if i < 2 {
			out = append(append(out, fmt.Sprintf("$ go tool pprof %s %s\n", strings.Join(args, " "), filepath.Base(file))...), b...)
			out = append(out, '\n')
		}
	}
	r.Bound = boundOf(tops[0], tops[1], tops[2])
	if err := os.WriteFile(top, out, 0o644); err != nil {
		h.progress("  profile %s: %v", s.profile, err)
		return
	}
	h.profiles = append(h.profiles, profileFile{Mode: mode, Row: r.Name, Profile: file, Top: top})
	h.progress("  CPU profile of %s (%d s): %s", s.name, secs, top)
}

// profileFile is a saved profile.
type profileFile struct {
	Mode    string `json:"mode"`
	Row     string `json:"row"`
	Profile string `json:"profile"`
	Top     string `json:"top"`
}

func fetchProfile(ctx context.Context, debugAddr string, secs int, file string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, secs), nil)
	if err != nil {
		return err
	}
	res, err := (&http.Client{Timeout: time.Duration(secs+60) * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("debug listener: %d %.200s", res.StatusCode, b)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// share is a function's or a part's share of the profile's CPU, in percent.
type share struct {
	Name string  `json:"name"`
	Pct  float64 `json:"pct"`
}

// bound is what a profile says bounds a row.
type bound struct {
	Under []share `json:"under"`    // CPU under each kind of goroutine: requests, the embedded store's server, GC, ...
	Store []share `json:"store"`    // the embedded store's CPU by command (find, update, ...)
	Parts []share `json:"parts"`    // CPU of their own by part of the program, largest first
	Top   []share `json:"top_flat"` // the functions with the most CPU of their own
	Zwfw  []share `json:"zwfw_cum"` // zwfw's own functions with the most beneath them (below the middleware)
}

// topLine is one line of go tool pprof -top.
type topLine struct {
	flat, cum float64 // percent
	name      string
}

// parseTop reads the table of go tool pprof -top.
func parseTop(out string) []topLine {
	var lines []topLine
	in := false
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if !in {
			in = len(f) >= 5 && f[0] == "flat" && f[1] == "flat%"
			continue
		}
		if len(f) < 6 {
			continue
		}
		flat, err1 := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		cum, err2 := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err1 != nil || err2 != nil {
			continue
		}
		lines = append(lines, topLine{flat: flat, cum: cum, name: strings.Join(f[5:], " ")})
	}
	return lines
}

// roots are the goroutines zwfw's CPU is spent under, by their entry
// function: requests are answered under fasthttp's workers; the embedded
// store (FerretDB with SQLite) and miniredis answer zwfw's calls on
// goroutines of their own in the same process, so their share is apart
// from the requests'.
var roots = []struct{ name, prefix string }{
	{"HTTP requests", "github.com/valyala/fasthttp.(*workerPool).workerFunc"},
	{"embedded store (FerretDB, SQLite)", "github.com/FerretDB/FerretDB/internal/clientconn.(*conn).run"},
	{"miniredis", "github.com/alicebob/miniredis/v2/server.(*Server).servePeer"},
	{"GC workers", "runtime.gcBgMarkWorker"},
	{"zwfw's background work", "zwfw/bff.(*App).goBackground"},
}

// parts name where CPU goes, by function name prefix; the first match wins.
var parts = []struct {
	name     string
	prefixes []string
}{
	{"embedded store: SQLite", []string{"modernc.org/"}},
	{"embedded store: FerretDB", []string{"github.com/FerretDB/"}},
	{"miniredis and its Lua", []string{"github.com/alicebob/", "github.com/yuin/gopher-lua"}},
	{"Redis client", []string{"github.com/redis/go-redis"}},
	{"Mongo driver and BSON", []string{"go.mongodb.org/"}},
	{"JSON", []string{"encoding/json", "github.com/goccy/go-json"}},
	{"Fiber and fasthttp", []string{"github.com/gofiber/", "github.com/valyala/"}},
	{"logging", []string{"log/slog", "log."}},
	{"crypto", []string{"crypto/", "golang.org/x/crypto", "github.com/emmansun/", "github.com/tjfoc/"}},
	{"syscalls (network, files)", []string{"syscall.", "internal/poll.", "internal/runtime/syscall", "runtime/internal/syscall", "net."}},
	{"GC and allocation", []string{"runtime.gc", "runtime.mallocgc", "runtime.scanobject", "runtime.greyobject", "runtime.findObject",
		"runtime.scan", "internal/runtime/gc", "runtime.tryDefer", "runtime.(*sweepLocker)", "runtime.spanClass", "runtime.nextFree",
		"runtime.heapArenaOf", "runtime.deductAssistCredit", "runtime.memclr", "runtime.(*gcBits)", "runtime.(*mSpanStateBox)", "runtime.spanOf",
		"runtime.(*gcWork)", "runtime.(*mspan)", "runtime.(*mheap)", "runtime.memclrNoHeapPointers", "runtime.bgsweep", "runtime.sweepone",
		"runtime.markBits", "runtime.wbBuf", "runtime.bulkBarrier", "runtime.(*mcache)", "runtime.(*mcentral)", "runtime.heapBits", "runtime.typePointers"}},
	{"Go scheduler and runtime", []string{"runtime.", "internal/runtime"}},
	{"zwfw's own code", []string{"zwfw/"}},
}

func partOf(fn string) string {
	for _, p := range parts {
		for _, pre := range p.prefixes {
			if strings.HasPrefix(fn, pre) {
				return p.name
			}
		}
	}
	return "other"
}

// boundOf reads what bounds a row from go tool pprof -top (top), -top -cum
// (cum) and -top -nodecount=0 (all).
func boundOf(top, cum, all string) *bound {
	b := &bound{}
	for _, l := range parseTop(top) {
		if len(b.Top) == 5 {
			break
		}
		b.Top = append(b.Top, share{l.name, l.flat})
	}
	byPart := map[string]float64{}
	under := map[string]float64{}
	for _, l := range parseTop(all) {
		byPart[partOf(l.name)] += l.flat
		if cmd, ok := strings.CutPrefix(l.name, "github.com/FerretDB/FerretDB/internal/handler.(*Handler).Msg"); ok && l.cum >= 1 && !strings.Contains(cmd, ".") {
			b.Store = append(b.Store, share{strings.ToLower(cmd), l.cum})
		}
		for _, r := range roots {
			if strings.HasPrefix(l.name, r.prefix) {
				under[r.name] = max(under[r.name], l.cum)
			}
		}
	}
	for _, r := range roots {
		if under[r.name] >= 1 {
			b.Under = append(b.Under, share{r.name, under[r.name]})
		}
	}
	slices.SortFunc(b.Under, func(x, y share) int { return cmp.Compare(y.Pct, x.Pct) })
	slices.SortFunc(b.Store, func(x, y share) int { return cmp.Compare(y.Pct, x.Pct) })
	for n, v := range byPart {
		if v >= 1 {
			b.Parts = append(b.Parts, share{n, v})
		}
	}
	slices.SortFunc(b.Parts, func(x, y share) int { return cmp.Compare(y.Pct, x.Pct) })
	if len(b.Parts) > 6 {
		b.Parts = b.Parts[:6]
	}
	// zwfw's frames under the middleware chain (which holds nearly all of
	// a request) say which handler, store call or cache the time is in.
	for _, l := range parseTop(cum) {
		if len(b.Zwfw) == 5 {
			break
		}
		if strings.HasPrefix(l.name, "zwfw/") && l.cum < 60 && l.cum >= 3 {
			b.Zwfw = append(b.Zwfw, share{l.name, l.cum})
		}
	}
	return b
}

// String is the bound on one line: "SQLite 34%, FerretDB 20%, ...".
func (b *bound) String() string {
	if b == nil {
		return ""
	}
	list := func(ss []share, n int) string {
		var out []string
		for _, s := range ss[:min(n, len(ss))] {
			out = append(out, fmt.Sprintf("%s %.0f%%", s.Name, s.Pct))
		}
		return strings.Join(out, ", ")
	}
	out := "CPU by part: " + list(b.Parts, 4) + "; top functions: " + list(b.Top, 3)
	if len(b.Store) > 0 {
		out = "the embedded store's CPU by command: " + list(b.Store, 3) + "; " + out
	}
	if len(b.Under) > 0 {
		out = "CPU under: " + list(b.Under, 4) + "; " + out
	}
	if len(b.Zwfw) > 0 {
		out += "; in zwfw under: " + list(b.Zwfw, 3)
	}
	return out
}
