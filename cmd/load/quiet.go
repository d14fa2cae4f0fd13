package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Seeding leaves work behind in zwfw: the outbox relay and the event
// consumers (reminders, the home index, supervision counts, ...) catch up
// with what the people did, on the same cores and the same store as the
// rows about to be measured. The harness waits for zwfw to go quiet, for a
// bounded time, and says how busy it still was.

// clockTicks is Linux's USER_HZ: /proc's CPU times are counted in it.
const clockTicks = 100

// cpuTicks is the CPU time pid has used (user and system), in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %v %v", pid, err1, err2)
	}
	return u + k, nil
}

// waitQuiet waits until zwfw uses under a fifth of a core over two
// seconds, at most limit, and reports how busy it was.
func (h *harness) waitQuiet(ctx context.Context, mode string, limit time.Duration) {
	pid := h.z.p.Pid()
	const window = 2 * time.Second
	t0 := time.Now()
	last := 0.0
	for time.Since(t0) < limit && ctx.Err() == nil {
		a, err := cpuTicks(pid)
		if err != nil {
			return // not Linux: nothing to wait on
		}
		time.Sleep(window)
		b, err := cpuTicks(pid)
		if err != nil {
			return
		}
		last = float64(b-a) / clockTicks / window.Seconds()
		if last < 0.2 {
			h.progress("%s: zwfw quiet after seeding (%.0f%% of a core) in %.0fs", mode, 100*last, time.Since(t0).Seconds())
			return
		}
	}
	h.note("%s: zwfw was still busy in the background after seeding (%.0f%% of a core after waiting %s: the outbox relay and event consumers catching up); the rows share the cores with it",
		mode, 100*last, limit)
}
