package redisx

import (
	"context"
	"errors"
	"testing"
)

// A dead Redis is detected and then skipped without touching the network.
func TestBreakerFailsFastWhenRedisIsDown(t *testing.T) {
	c, err := Open("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := c.Get(ctx, "k").Err(); err == nil || errors.Is(err, ErrUnavailable) {
			t.Fatalf("call %d: %v, want a connection error", i, err)
		}
	}
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after 3 failures: %v, want ErrUnavailable", err)
	}
}

// Missing keys and server-side error replies are answers, not outages.
func TestBreakerIgnoresAnswers(t *testing.T) {
	e, err := StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c, err := Open(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	c.Set(ctx, "s", "x", 0)
	for i := 0; i < 5; i++ {
		c.Get(ctx, "missing")
		c.Incr(ctx, "s") // WRONGTYPE-style error reply
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("breaker opened on answers: %v", err)
	}
}
