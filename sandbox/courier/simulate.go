package courier

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of the Go methods and controls that move parcels.
var (
	ErrParcelNotFound  = errors.New("courier: no such parcel")
	ErrParcelExists    = errors.New("courier: a parcel with that number exists")
	ErrParcelCancelled = errors.New("courier: the parcel's order was cancelled")
	ErrParcelFinal     = errors.New("courier: the parcel's journey has ended")
	ErrScenarioTooLate = errors.New("courier: the parcel is past the point where that scenario differs")
	ErrBadScenario     = errors.New(`courier: scenario must be "normal", "exception" or "returned"`)
	ErrUnknownCarrier  = errors.New("courier: unknown carrier code")
)

// ParcelSpec creates a parcel without a pickup order, as when a hall
// writes a waybill by hand.
type ParcelSpec struct {
	Com      string `json:"com"`             // carrier code; required
	Number   string `json:"num"`             // waybill number; generated when empty
	Phone    string `json:"phone,omitempty"` // receiver's mobile (顺丰 queries check it)
	From     string `json:"from"`            // one-line sender address, e.g. 福建省福州市鼓楼区...
	To       string `json:"to"`              // one-line receiver address
	Scenario string `json:"scenario,omitempty"`
}

// AddParcel creates a parcel that has not been collected yet. It returns
// ErrUnknownCarrier, ErrBadScenario or ErrParcelExists.
func (s *Server) AddParcel(spec ParcelSpec) (Parcel, error) {
	c, ok := lookupCarrier(spec.Com)
	if !ok {
		return Parcel{}, ErrUnknownCarrier
	}
	if spec.Scenario == "" {
		spec.Scenario = ScenarioNormal
	}
	if !validScenario(spec.Scenario) {
		return Parcel{}, ErrBadScenario
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	num := strings.TrimSpace(spec.Number)
	if _, dup := s.parcels[num]; dup && num != "" {
		return Parcel{}, ErrParcelExists
	}
	p := s.newParcelLocked(c, num, parsePlace(spec.From), parsePlace(spec.To), "", spec.Phone, "", s.now())
	p.scenario = spec.Scenario
	return p.view(), nil
}

// newParcelLocked registers a new parcel; num "" draws one. The caller holds s.mu.
func (s *Server) newParcelLocked(c carrier, num string, from, to place, senderPhone, receiverPhone, orderID string, now time.Time) *parcel {
	for num == "" || s.parcels[num] != nil {
		num = c.newWaybill(s.rng)
	}
	name, phone := drawCourier(s.rng)
	p := &parcel{
		com: c.code, num: num, carrier: c, from: from, to: to,
		senderPhone: senderPhone, receiverPhone: receiverPhone, scenario: ScenarioNormal,
		orderID: orderID, createdAt: now, lastAt: now, courier: name, courierPhone: phone,
	}
	s.parcels[num] = p
	s.parcelSq = append(s.parcelSq, num)
	return p
}

// Parcels lists every parcel, oldest first.
func (s *Server) Parcels() []Parcel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Parcel, 0, len(s.parcelSq))
	for _, n := range s.parcelSq {
		out = append(out, s.parcels[n].view())
	}
	return out
}

// ParcelByNumber returns one parcel.
func (s *Server) ParcelByNumber(num string) (Parcel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.parcels[num]
	if !ok {
		return Parcel{}, false
	}
	return p.view(), true
}

// SetScenario changes how the parcel's journey ends. It returns
// ErrParcelNotFound, ErrBadScenario, or ErrScenarioTooLate when the parcel
// has already passed the point where the two journeys differ.
func (s *Server) SetScenario(num, scenario string) (Parcel, error) {
	if !validScenario(scenario) {
		return Parcel{}, ErrBadScenario
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.parcels[num]
	if !ok {
		return Parcel{}, ErrParcelNotFound
	}
	if err := p.setScenario(scenario); err != nil {
		return Parcel{}, err
	}
	return p.view(), nil
}

// setScenario switches the plan if the steps already done are the same
// in the new one.
func (p *parcel) setScenario(scenario string) error {
	next := planFor(p.carrier, p.from, p.to, p.courier, p.courierPhone, scenario)
	if len(next) < len(p.events) {
		return ErrScenarioTooLate
	}
	for i, e := range p.events {
		if next[i] != e.step {
			return ErrScenarioTooLate
		}
	}
	p.scenario = scenario
	return nil
}

// Advance moves a parcel steps steps (at least one) along its journey,
// stamped with the fake clock's time, and pushes each change to its
// subscriber. It stops early at the journey's end. It returns
// ErrParcelNotFound, ErrParcelCancelled, or ErrParcelFinal when the journey
// had already ended.
func (s *Server) Advance(num string, steps int) (Parcel, error) {
	if steps < 1 {
		steps = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.parcels[num]
	switch {
	case !ok:
		return Parcel{}, ErrParcelNotFound
	case p.cancelled:
		return p.view(), ErrParcelCancelled
	case p.final():
		return p.view(), ErrParcelFinal
	}
	now := s.now()
	for i := 0; i < steps && !p.final(); i++ {
		s.stepLocked(p, now)
	}
	return p.view(), nil
}

// AdvanceAll moves every parcel in flight (not cancelled, not ended) one
// step and returns how many moved.
func (s *Server) AdvanceAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	moved := 0
	for _, n := range s.parcelSq {
		p := s.parcels[n]
		if p.cancelled || p.final() {
			continue
		}
		s.stepLocked(p, now)
		moved++
	}
	return moved
}

// Tick applies AutoAdvance: every parcel in flight takes one step for each
// AutoAdvance interval passed on the fake clock since its last step, each
// stamped at the end of its interval. It returns the number of steps taken;
// without AutoAdvance it does nothing.
func (s *Server) Tick() int {
	if s.autoAdvance <= 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	taken := 0
	for _, n := range s.parcelSq {
		p := s.parcels[n]
		for !p.cancelled && !p.final() && !now.Before(p.lastAt.Add(s.autoAdvance)) {
			s.stepLocked(p, p.lastAt.Add(s.autoAdvance))
			taken++
		}
	}
	return taken
}

// tickLoop calls Tick until Close.
func (s *Server) tickLoop(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.Tick()
		}
	}
}

// stepLocked takes the parcel's next planned step at time at and queues
// the pushes it causes; queueing under s.mu keeps pushes in step order. The
// caller holds s.mu and has checked that the journey has not ended.
func (s *Server) stepLocked(p *parcel, at time.Time) {
	spec := p.plan()[len(p.events)]
	p.events = append(p.events, event{at: at, step: spec})
	p.lastAt = at
	s.log.Info("courier parcel moved", "num", p.num, "state", spec.state, "step", len(p.events))
	s.queue.push(s.pushesLocked(p)...)
}

// describeErr turns a simulation error into a control message.
func describeErr(num string, err error) string {
	return fmt.Sprintf("%s: %v", num, err)
}
