package redisx

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// ErrUnavailable is returned at once, without touching the network, while the
// breaker holds Redis for down.
var ErrUnavailable = errors.New("redis: unavailable (circuit open)")

// breakerHook is a go-redis hook that stops calling a Redis that keeps failing.
// Without it every request would pay go-redis's dial retries (about half a
// second a command) while Redis is down; with it, a down Redis costs nothing
// but the cache, and one probe every few seconds finds it back.
type breakerHook struct {
	cb *gobreaker.CircuitBreaker[struct{}]
}

func newBreakerHook(name string) *breakerHook {
	return &breakerHook{cb: gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:    name,
		Timeout: 3 * time.Second, // then one probe is let through
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= 3
		},
	})}
}

// infraError tells a broken connection from answers that are not failures of
// Redis itself (a missing key, a server-side error reply, a cancelled caller).
func infraError(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		var nerr net.Error
		return errors.As(err, &nerr)
	}
	return true
}

// guarded marks a context whose command already holds the breaker's
// permission. go-redis sets a fresh connection up (HELLO, AUTH, SELECT)
// through the client's own hooks, with the context of the command that
// needed the connection. Guarding those set-up commands again made the
// half-open probe wait for itself: the breaker allows one call while
// half-open, the probe was it, so its own HELLO was refused, the probe
// failed and the breaker opened again — forever, since after an outage
// every connection is a fresh one. Set-up commands run under their
// command's guard instead.
type guarded struct{}

func (h *breakerHook) guard(ctx context.Context, run func(ctx context.Context) error) error {
	if ctx.Value(guarded{}) != nil {
		return run(ctx)
	}
	ctx = context.WithValue(ctx, guarded{}, true)
	var callErr error
	_, err := h.cb.Execute(func() (struct{}, error) {
		callErr = run(ctx)
		if infraError(callErr) {
			return struct{}{}, callErr
		}
		return struct{}{}, nil
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return ErrUnavailable
	}
	return callErr
}

func (h *breakerHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *breakerHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := h.guard(ctx, func(ctx context.Context) error { return next(ctx, cmd) })
		if errors.Is(err, ErrUnavailable) {
			cmd.SetErr(err)
		}
		return err
	}
}

func (h *breakerHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := h.guard(ctx, func(ctx context.Context) error { return next(ctx, cmds) })
		if errors.Is(err, ErrUnavailable) {
			for _, c := range cmds {
				c.SetErr(err)
			}
		}
		return err
	}
}
