package bff

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/handlers"
)

// accessLog writes the one line per request that observe asks for. It
// costs little on the hot path: a request that sampling skips costs one
// random draw; a logged one is a slog.Record built from typed attributes
// (slog.String, slog.Int: no boxing into interfaces, no []any) handed
// straight to the pre-built handler, so no allocation per field.
// Failures (status >= 400) and slow requests are always logged, whatever
// the sample.
type accessLog struct {
	h      slog.Handler
	sample float64       // fraction of the other requests logged: 1 all, 0 none
	slow   time.Duration // at least this long is always logged (0: no threshold)
}

func newAccessLog(log *slog.Logger, sample float64, slow time.Duration) *accessLog {
	return &accessLog{h: log.Handler(), sample: sample, slow: slow}
}

// keep decides whether this request's line is written.
func (l *accessLog) keep(status int, elapsed time.Duration) bool {
	switch {
	case status >= 400, l.slow > 0 && elapsed >= l.slow, l.sample >= 1:
		return true
	case l.sample <= 0:
		return false
	}
	return rand.Float64() < l.sample
}

// write logs the request c answered with status after elapsed. The path
// is logged without its query string: queries may hold personal data
// (phone, ID number) and must not reach the log.
func (l *accessLog) write(c *fiber.Ctx, route string, status int, elapsed time.Duration) {
	if !l.keep(status, elapsed) {
		return
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	ctx := c.UserContext()
	if !l.h.Enabled(ctx, level) {
		return
	}
	// One array on the stack, added in one call: the record grows its
	// overflow slice once.
	attrs := [...]slog.Attr{
		slog.String("request_id", handlers.RequestID(c)),
		slog.String("method", c.Method()),
		slog.String("route", route),
		slog.String("path", c.Path()),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.Int("bytes", len(c.Response().Body())),
		slog.String("ip", c.IP()),
		{},
	}
	n := len(attrs) - 1
	if p := handlers.PrincipalFrom(c); p != nil {
		attrs[n] = slog.String("user_id", p.UserID)
		n++
	}
	r := slog.NewRecord(time.Now(), level, "http", 0)
	r.AddAttrs(attrs[:n]...)
	_ = l.h.Handle(ctx, r)
}

// fraction is a setting between 0 and 1 (a sampling rate).
func fraction(name string, def float64, meaning string, field func(*Config) *float64) setting {
	return setting{name: name, def: strconv.FormatFloat(def, 'f', -1, 64), meaning: meaning,
		read: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				return fmt.Errorf("want a number from 0 to 1")
			}
			*field(c) = f
			return nil
		},
		value: func(c Config) string { return strconv.FormatFloat(*field(&c), 'f', -1, 64) }}
}
