package testenv

import (
	"log/slog"
	"os"
	"testing"
	"time"
)

// WaitFor polls cond until it holds or a generous timeout passes: tests wait
// for outcomes, never for a fixed time, and never assert on elapsed time.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// QuietLogger logs errors only, to stderr, so test output shows what went wrong and nothing else.
func QuietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
