package bff

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/handlers"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requestID takes a well-formed X-Request-ID from the client (so a phone's
// retry can be traced) or makes one, and echoes it in the response.
func requestID() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := c.Get(fiber.HeaderXRequestID)
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		c.Locals(handlers.LocalRequestID, id)
		c.Set(fiber.HeaderXRequestID, id)
		return c.Next()
	}
}

// recoverPanics turns a panic into an INTERNAL error and logs the stack; the
// client never sees it.
func recoverPanics(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic in handler", "request_id", handlers.RequestID(c), "route", routeLabel(c),
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = apperr.Internal.WithCause(fmt.Errorf("panic: %v", r))
			}
		}()
		return c.Next()
	}
}

// routeLabel is the route template ("/api/v1/cases/:id"), never the raw path,
// so metrics and logs carry no ids and have bounded cardinality.
func routeLabel(c *fiber.Ctx) string {
	r := c.Route()
	if r == nil || r.Method == "USE" || r.Path == "/" || r.Path == "" || strings.HasSuffix(r.Path, "*") {
		return "unmatched"
	}
	return r.Path
}

// observe is the outermost middleware: it resolves errors into responses
// (so the status is known), then writes the metrics and the access log
// line (sampled: see accessLog).
func observe(log *accessLog, m *httpMetrics) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		if err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		status := c.Response().StatusCode()
		elapsed := time.Since(start)
		route := routeLabel(c)
		m.observe(c.Method(), route, status, elapsed)
		log.write(c, route, status, elapsed)
		return nil
	}
}

// limitKey chooses what a rate limit counts: the client IP, or the user.
type limitKey func(c *fiber.Ctx) string

func byIP(prefix string) limitKey {
	return func(c *fiber.Ctx) string { return prefix + ":ip:" + c.IP() }
}

func byUser(prefix string) limitKey {
	return func(c *fiber.Ctx) string {
		if p := handlers.PrincipalFrom(c); p != nil {
			return prefix + ":user:" + p.UserID
		}
		return prefix + ":ip:" + c.IP()
	}
}

// byParam counts per value of a path parameter (e.g. a case number, so
// guesses spread over many IPs still meet one budget).
func byParam(prefix, param string) limitKey {
	return func(c *fiber.Ctx) string { return prefix + ":" + param + ":" + strings.ToUpper(c.Params(param)) }
}
