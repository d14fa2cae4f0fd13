package bff

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"zwfw/handlers"
	"zwfw/identity"
)

func TestAccessLogKeeps(t *testing.T) {
	cases := []struct {
		name    string
		sample  float64
		slow    time.Duration
		status  int
		elapsed time.Duration
		want    bool
	}{
		{"everything at sample 1", 1, 0, 200, time.Millisecond, true},
		{"nothing else at sample 0", 0, 0, 200, time.Millisecond, false},
		{"a not-modified at sample 0", 0, 0, 304, time.Millisecond, false},
		{"a client error always", 0, 0, 409, time.Millisecond, true},
		{"a server error always", 0, 0, 503, time.Millisecond, true},
		{"a slow request always", 0, 100 * time.Millisecond, 200, 100 * time.Millisecond, true},
		{"a request under the threshold is sampled", 0, 100 * time.Millisecond, 200, 99 * time.Millisecond, false},
		{"no threshold when slow is 0", 0, 0, 200, time.Hour, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &accessLog{sample: c.sample, slow: c.slow}
			if got := l.keep(c.status, c.elapsed); got != c.want {
				t.Fatalf("keep(%d, %s) with sample %v, slow %s = %v, want %v", c.status, c.elapsed, c.sample, c.slow, got, c.want)
			}
		})
	}
}

// A sampled log writes roughly its share: 1,000 draws at 0.25 land far
// from 0 and from 1,000 (the binomial's spread is about 14).
func TestAccessLogSamples(t *testing.T) {
	l := &accessLog{sample: 0.25}
	kept := 0
	for range 1000 {
		if l.keep(200, time.Millisecond) {
			kept++
		}
	}
	if kept < 100 || kept > 400 {
		t.Fatalf("kept %d of 1000 at sample 0.25", kept)
	}
}

// observedApp is a Fiber app with observe in front of one route that
// answers with status, as the signed-in user u when not empty.
func observedApp(l *accessLog, status int, user string) *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(requestID())
	app.Use(observe(l, newHTTPMetrics(prometheus.NewRegistry())))
	app.Get("/api/v1/cases/:id", func(c *fiber.Ctx) error {
		if user != "" {
			c.Locals(handlers.LocalPrincipal, &identity.Principal{UserID: user})
		}
		return c.Status(status).JSON(fiber.Map{"ok": true})
	})
	return app
}

// The line keeps the fields and names operators and log pipelines read,
// and the path without its query (which may hold personal data).
func TestAccessLogLine(t *testing.T) {
	var out bytes.Buffer
	l := newAccessLog(slog.New(slog.NewJSONHandler(&out, nil)), 1, 0)
	app := observedApp(l, 201, "u_42")
	req, _ := http.NewRequest("GET", "/api/v1/cases/c_1?phone=13800138000", nil)
	req.Header.Set("X-Request-ID", "req-12345678")
	res, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", out.String())
	}
	want := map[string]any{"msg": "http", "level": "INFO", "request_id": "req-12345678", "method": "GET",
		"route": "/api/v1/cases/:id", "path": "/api/v1/cases/c_1", "status": float64(201), "bytes": float64(len(`{"ok":true}`)),
		"ip": "0.0.0.0", "user_id": "u_42"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v (line %s)", k, line[k], v, out.String())
		}
	}
	if _, ok := line["duration_ms"].(float64); !ok {
		t.Errorf("no duration_ms in %s", out.String())
	}
	if strings.Contains(out.String(), "13800138000") {
		t.Errorf("the query reached the log: %s", out.String())
	}
}

func TestAccessLogSampledOutAndErrors(t *testing.T) {
	var out bytes.Buffer
	l := newAccessLog(slog.New(slog.NewJSONHandler(&out, nil)), 0, 0)
	for _, c := range []struct {
		status int
		lines  int
		level  string
	}{{200, 0, ""}, {404, 1, "INFO"}, {500, 1, "ERROR"}} {
		out.Reset()
		res, err := observedApp(l, c.status, "").Test(httptestRequest("GET", "/api/v1/cases/c_1"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if n := strings.Count(out.String(), "\n"); n != c.lines {
			t.Fatalf("status %d at sample 0: %d lines, want %d: %s", c.status, n, c.lines, out.String())
		}
		if c.level != "" && !strings.Contains(out.String(), `"level":"`+c.level+`"`) {
			t.Fatalf("status %d logged at the wrong level: %s", c.status, out.String())
		}
	}
}

func httptestRequest(method, target string) *http.Request {
	req, _ := http.NewRequest(method, target, nil)
	return req
}

// legacyObserve is observe as it was before the access log was typed and
// sampled: the fields as []any pairs (each boxed), kept here as the
// reference BenchmarkAccessLog compares with.
func legacyObserve(log *slog.Logger, m *httpMetrics) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		if err != nil {
			_ = c.App().ErrorHandler(c, err)
		}
		status := c.Response().StatusCode()
		elapsed := time.Since(start)
		route := routeLabel(c)
		m.observe(c.Method(), route, status, elapsed)
		attrs := []any{
			"request_id", handlers.RequestID(c), "method", c.Method(), "route", route, "path", c.Path(),
			"status", status, "duration_ms", float64(elapsed.Microseconds()) / 1000,
			"bytes", len(c.Response().Body()), "ip", c.IP(),
		}
		if p := handlers.PrincipalFrom(c); p != nil {
			attrs = append(attrs, "user_id", p.UserID)
		}
		log.Log(c.UserContext(), slog.LevelInfo, "http", attrs...)
		return nil
	}
}

// BenchmarkAccessLog drives a signed-in GET through the middleware and the
// JSON log handler (to io.Discard), without a network: allocations and
// time per request of the former []any logging, the typed record, and the
// typed record sampled at 1 % and 0 %.
//
//	go test -run '^$' -bench AccessLog -benchmem ./bff/
func BenchmarkAccessLog(b *testing.B) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	variants := []struct {
		name string
		mw   fiber.Handler
	}{
		{"legacy-any-pairs", legacyObserve(logger, newHTTPMetrics(prometheus.NewRegistry()))},
		{"typed-all", observe(newAccessLog(logger, 1, 0), newHTTPMetrics(prometheus.NewRegistry()))},
		{"typed-sample-0.01", observe(newAccessLog(logger, 0.01, 0), newHTTPMetrics(prometheus.NewRegistry()))},
		{"typed-sample-0", observe(newAccessLog(logger, 0, 0), newHTTPMetrics(prometheus.NewRegistry()))},
	}
	principal := &identity.Principal{UserID: "u_0123456789abcdef"}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.Use(func(c *fiber.Ctx) error {
				c.Locals(handlers.LocalRequestID, "0123456789abcdef01234567")
				return c.Next()
			})
			app.Use(v.mw)
			body := []byte(`{"ok":true}`)
			app.Get("/api/v1/cases/:id", func(c *fiber.Ctx) error {
				c.Locals(handlers.LocalPrincipal, principal)
				return c.Send(body)
			})
			h := app.Handler()
			var fctx fasthttp.RequestCtx
			var req fasthttp.Request
			req.SetRequestURI("/api/v1/cases/c_0190abcdef0123456789ab")
			req.Header.SetMethod("GET")
			fctx.Init(&req, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 40000}, nil)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				fctx.Response.Reset()
				h(&fctx)
			}
		})
	}
}
