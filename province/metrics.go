package province

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the client's Prometheus collectors. Label values are bounded:
// groups and route templates are fixed in code, results are the exchange
// log's results.
type metrics struct {
	calls           *prometheus.CounterVec   // group, endpoint, result
	duration        *prometheus.HistogramVec // group, endpoint
	breakerState    *prometheus.GaugeVec     // group
	retries         *prometheus.CounterVec   // group, endpoint
	cache           *prometheus.CounterVec   // result: fresh, stale, miss, bypass
	exchangeDropped prometheus.Counter
	exchangeFailed  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry() // private: nothing scrapes it
	}
	m := &metrics{
		calls: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "zwfw", Subsystem: "province", Name: "calls_total",
			Help: "Calls to the provincial platform by group, route template and result (ok, error, timeout, breaker_open, bad_response).",
		}, []string{"group", "endpoint", "result"})),
		duration: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "zwfw", Subsystem: "province", Name: "call_duration_seconds",
			Help:    "Latency of calls to the provincial platform (one HTTP exchange each).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"group", "endpoint"})),
		breakerState: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "zwfw", Subsystem: "province", Name: "breaker_state",
			Help: "Circuit breaker state per endpoint group: 0 closed, 1 half-open, 2 open.",
		}, []string{"group"})),
		retries: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "zwfw", Subsystem: "province", Name: "retries_total",
			Help: "Retried idempotent reads by group and route template.",
		}, []string{"group", "endpoint"})),
		cache: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "zwfw", Subsystem: "province", Name: "cache_requests_total",
			Help: "Catalog cache look-ups by result (fresh, stale, miss, bypass when Redis is unavailable).",
		}, []string{"result"})),
		exchangeDropped: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "zwfw", Subsystem: "province", Name: "exchange_log_dropped_total",
			Help: "Exchange-log records dropped because the write buffer was full or the client closed.",
		})),
		exchangeFailed: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "zwfw", Subsystem: "province", Name: "exchange_log_write_errors_total",
			Help: "Exchange-log records lost because MongoDB refused or timed out the write.",
		})),
	}
	return m
}

// register registers c, or returns the collector already registered under
// the same description (two clients sharing one registry share collectors).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a programming error: conflicting metric definitions
	}
	return c
}
