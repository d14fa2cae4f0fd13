package province

import "zwfw/sandbox/gwserver"

// Fault modes (gwserver's).
const (
	FaultError   = gwserver.FaultError   // answer Status (default 503) with a coded envelope
	FaultTimeout = gwserver.FaultTimeout // hold the request until the client gives up (or DelayMS, default 30 s, then 504)
	FaultSlow    = gwserver.FaultSlow    // wait DelayMS (default 2 s), then serve normally
	FaultDrop    = gwserver.FaultDrop    // close the connection without an answer
	// FaultLost serves the request (a case is created, a supplement booked),
	// then closes the connection without the answer: the client cannot tell
	// it from a drop and retries under the same Idempotency-Key.
	FaultLost = gwserver.FaultLost
	// FaultLate serves the request at once (a case is created) and holds the
	// answer DelayMS (default 2 s): the window in which a client killed
	// while waiting has sent a submission it never saw accepted.
	FaultLate = gwserver.FaultLate
	FaultOff  = gwserver.FaultOff // remove the group's fault ("*": every fault)
)

// faultModes are the modes SetFault accepts, in the order its error lists them.
var faultModes = []string{FaultError, FaultTimeout, FaultSlow, FaultDrop, FaultLost, FaultLate, FaultOff}

// Fault makes authenticated requests of an endpoint group (catalog,
// identity, licenses, cases or *) fail; see gwserver.Fault. The provincial
// gateway has no rates: Rate is ignored.
type Fault = gwserver.Fault

// faultGroups are the groups SetFault accepts, in the order its error lists them.
var faultGroups = []string{GroupCatalog, GroupIdentity, GroupLicenses, GroupCases, GroupAll}

// SetFault puts f in force for its group (replacing the group's previous
// fault), or with Mode "off" removes it. It fails on an unknown group or
// mode, a Status outside 400-599, or a negative Count or DelayMS.
func (s *Server) SetFault(f Fault) error { return s.gw.SetFault(f) }

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.gw.ClearFaults() }

// Faults returns the faults in force, by group.
func (s *Server) Faults() []Fault { return s.gw.Faults() }

// EndpointStats counts the requests one gateway endpoint received.
type EndpointStats = gwserver.EndpointStats

// Stats are the gateway's counters: endpoints by route, e.g.
// "GET /api/catalog/items/{code}", and paths by request, e.g.
// "GET /api/catalog/items/113501000036011000X00001" (with ?query when any).
type Stats = gwserver.Stats

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats { return s.gw.Stats() }

// Calls is how many requests reached endpoint ("GET /api/catalog/items/{code}").
func (s *Server) Calls(endpoint string) int { return s.gw.Calls(endpoint) }

// PathCalls is how many requests were made to one path below BasePath,
// with its raw query if any: PathCalls("GET", "/api/catalog/items?q=x").
func (s *Server) PathCalls(method, pathAndQuery string) int {
	return s.gw.PathCalls(method, pathAndQuery)
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() { s.gw.ResetStats() }
