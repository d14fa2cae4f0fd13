package push

import (
	"fmt"
	"math"
	"time"
)

// Faults make the gateway misbehave, to test zwfw's backoff and fallback.
// The zero value is a healthy gateway.
type Faults struct {
	// Down answers every API request 503 with a load balancer's HTML page.
	Down bool `json:"down"`
	// RateLimitPerMinute caps authenticated pushes per one-minute window
	// (JPush's free plan allows 600); 0 = no limit.
	RateLimitPerMinute int `json:"rate_limit_per_minute"`
	// ErrorRate is the fraction (0..1) of authenticated, admitted requests
	// answered 500 with code 1000, drawn at random per request.
	ErrorRate float64 `json:"error_rate"`
}

// Validate reports a negative rate limit or an error rate outside 0..1.
func (f Faults) Validate() error {
	if f.RateLimitPerMinute < 0 {
		return fmt.Errorf("rate_limit_per_minute must not be negative")
	}
	if math.IsNaN(f.ErrorRate) || f.ErrorRate < 0 || f.ErrorRate > 1 {
		return fmt.Errorf("error_rate must be between 0 and 1")
	}
	return nil
}

// SetFaults puts f in force, replacing the previous faults; a changed rate
// limit starts a fresh window. It returns f.Validate's error and changes
// nothing then.
func (s *Server) SetFaults(f Faults) error {
	_, err := s.updateFaults(func(cur *Faults) { *cur = f })
	return err
}

// updateFaults applies change to the faults in force, atomically, and
// returns the result; an invalid result is refused and changes nothing.
func (s *Server) updateFaults(change func(*Faults)) (Faults, error) {
	s.mu.Lock()
	f := s.faults
	change(&f)
	if err := f.Validate(); err != nil {
		s.mu.Unlock()
		return s.Faults(), err
	}
	if f.RateLimitPerMinute != s.faults.RateLimitPerMinute {
		s.windowStart, s.windowUsed = time.Time{}, 0
	}
	s.faults = f
	s.mu.Unlock()
	s.log.Info("push faults set", "down", f.Down, "rate_limit_per_minute", f.RateLimitPerMinute, "error_rate", f.ErrorRate)
	return f, nil
}

// ClearFaults makes the gateway healthy again.
func (s *Server) ClearFaults() { _ = s.SetFaults(Faults{}) }

// Faults returns the faults in force.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// rateInfo is what the X-Rate-Limit-* headers say; limit 0 = no limit set.
type rateInfo struct {
	limit, remaining, resetSeconds int
}

// admit counts a request against the current rate-limit window: false when
// the window is used up. Windows are fixed minutes of the fake's clock.
func (s *Server) admit(now time.Time) (rateInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := s.faults.RateLimitPerMinute
	if limit == 0 {
		return rateInfo{}, true
	}
	start := now.Truncate(RateWindow)
	if !start.Equal(s.windowStart) {
		s.windowStart, s.windowUsed = start, 0
	}
	reset := int(math.Ceil(start.Add(RateWindow).Sub(now).Seconds()))
	if s.windowUsed >= limit {
		return rateInfo{limit: limit, remaining: 0, resetSeconds: reset}, false
	}
	s.windowUsed++
	return rateInfo{limit: limit, remaining: limit - s.windowUsed, resetSeconds: reset}, true
}

// injectError draws whether this request hits the error rate.
func (s *Server) injectError() bool {
	s.mu.Lock()
	rate := s.faults.ErrorRate
	s.mu.Unlock()
	return rate > 0 && s.random() < rate
}

// Stats count the API requests (/v3/push and /v3/push/validate) by outcome.
type Stats struct {
	Requests    int `json:"requests"`     // every request
	Accepted    int `json:"accepted"`     // answered with a msg_id
	Delivered   int `json:"delivered"`    // messages that reached a device
	Down        int `json:"down"`         // answered 503 while down
	AuthFailed  int `json:"auth_failed"`  // 1004
	RateLimited int `json:"rate_limited"` // 2002
	Failed      int `json:"failed"`       // 1000 drawn by error_rate
	NoTarget    int `json:"no_target"`    // 1011
	Invalid     int `json:"invalid"`      // 1001, 1002, 1003, 1005
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	s.stats = Stats{}
	s.mu.Unlock()
}

// count updates the counters under the lock.
func (s *Server) count(update func(*Stats)) {
	s.mu.Lock()
	update(&s.stats)
	s.mu.Unlock()
}
