package events

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	waitFor     = testenv.WaitFor
	quietLogger = testenv.QuietLogger
)

func newLog(t testing.TB) (*mongo.Database, *Log) {
	t.Helper()
	db := testenv.DB(t)
	l := NewLog(db)
	if err := l.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, l
}

func fastOptions(owner string) ConsumerOptions {
	return ConsumerOptions{
		Owner:         owner,
		BatchSize:     7, // small, so tests cross batch boundaries
		PollInterval:  20 * time.Millisecond,
		LeaseDuration: 10 * time.Second,
		MaxRetryDelay: 100 * time.Millisecond,
		Logger:        quietLogger(),
	}
}

// runConsumer runs c until the returned stop is called (or the test ends).
func runConsumer(t testing.TB, c *Consumer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("consumer did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// recorder is a handler that records the sequence numbers it sees.
type recorder struct {
	mu   sync.Mutex
	seqs []int64
}

func (r *recorder) handle(_ context.Context, e Event) error {
	r.mu.Lock()
	r.seqs = append(r.seqs, e.Seq)
	r.mu.Unlock()
	return nil
}

func (r *recorder) get() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.seqs...)
}

func (r *recorder) len() int { return len(r.get()) }

// fakeClock is a settable clock for the gap grace.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func appendN(t testing.TB, l *Log, n int, typ string) []int64 {
	t.Helper()
	var seqs []int64
	for range n {
		e, err := NewEvent(typ, "case:1", "user:1", map[string]any{"n": 1})
		if err != nil {
			t.Fatal(err)
		}
		seq, err := l.Append(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	return seqs
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}
