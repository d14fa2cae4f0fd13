package bff

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// httpMetrics are the per-route latency histogram and status counts.
type httpMetrics struct {
	duration *prometheus.HistogramVec
	requests *prometheus.CounterVec
	degraded prometheus.Counter
}

// newRegistry makes the process's own registry (not the global one, which
// the embedded FerretDB also writes to) with Go and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "zwfw", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Latency of HTTP requests by route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "zwfw", Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests by route template and status.",
		}, []string{"method", "route", "status"}),
		degraded: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "zwfw", Subsystem: "ratelimit", Name: "degraded_total",
			Help: "Requests let through unchecked because Redis was unreachable.",
		}),
	}
	reg.MustRegister(m.duration, m.requests, m.degraded)
	return m
}

// observe records one request. Label values are cloned: Fiber hands out
// strings backed by buffers it reuses after the request, and the metric
// vectors keep their label values for ever.
func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	method, route = strings.Clone(method), strings.Clone(route)
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
}
