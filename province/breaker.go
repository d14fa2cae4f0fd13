package province

import (
	"time"

	"github.com/sony/gobreaker/v2"
)

// group is an endpoint group of the contract. Each has its own timeout and
// circuit breaker, so one failing province service does not stop the others.
type group string

const (
	groupCatalog  group = "catalog"
	groupIdentity group = "identity"
	groupLicenses group = "licenses"
	groupCases    group = "cases"
)

var allGroups = []group{groupCatalog, groupIdentity, groupLicenses, groupCases}

// BreakerSettings tunes the per-group circuit breakers. Zero fields take the
// defaults in brackets. Only 5xx answers, timeouts and transport errors
// count as failures; a 404 or a business error is a working province.
type BreakerSettings struct {
	// ConsecutiveFailures opens the breaker after that many failures in a row [5].
	ConsecutiveFailures uint32
	// MinRequests and FailureRatio open it when, within Interval, at least
	// MinRequests calls were made and at least FailureRatio of them failed [10, 0.5].
	MinRequests  uint32
	FailureRatio float64
	// Interval is the rolling window of the closed state's counts [30s].
	Interval time.Duration
	// OpenTimeout is how long the breaker stays open before letting one
	// trial call through (half-open) [15s].
	OpenTimeout time.Duration
	// HalfOpenRequests is how many trial calls may run while half-open; that
	// many successes close the breaker, one failure opens it again [1].
	HalfOpenRequests uint32
}

func (s BreakerSettings) withDefaults() BreakerSettings {
	if s.ConsecutiveFailures == 0 {
		s.ConsecutiveFailures = 5
	}
	if s.MinRequests == 0 {
		s.MinRequests = 10
	}
	if s.FailureRatio <= 0 {
		s.FailureRatio = 0.5
	}
	if s.Interval <= 0 {
		s.Interval = 30 * time.Second
	}
	if s.OpenTimeout <= 0 {
		s.OpenTimeout = 15 * time.Second
	}
	if s.HalfOpenRequests == 0 {
		s.HalfOpenRequests = 1
	}
	return s
}

// breaker wraps a two-step gobreaker: the client asks before a call and
// reports the outcome after, because only some errors are failures.
type breaker struct {
	cb      *gobreaker.TwoStepCircuitBreaker[struct{}]
	timeout time.Duration
}

func newBreaker(g group, s BreakerSettings, m *metrics) *breaker {
	gauge := m.breakerState.WithLabelValues(string(g))
	gauge.Set(0)
	st := gobreaker.Settings{
		Name:         string(g),
		MaxRequests:  s.HalfOpenRequests,
		Interval:     s.Interval,
		BucketPeriod: s.Interval / 6, // a rolling window rather than a fixed one
		Timeout:      s.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			if c.ConsecutiveFailures >= s.ConsecutiveFailures {
				return true
			}
			return c.Requests >= s.MinRequests && float64(c.TotalFailures) >= s.FailureRatio*float64(c.Requests)
		},
		OnStateChange: func(_ string, _, to gobreaker.State) {
			gauge.Set(float64(to)) // closed 0, half-open 1, open 2
		},
	}
	return &breaker{cb: gobreaker.NewTwoStepCircuitBreaker[struct{}](st), timeout: s.OpenTimeout}
}

// allow asks whether a call may go out; done must then be called exactly once.
func (b *breaker) allow() (done func(success bool), ok bool) {
	done, err := b.cb.Allow()
	return done, err == nil
}

// state is the breaker's current state (it also moves open to half-open
// when the open timeout has passed).
func (b *breaker) state() gobreaker.State { return b.cb.State() }
