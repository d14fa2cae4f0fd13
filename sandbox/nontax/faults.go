package nontax

import (
	"fmt"
	"net/http"
	"sort"
	"time"

	"zwfw/sandbox/province"
)

// Fault modes: the provincial fake's (province.FaultError, ...) and two
// more a payment platform needs.
const (
	FaultError   = province.FaultError   // answer Status (default 503) with a signed, coded envelope
	FaultTimeout = province.FaultTimeout // hold the request until the client gives up (or DelayMS, default 30 s, then 504)
	FaultSlow    = province.FaultSlow    // wait DelayMS (default 2 s), then serve normally
	FaultDrop    = province.FaultDrop    // close the connection without an answer, before serving
	FaultOff     = province.FaultOff     // remove the group's fault ("*": every fault)
	// FaultDown: the platform is down behind its front proxy, which answers
	// an unsigned HTML 503 (or Status) the way nginx does.
	FaultDown = "down"
	// FaultLost: serve the request (the write is booked), then close the
	// connection without the answer, so the client must retry to learn it.
	FaultLost = "lost"
)

const (
	defaultTimeoutWait = 30 * time.Second
	defaultSlowDelay   = 2 * time.Second
)

// Fault makes authenticated requests of an endpoint group fail. It hits
// only requests that pass the signature check, so that a broken probe
// does not use it up. A group's own fault wins over the "*" fault.
type Fault struct {
	Group   string `json:"group"`              // notices, payments, refunds, reconciliation or *
	Mode    string `json:"mode"`               // error, down, timeout, slow, drop, lost, off
	Status  int    `json:"status,omitempty"`   // modes error and down: HTTP status, default 503
	Code    string `json:"code,omitempty"`     // mode error: envelope code, default by status
	DelayMS int    `json:"delay_ms,omitempty"` // modes slow and timeout
	// Rate is the share of requests hit, 0 < Rate <= 1; 0 means all. Hits
	// are spread evenly and deterministically: 0.25 fails every 4th request.
	Rate float64 `json:"rate,omitempty"`
	// Count is how many requests still fail; 0 = until turned off.
	Count int `json:"count"`
	// Hits is how many requests the fault has hit so far.
	Hits int `json:"hits"`
	// acc accumulates Rate per request; a request is hit when it reaches 1.
	acc float64
}

var faultGroups = map[string]bool{GroupNotices: true, GroupPayments: true, GroupRefunds: true, GroupReconciliation: true, GroupAll: true}

// SetFault puts f in force for its group (replacing the group's previous
// fault), or with Mode "off" removes it. It fails on an unknown group or
// mode, a Status outside 400-599, a Rate outside 0..1, or a negative Count
// or DelayMS.
func (s *Server) SetFault(f Fault) error {
	if !faultGroups[f.Group] {
		return fmt.Errorf("group must be notices, payments, refunds, reconciliation or *, not %q", f.Group)
	}
	if f.Count < 0 || f.DelayMS < 0 {
		return fmt.Errorf("count and delay_ms must not be negative")
	}
	if f.Rate < 0 || f.Rate > 1 {
		return fmt.Errorf("rate must be between 0 and 1, not %v", f.Rate)
	}
	switch f.Mode {
	case FaultOff:
		s.mu.Lock()
		if f.Group == GroupAll {
			clear(s.faults)
		} else {
			delete(s.faults, f.Group)
		}
		s.mu.Unlock()
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
	case FaultTimeout, FaultSlow, FaultDrop, FaultLost:
	default:
		return fmt.Errorf("mode must be error, down, timeout, slow, drop, lost or off, not %q", f.Mode)
	}
	f.Hits, f.acc = 0, 0
	s.mu.Lock()
	s.faults[f.Group] = &f
	s.mu.Unlock()
	s.log.Info("nontax fault set", "group", f.Group, "mode", f.Mode, "count", f.Count, "rate", f.Rate)
	return nil
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { _ = s.SetFault(Fault{Group: GroupAll, Mode: FaultOff}) }

// Faults returns the faults in force, by group.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out
}

// takeFault decides whether the fault for group (if any) hits this
// request, and if so consumes one hit.
func (s *Server) takeFault(group string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := group
	f, ok := s.faults[key]
	if !ok {
		key = GroupAll
		if f, ok = s.faults[key]; !ok {
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
			delete(s.faults, key)
		}
	}
	return *f, true
}

// injectFault acts out f (any mode but lost); it returns true when the
// request should then be served normally (a "slow" fault that has waited).
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, f Fault, signMethod, requestID string) bool {
	s.log.Warn("nontax fault injected", "group", f.Group, "mode", f.Mode, "path", r.URL.Path)
	switch f.Mode {
	case FaultError:
		s.reply(w, r, signMethod, requestID, nil, errorf(f.Status, f.Code, "%s", messageForStatus(f.Status)))
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
			s.reply(w, r, signMethod, requestID, nil, errorf(http.StatusGatewayTimeout, province.CodeGatewayTimeout, "%s", messageForStatus(http.StatusGatewayTimeout)))
		}
	case FaultDrop:
		dropConnection(w)
	}
	return false
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

// dropConnection closes the connection without answering.
func dropConnection(w http.ResponseWriter) {
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
		return province.CodeRateLimited
	case status == http.StatusInternalServerError:
		return province.CodeInternalError
	case status == http.StatusBadGateway:
		return province.CodeBadGateway
	case status == http.StatusServiceUnavailable:
		return province.CodeServiceUnavailable
	case status == http.StatusGatewayTimeout:
		return province.CodeGatewayTimeout
	case status >= 500:
		return province.CodeUpstreamError
	}
	return province.CodeSandboxInjectedFailure
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
