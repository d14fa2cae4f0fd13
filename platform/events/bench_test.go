package events

import (
	"context"
	"testing"

	"zwfw/platform/testenv"
)

// BenchmarkAppend measures sequential appends (counter $inc + insert).
func BenchmarkAppend(b *testing.B) {
	l := NewLog(testenv.DB(b))
	ctx := context.Background()
	e, err := NewEvent("booking.confirmed", "booking:1", "user:1", map[string]any{"hall": "h1", "slot": "2025-01-02T09:00"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := l.Append(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}
