package courier

import (
	"fmt"
	"sort"
	"strings"
)

// Push fault modes.
const (
	FaultNone      = "none"      // remove the fault (of that waybill, or the fake-wide one)
	FaultOff       = "off"       // push nothing; the query still shows progress
	FaultDrop      = "drop"      // lose a random DropRate fraction of pushes
	FaultDuplicate = "duplicate" // send every push twice
	FaultReorder   = "reorder"   // hold each push until the next one and send that first
)

// DefaultDropRate is the fraction of pushes FaultDrop loses when DropRate is 0.
const DefaultDropRate = 0.5

// PushFault makes pushes misbehave, for one waybill (Number) or for every
// waybill without its own fault (Number "").
type PushFault struct {
	Number   string  `json:"number,omitempty"`
	Mode     string  `json:"mode"`
	DropRate float64 `json:"drop_rate,omitempty"` // FaultDrop only; (0, 1], default DefaultDropRate
}

// SetFault installs f (replacing the fault of the same scope) or, with
// FaultNone, removes it. It fails on an unknown mode or a drop rate out of (0, 1].
func (s *Server) SetFault(f PushFault) error {
	f.Number = strings.TrimSpace(f.Number)
	switch f.Mode {
	case FaultNone, FaultOff, FaultDuplicate, FaultReorder:
		f.DropRate = 0
	case FaultDrop:
		if f.DropRate == 0 {
			f.DropRate = DefaultDropRate
		}
		if f.DropRate < 0 || f.DropRate > 1 {
			return fmt.Errorf("drop_rate must be in (0, 1], got %v", f.DropRate)
		}
	default:
		return fmt.Errorf("mode must be off, drop, duplicate, reorder or none, got %q", f.Mode)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Mode == FaultNone {
		delete(s.faults, f.Number)
		return nil
	}
	s.faults[f.Number] = f
	return nil
}

// ClearFaults removes every push fault. Pushes held by FaultReorder go out
// with the parcel's next change.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	clear(s.faults)
	s.mu.Unlock()
}

// Faults lists the faults in force, the fake-wide one first.
func (s *Server) Faults() []PushFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PushFault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// faultForLocked is the fault that applies to a waybill: its own, else the
// fake-wide one. The caller holds s.mu.
func (s *Server) faultForLocked(num string) PushFault {
	if f, ok := s.faults[num]; ok {
		return f
	}
	if f, ok := s.faults[""]; ok {
		return f
	}
	return PushFault{Mode: FaultNone}
}
