package nontax

import (
	"zwfw/sandbox/gwserver"
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
	FaultDown = gwserver.FaultDown
	// FaultLost: serve the request (the write is booked), then close the
	// connection without the answer, so the client must retry to learn it.
	FaultLost = gwserver.FaultLost
)

// faultModes are the modes SetFault accepts, in the order its error lists them.
var faultModes = []string{FaultError, FaultDown, FaultTimeout, FaultSlow, FaultDrop, FaultLost, FaultOff}

// Fault makes authenticated requests of an endpoint group (notices,
// payments, refunds, reconciliation or *) fail, all of them or a Rate of
// them; see gwserver.Fault.
type Fault = gwserver.Fault

// faultGroups are the groups SetFault accepts, in the order its error lists them.
var faultGroups = []string{GroupNotices, GroupPayments, GroupRefunds, GroupReconciliation, GroupAll}

// SetFault puts f in force for its group (replacing the group's previous
// fault), or with Mode "off" removes it. It fails on an unknown group or
// mode, a Status outside 400-599, a Rate outside 0..1, or a negative Count
// or DelayMS.
func (s *Server) SetFault(f Fault) error { return s.gw.SetFault(f) }

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.gw.ClearFaults() }

// Faults returns the faults in force, by group.
func (s *Server) Faults() []Fault { return s.gw.Faults() }
