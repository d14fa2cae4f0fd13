package province

import (
	"fmt"
	"net/http"
	"sort"
	"time"
)

// Fault modes.
const (
	FaultError   = "error"   // answer Status (default 503) with a coded envelope
	FaultTimeout = "timeout" // hold the request until the client gives up (or DelayMS, default 30 s, then 504)
	FaultSlow    = "slow"    // wait DelayMS (default 2 s), then serve normally
	FaultDrop    = "drop"    // close the connection without an answer
	FaultOff     = "off"     // remove the group's fault ("*": every fault)
)

// Fault makes authenticated requests of an endpoint group fail. It hits
// only requests that pass the gateway's signature check, so that a broken
// probe does not use it up. A group's own fault wins over the "*" fault.
type Fault struct {
	Group   string `json:"group"`              // catalog, identity, licenses, cases or *
	Mode    string `json:"mode"`               // error, timeout, slow, drop, off
	Status  int    `json:"status,omitempty"`   // mode error: HTTP status, default 503
	Code    string `json:"code,omitempty"`     // mode error: envelope code, default by status
	DelayMS int    `json:"delay_ms,omitempty"` // modes slow and timeout
	// Count is how many requests still fail; 0 = until turned off.
	Count int `json:"count"`
	// Hits is how many requests the fault has hit so far.
	Hits int `json:"hits"`
}

var faultGroups = map[string]bool{GroupCatalog: true, GroupIdentity: true, GroupLicenses: true, GroupCases: true, GroupAll: true}

// SetFault puts f in force for its group (replacing the group's previous
// fault), or with Mode "off" removes it. It fails on an unknown group or
// mode, a Status outside 400-599, or a negative Count or DelayMS.
func (s *Server) SetFault(f Fault) error {
	if !faultGroups[f.Group] {
		return fmt.Errorf("group must be catalog, identity, licenses, cases or *, not %q", f.Group)
	}
	if f.Count < 0 || f.DelayMS < 0 {
		return fmt.Errorf("count and delay_ms must not be negative")
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
	case FaultError:
		if f.Status == 0 {
			f.Status = http.StatusServiceUnavailable
		}
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf("status must be 400-599, not %d", f.Status)
		}
		if f.Code == "" {
			f.Code = codeForStatus(f.Status)
		}
	case FaultTimeout, FaultSlow, FaultDrop:
	default:
		return fmt.Errorf("mode must be error, timeout, slow, drop or off, not %q", f.Mode)
	}
	f.Hits = 0
	s.mu.Lock()
	s.faults[f.Group] = &f
	s.mu.Unlock()
	s.log.Info("province fault set", "group", f.Group, "mode", f.Mode, "count", f.Count)
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

// takeFault consumes one hit of the fault for group, if any.
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
	f.Hits++
	if f.Count > 0 {
		f.Count--
		if f.Count == 0 {
			delete(s.faults, key)
		}
	}
	return *f, true
}

// injectFault acts out f; it returns true when the request should then be
// served normally (a "slow" fault that has waited).
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, f Fault, signMethod, requestID string) bool {
	s.log.Warn("province fault injected", "group", f.Group, "mode", f.Mode, "path", r.URL.Path)
	switch f.Mode {
	case FaultError:
		s.reply(w, r, signMethod, requestID, nil, errorf(f.Status, f.Code, "%s", messageForStatus(f.Status)))
	case FaultSlow:
		d := time.Duration(f.DelayMS) * time.Millisecond
		if d == 0 {
			d = defaultSlowDelay
		}
		if !sleep(r, d) {
			return false // the client gave up
		}
		return true
	case FaultTimeout:
		d := time.Duration(f.DelayMS) * time.Millisecond
		if d == 0 {
			d = defaultTimeoutWait
		}
		if sleep(r, d) {
			s.reply(w, r, signMethod, requestID, nil, errorf(http.StatusGatewayTimeout, CodeGatewayTimeout, "%s", messageForStatus(http.StatusGatewayTimeout)))
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

// EndpointStats counts the requests one gateway endpoint received.
type EndpointStats struct {
	Calls   int `json:"calls"`   // every request that reached the endpoint
	Refused int `json:"refused"` // refused by the gateway (signature, timestamp, nonce, app key)
	Faulted int `json:"faulted"` // hit by an injected fault
}

// Stats are the gateway's counters.
type Stats struct {
	// Endpoints by route, e.g. "GET /api/catalog/items/{code}".
	Endpoints map[string]EndpointStats `json:"endpoints"`
	// Paths by request, e.g. "GET /api/catalog/items/113501000036011000X00001" (with ?query when any).
	Paths map[string]int `json:"paths"`
}

// count updates endpoint's counters and, when path is not empty, the path count.
func (s *Server) count(endpoint, path string, update func(*EndpointStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stats[endpoint]
	if !ok {
		st = &EndpointStats{}
		s.stats[endpoint] = st
	}
	update(st)
	if path != "" {
		s.pathCalls[path]++
	}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{Endpoints: map[string]EndpointStats{}, Paths: map[string]int{}}
	for k, v := range s.stats {
		out.Endpoints[k] = *v
	}
	for k, v := range s.pathCalls {
		out.Paths[k] = v
	}
	return out
}

// Calls is how many requests reached endpoint ("GET /api/catalog/items/{code}").
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.stats[endpoint]; ok {
		return st.Calls
	}
	return 0
}

// PathCalls is how many requests were made to one path below BasePath,
// with its raw query if any: PathCalls("GET", "/api/catalog/items?q=x").
func (s *Server) PathCalls(method, pathAndQuery string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pathCalls[method+" "+pathAndQuery]
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	clear(s.stats)
	clear(s.pathCalls)
	s.mu.Unlock()
}
