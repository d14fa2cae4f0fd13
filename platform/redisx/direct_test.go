package redisx

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// sent counts what reaches the network below the hooks added before it.
type sent struct{ n atomic.Int64 }

func (h *sent) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *sent) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !handshake(cmd) {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *sent) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !handshake(cmds[0]) {
			h.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// handshake: a new connection's set-up, not a command of the test's.
func handshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth", "select", "client":
		return true
	}
	return false
}

// GET and EXISTS of the embedded Redis answer from memory, alone and in
// pipelines of nothing else, exactly as the server answers them; writes,
// mixed pipelines and a key of another type go over the network.
func TestDirectReads(t *testing.T) {
	ctx := context.Background()
	emb, err := StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	plain, err := Open(emb.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	direct, err := Open(emb.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	direct.AddHook(emb.DirectReads())
	net := &sent{}
	direct.AddHook(net)

	if err := plain.Set(ctx, "s", "值", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := plain.HSet(ctx, "h", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	// Both clients' answers as text, error included.
	say := func(cmd redis.Cmder) string {
		switch c := cmd.(type) {
		case *redis.StringCmd:
			return fmt.Sprintf("%q %v", c.Val(), c.Err())
		case *redis.IntCmd:
			return fmt.Sprintf("%d %v", c.Val(), c.Err())
		}
		return fmt.Sprint(cmd.Err())
	}
	queue := func(p redis.Pipeliner) {
		p.Get(ctx, "s")
		p.Get(ctx, "missing")
		p.Exists(ctx, "s", "h", "missing")
	}
	for _, c := range []struct {
		name  string
		run   func(rdb redis.UniversalClient) []redis.Cmder
		trips int64
	}{
		{"get", func(r redis.UniversalClient) []redis.Cmder { return []redis.Cmder{r.Get(ctx, "s")} }, 0},
		{"get missing", func(r redis.UniversalClient) []redis.Cmder { return []redis.Cmder{r.Get(ctx, "missing")} }, 0},
		{"exists", func(r redis.UniversalClient) []redis.Cmder { return []redis.Cmder{r.Exists(ctx, "s", "h", "missing")} }, 0},
		{"get of a hash", func(r redis.UniversalClient) []redis.Cmder { return []redis.Cmder{r.Get(ctx, "h")} }, 1},
		{"pipeline of reads", func(r redis.UniversalClient) []redis.Cmder {
			p := r.Pipeline()
			queue(p)
			cmds, _ := p.Exec(ctx)
			return cmds
		}, 0},
		{"pipeline with a write", func(r redis.UniversalClient) []redis.Cmder {
			p := r.Pipeline()
			queue(p)
			p.Incr(ctx, "counter")
			cmds, _ := p.Exec(ctx)
			return cmds[:3]
		}, 1},
	} {
		want := c.run(plain)
		before := net.n.Load()
		got := c.run(direct)
		if trips := net.n.Load() - before; trips != c.trips {
			t.Errorf("%s: %d round trips, want %d", c.name, trips, c.trips)
		}
		for i := range want {
			if w, g := say(want[i]), say(got[i]); w != g {
				t.Errorf("%s: command %d answered %s, the server %s", c.name, i, g, w)
			}
		}
	}
	// A pipeline's error is its first command's, as go-redis gives it.
	p := direct.Pipeline()
	p.Get(ctx, "missing")
	if _, err := p.Exec(ctx); !errors.Is(err, redis.Nil) {
		t.Fatalf("pipeline with a miss: %v", err)
	}
}
