package province

import "context"

type ctxKey int

const (
	callerKey ctxKey = iota
	correlationKey
)

// CallerSystem is the exchange log's caller for calls made on no user's
// behalf (workers, health checks, background cache refreshes).
const CallerSystem = "system"

// WithCaller returns a context whose province calls are recorded in the
// exchange log as made on behalf of userID (zwfw's internal user id, never a
// name or ID number). Handlers set it from the authenticated user; calls
// without it are recorded as CallerSystem.
func WithCaller(ctx context.Context, userID string) context.Context {
	return context.WithValue(ctx, callerKey, userID)
}

// WithCorrelationID returns a context whose province calls carry id in the
// X-Gw-Correlation-Id header and the exchange log (e.g. the BFF's request id,
// so one citizen request can be followed across systems). Calls without it
// get a fresh random id each.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey, id)
}

func callerFrom(ctx context.Context) string {
	if v, _ := ctx.Value(callerKey).(string); v != "" {
		return v
	}
	return CallerSystem
}

// correlationFrom returns the context's correlation id when it is a safe
// header value (printable ASCII, at most 128 bytes), a fresh one otherwise.
func correlationFrom(ctx context.Context) string {
	if v, _ := ctx.Value(correlationKey).(string); v != "" && len(v) <= 128 && printableASCII(v) {
		return v
	}
	return newNonce()
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
