package push

import (
	"errors"
	"fmt"
	"time"
)

// What a failed send means to the caller; test with errors.Is.
var (
	// ErrNotInstalled: JPush found no device for the registration id (code
	// 1011) — the app was uninstalled, or the id is unknown or stale. Do not
	// retry; forget the id.
	ErrNotInstalled = errors.New("push: app not installed on the device")
	// ErrRateLimited: over the app key's rate limit (code 2002, HTTP 429).
	// Retry after RetryAfter(err), when the gateway said.
	ErrRateLimited = errors.New("push: rate limited by the push gateway")
	// ErrTemporary: the gateway failed (5xx, code 1000/1030, a load
	// balancer's error page) or could not be reached (network error,
	// timeout). Retry with backoff, or fall back to another channel.
	ErrTemporary = errors.New("push: push gateway temporarily unavailable")
	// ErrAuth: the app key or master secret was refused (code 1004). A
	// configuration problem: retrying will not help.
	ErrAuth = errors.New("push: app key or master secret refused")
	// ErrInvalidMessage: the message was not sent because it is incomplete
	// (no registration id or body), or the gateway refused its content
	// (codes 1002, 1003, 1005). Retrying the same message will not help.
	ErrInvalidMessage = errors.New("push: invalid message")
)

// JPush error codes the client acts on.
const (
	codeInternal       = 1000
	codeMissingParam   = 1002
	codeInvalidParam   = 1003
	codeAuthFailed     = 1004
	codeTooLarge       = 1005
	codeNoTarget       = 1011
	codeServiceTimeout = 1030
	codeRateLimited    = 2002
)

// Error is an answer of the gateway other than success. errors.Is maps it
// to ErrNotInstalled, ErrRateLimited, ErrTemporary, ErrAuth or
// ErrInvalidMessage; other codes (e.g. 2003, the app key is barred) match none.
type Error struct {
	HTTPStatus int
	// Code is JPush's error code; 0 when the answer carried none (a proxy's
	// or load balancer's page).
	Code    int
	Message string
	// MsgID is the push's id when the gateway gave one (it does on 1011).
	MsgID string
	// RetryAfter is how long until the rate-limit window resets
	// (X-Rate-Limit-Reset, or Retry-After); 0 when not said.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("push: gateway answered HTTP %d: %s", e.HTTPStatus, e.Message)
	}
	return fmt.Sprintf("push: gateway error %d: %s (HTTP %d)", e.Code, e.Message, e.HTTPStatus)
}

// Is reports whether e means target (one of the package's Err values).
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotInstalled:
		return e.Code == codeNoTarget
	case ErrRateLimited:
		return e.Code == codeRateLimited || (e.Code == 0 && e.HTTPStatus == 429)
	case ErrTemporary:
		return e.Code == codeInternal || e.Code == codeServiceTimeout || (e.HTTPStatus >= 500 && e.Code != codeRateLimited)
	case ErrAuth:
		return e.Code == codeAuthFailed || (e.Code == 0 && e.HTTPStatus == 401)
	case ErrInvalidMessage:
		return e.Code == codeMissingParam || e.Code == codeInvalidParam || e.Code == codeTooLarge
	}
	return false
}

// RetryAfter returns how long the gateway asked to wait before the next
// send, when err is a rate limit that said so.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}
