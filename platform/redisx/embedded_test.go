package redisx_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"zwfw/platform/redisx"
	"zwfw/platform/testenv"
)

// A key set to expire on the embedded Redis expires with the wall clock
// (miniredis itself moves TTLs only when told to).
func TestEmbeddedKeysExpire(t *testing.T) {
	e, err := redisx.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := redis.NewClient(&redis.Options{Addr: e.Addr()})
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "code", "123456", time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "kept", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the key with a TTL to expire", func() bool {
		return c.Exists(ctx, "code").Val() == 0
	})
	if c.Exists(ctx, "kept").Val() != 1 {
		t.Fatal("a key without a TTL expired")
	}
}
