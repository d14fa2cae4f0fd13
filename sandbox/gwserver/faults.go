package gwserver

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// GroupAll is the fault group that covers every endpoint group.
const GroupAll = "*"

// Fault modes.
const (
	FaultError   = "error"   // answer Status (default 503) with a signed, coded envelope
	FaultTimeout = "timeout" // hold the request until the client gives up (or DelayMS, default 30 s, then 504)
	FaultSlow    = "slow"    // wait DelayMS (default 2 s), then serve normally
	FaultDrop    = "drop"    // close the connection without an answer, before serving
	FaultOff     = "off"     // remove the group's fault ("*": every fault)
	// FaultDown: the service is down behind its front proxy, which answers
	// an unsigned HTML 503 (or Status) the way nginx does.
	FaultDown = "down"
	// FaultLost: serve the request (a write is booked), then close the
	// connection without the answer. Inject does not act it out: the
	// caller serves, then calls DropConnection.
	FaultLost = "lost"
	// FaultLate: serve the request (a write is booked) at once, then hold
	// the answer DelayMS (default 2 s) before sending it; a client that
	// gives up or dies meanwhile never learns the outcome. Like FaultLost,
	// the caller acts it out (HoldAnswer).
	FaultLate = "late"
)

const (
	defaultTimeoutWait = 30 * time.Second // "timeout": longest hold when delay_ms is 0
	defaultSlowDelay   = 2 * time.Second  // "slow": delay when delay_ms is 0
)

// Fault makes authenticated requests of an endpoint group fail. It hits
// only requests that pass the signature check, so that a broken probe
// does not use it up. A group's own fault wins over the "*" fault.
type Fault struct {
	Group   string `json:"group"`              // one of Options.FaultGroups
	Mode    string `json:"mode"`               // one of Options.FaultModes
	Status  int    `json:"status,omitempty"`   // modes error and down: HTTP status, default 503
	Code    string `json:"code,omitempty"`     // mode error: envelope code, default by status
	DelayMS int    `json:"delay_ms,omitempty"` // modes slow and timeout
	// Rate is the share of requests hit, 0 < Rate <= 1; 0 means all. Hits
	// are spread evenly and deterministically: 0.25 fails every 4th
	// request. Only with Options.FaultRate.
	Rate float64 `json:"rate,omitempty"`
	// Count is how many requests still fail; 0 = until turned off.
	Count int `json:"count"`
	// Hits is how many requests the fault has hit so far.
	Hits int `json:"hits"`
	// acc accumulates Rate per request; a request is hit when it reaches 1.
	acc float64
}

// SetFault puts f in force for its group (replacing the group's previous
// fault), or with Mode "off" removes it. It fails on a group or mode not
// in Options, a Status outside 400-599, a Rate outside 0..1, or a negative
// Count or DelayMS.
func (g *Gateway) SetFault(f Fault) error {
	if !slices.Contains(g.opts.FaultGroups, f.Group) {
		return fmt.Errorf("group must be %s, not %q", orList(g.opts.FaultGroups), f.Group)
	}
	if f.Count < 0 || f.DelayMS < 0 {
		return fmt.Errorf("count and delay_ms must not be negative")
	}
	if !g.opts.FaultRate {
		f.Rate = 0
	}
	if f.Rate < 0 || f.Rate > 1 {
		return fmt.Errorf("rate must be between 0 and 1, not %v", f.Rate)
	}
	if !slices.Contains(g.opts.FaultModes, f.Mode) {
		return fmt.Errorf("mode must be %s, not %q", orList(g.opts.FaultModes), f.Mode)
	}
	switch f.Mode {
	case FaultOff:
		g.mu.Lock()
		if f.Group == GroupAll {
			clear(g.faults)
		} else {
			delete(g.faults, f.Group)
		}
		g.mu.Unlock()
		return nil
	case FaultError, FaultDown:
		if f.Status == 0 {
			f.Status = http.StatusServiceUnavailable
		}
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf("status must be 400-599, not %d", f.Status)
		}
		if f.Code == "" {
			f.Code = codeForStatus(f.Status)
		}
	}
	f.Hits, f.acc = 0, 0
	g.mu.Lock()
	g.faults[f.Group] = &f
	g.mu.Unlock()
	attrs := []any{"group", f.Group, "mode", f.Mode, "count", f.Count}
	if g.opts.FaultRate {
		attrs = append(attrs, "rate", f.Rate)
	}
	g.log.Info(g.opts.Name+" fault set", attrs...)
	return nil
}

// orList joins "a, b or c".
func orList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// ClearFaults removes every fault.
func (g *Gateway) ClearFaults() {
	g.mu.Lock()
	clear(g.faults)
	g.mu.Unlock()
}

// Faults returns the faults in force, by group.
func (g *Gateway) Faults() []Fault {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Fault, 0, len(g.faults))
	for _, f := range g.faults {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out
}

// TakeFault decides whether the fault for group (else the "*" fault), if
// any, hits this request, and if so consumes one hit. endpoint's faulted
// counter counts the hit.
func (g *Gateway) TakeFault(group, endpoint string) (Fault, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := group
	f, ok := g.faults[key]
	if !ok {
		key = GroupAll
		if f, ok = g.faults[key]; !ok {
			return Fault{}, false
		}
	}
	if f.Rate > 0 && f.Rate < 1 {
		f.acc += f.Rate
		if f.acc < 1 {
			return Fault{}, false
		}
		f.acc--
	}
	f.Hits++
	if f.Count > 0 {
		f.Count--
		if f.Count == 0 {
			delete(g.faults, key)
		}
	}
	g.countLocked(endpoint, "", func(st *EndpointStats) { st.Faulted++ })
	return *f, true
}

// Inject acts out f (any mode but lost); it returns true when the request
// should then be served normally (a "slow" fault that has waited).
func (g *Gateway) Inject(w http.ResponseWriter, r *http.Request, f Fault, signMethod, requestID string) bool {
	g.log.Warn(g.opts.Name+" fault injected", "group", f.Group, "mode", f.Mode, "path", r.URL.Path)
	switch f.Mode {
	case FaultError:
		g.Reply(w, r, signMethod, requestID, nil, Refuse(f.Status, f.Code, "%s", messageForStatus(f.Status)))
	case FaultDown:
		// What nginx answers when its upstream is gone: unsigned HTML.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = fmt.Fprintf(w, "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
			f.Status, http.StatusText(f.Status), f.Status, http.StatusText(f.Status))
	case FaultSlow:
		d := time.Duration(f.DelayMS) * time.Millisecond
		if d == 0 {
			d = defaultSlowDelay
		}
		return sleep(r, d)
	case FaultTimeout:
		d := time.Duration(f.DelayMS) * time.Millisecond
		if d == 0 {
			d = defaultTimeoutWait
		}
		if sleep(r, d) {
			g.Reply(w, r, signMethod, requestID, nil, Refuse(http.StatusGatewayTimeout, CodeGatewayTimeout, "%s", messageForStatus(http.StatusGatewayTimeout)))
		}
	case FaultDrop:
		DropConnection(w)
	}
	return false
}

// HoldAnswer waits f's DelayMS (default 2 s) or until the client goes away;
// false in the latter case (then nothing should be sent).
func HoldAnswer(r *http.Request, f Fault) bool {
	d := time.Duration(f.DelayMS) * time.Millisecond
	if d == 0 {
		d = defaultSlowDelay
	}
	return sleep(r, d)
}

// sleep waits d or until the client goes away; false in the latter case.
func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// DropConnection closes the connection without answering.
func DropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // net/http closes the connection
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func codeForStatus(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return CodeRateLimited
	case status == http.StatusInternalServerError:
		return CodeInternalError
	case status == http.StatusBadGateway:
		return CodeBadGateway
	case status == http.StatusServiceUnavailable:
		return CodeServiceUnavailable
	case status == http.StatusGatewayTimeout:
		return CodeGatewayTimeout
	case status >= 500:
		return CodeUpstreamError
	}
	return CodeSandboxInjectedFailure
}

func messageForStatus(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "请求过于频繁，请稍后再试"
	case http.StatusGatewayTimeout:
		return "后端系统响应超时"
	case http.StatusServiceUnavailable:
		return "系统繁忙，请稍后再试"
	}
	if status >= 500 {
		return "系统错误，请稍后再试"
	}
	return "请求失败（沙箱注入）"
}
