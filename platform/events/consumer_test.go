package events

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"zwfw/platform/testenv"
)

// The cursor survives a restart: a new consumer with the same name resumes
// after the last acknowledged event, replaying only an event whose handling
// had not been acknowledged.
func TestCursorSurvivesRestart(t *testing.T) {
	db, l := newLog(t)
	ctx := context.Background()
	appendN(t, l, 10, "case.status_changed")

	// First life: handles 1..4, then "crashes" while handling 5 (its error
	// means 5 is not acknowledged).
	var mu sync.Mutex
	var seen []int64
	crashed := make(chan struct{})
	first := NewConsumer(db, "reminders", func(ctx context.Context, e Event) error {
		mu.Lock()
		seen = append(seen, e.Seq)
		mu.Unlock()
		if e.Seq == 5 {
			close(crashed)
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}, fastOptions("pod-1"))
	stop := runConsumer(t, first)
	<-crashed
	stop()
	if cur, _ := l.Cursor(ctx, "reminders"); cur.Seq != 4 || cur.Owner != "" {
		t.Fatalf("cursor after the first life = %+v, want seq 4 and released", cur)
	}

	// Second life, another replica.
	rec := &recorder{}
	runConsumer(t, NewConsumer(db, "reminders", rec.handle, fastOptions("pod-2")))
	waitFor(t, "rest handled", func() bool { return rec.len() >= 6 })
	if got := rec.get(); !slices.Equal(got, seqRange(5, 10)) {
		t.Fatalf("second life handled %v, want 5..10", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, seqRange(1, 5)) {
		t.Fatalf("first life handled %v, want 1..5", seen)
	}
}

func TestGapWaitsThenSkipsAfterGrace(t *testing.T) {
	tests := []struct {
		name       string
		lateWriter bool // the stalled writer inserts before the grace ends
		want       []int64
	}{
		{"late writer fills the hole", true, []int64{1, 2, 3, 4, 5}},
		{"dead writer's hole is skipped after the grace", false, []int64{1, 2, 4, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, l := newLog(t)
			ctx := context.Background()
			appendN(t, l, 2, "a")
			hole, err := l.nextSeq(ctx) // a writer takes 3 and stalls
			if err != nil || hole != 3 {
				t.Fatalf("took %d, %v", hole, err)
			}
			appendN(t, l, 2, "a") // 4 and 5 are visible before 3

			clock := &fakeClock{t: time.Now()}
			opts := fastOptions("r1")
			opts.GapGrace = time.Minute
			opts.Now = clock.Now
			rec := &recorder{}
			c := NewConsumer(db, "gap", rec.handle, opts)
			runConsumer(t, c)

			waitFor(t, "events before the hole", func() bool { return rec.len() >= 2 })
			// Let the consumer look at the hole several times: it must wait.
			polls := c.polls.Load()
			waitFor(t, "more polls", func() bool { return c.polls.Load() >= polls+5 })
			if got := rec.get(); !slices.Equal(got, []int64{1, 2}) {
				t.Fatalf("passed the hole before the grace: %v", got)
			}
			if cur, _ := l.Cursor(ctx, "gap"); cur.Seq != 2 {
				t.Fatalf("cursor moved past the hole: %d", cur.Seq)
			}

			if tc.lateWriter {
				e, _ := NewEvent("a", "case:1", "", nil)
				e.Seq, e.At = hole, utcMillis(time.Now())
				if _, err := l.events.InsertOne(ctx, e); err != nil {
					t.Fatal(err)
				}
			} else {
				clock.Advance(2 * time.Minute)
			}
			waitFor(t, "events after the hole", func() bool { return rec.len() >= len(tc.want) })
			if got := rec.get(); !slices.Equal(got, tc.want) {
				t.Fatalf("handled %v, want %v", got, tc.want)
			}
			waitFor(t, "cursor at 5", func() bool {
				cur, _ := l.Cursor(ctx, "gap")
				return cur.Seq == 5
			})
		})
	}
}

// Two replicas run the same consumer: one consumes, the other stands by and
// takes over when the first stops. No event is handled twice.
func TestSameNameOnTwoOwnersConsumesOnce(t *testing.T) {
	db, l := newLog(t)
	var mu sync.Mutex
	count := map[int64]int{}
	byOwner := map[string][]int64{}
	active := 0
	overlap := false
	handler := func(owner string) Handler {
		return func(ctx context.Context, e Event) error {
			mu.Lock()
			active++
			if active > 1 {
				overlap = true
			}
			count[e.Seq]++
			byOwner[owner] = append(byOwner[owner], e.Seq)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			active--
			mu.Unlock()
			return nil
		}
	}
	stopA := runConsumer(t, NewConsumer(db, "notify", handler("a"), fastOptions("a")))
	waitFor(t, "a leads", func() bool {
		cur, _ := l.Cursor(context.Background(), "notify")
		return cur.Owner == "a"
	})
	runConsumer(t, NewConsumer(db, "notify", handler("b"), fastOptions("b")))

	total := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(count)
	}
	appendN(t, l, 20, "booking.confirmed")
	waitFor(t, "first 20", func() bool { return total() >= 20 })
	stopA() // a replica goes away; b takes over
	appendN(t, l, 20, "booking.confirmed")
	waitFor(t, "all 40", func() bool { return total() >= 40 })

	mu.Lock()
	defer mu.Unlock()
	for seq := int64(1); seq <= 40; seq++ {
		if count[seq] != 1 {
			t.Fatalf("event %d handled %d times", seq, count[seq])
		}
	}
	if overlap {
		t.Fatal("two replicas handled events at the same time")
	}
	if !slices.Equal(byOwner["a"], seqRange(1, 20)) || !slices.Equal(byOwner["b"], seqRange(21, 40)) {
		t.Fatalf("by owner: a %v, b %v", byOwner["a"], byOwner["b"])
	}
}

func TestTypeFilter(t *testing.T) {
	db, l := newLog(t)
	ctx := context.Background()
	var want []int64
	for i := range 12 {
		typ := "case.status_changed"
		if i%3 == 0 {
			typ = "payment.succeeded"
		}
		e, _ := NewEvent(typ, "case:1", "", nil)
		seq, err := l.Append(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if typ == "payment.succeeded" {
			want = append(want, seq)
		}
	}
	appendN(t, l, 3, "booking.confirmed") // the log ends with unwanted events
	var mu sync.Mutex
	var got []Event
	opts := fastOptions("r1")
	opts.Types = []string{"payment.succeeded"}
	runConsumer(t, NewConsumer(db, "payments", func(_ context.Context, e Event) error {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
		return nil
	}, opts))
	waitFor(t, "cursor past the unwanted tail", func() bool {
		cur, _ := l.Cursor(ctx, "payments")
		return cur.Seq == 15
	})
	mu.Lock()
	defer mu.Unlock()
	var seqs []int64
	for _, e := range got {
		if e.Type != "payment.succeeded" {
			t.Fatalf("got filtered-out type %s", e.Type)
		}
		seqs = append(seqs, e.Seq)
	}
	if !slices.Equal(seqs, want) {
		t.Fatalf("handled %v, want %v", seqs, want)
	}
}

// A failing handler blocks the cursor at its event and is retried; a panic is
// an error, not a crash.
func TestHandlerErrorRetriesWithoutAdvancing(t *testing.T) {
	db, l := newLog(t)
	ctx := context.Background()
	appendN(t, l, 4, "a")
	var mu sync.Mutex
	attempts := map[int64]int{}
	var order []int64
	runConsumer(t, NewConsumer(db, "flaky", func(_ context.Context, e Event) error {
		mu.Lock()
		defer mu.Unlock()
		attempts[e.Seq]++
		switch {
		case e.Seq == 2 && attempts[2] < 3:
			return errors.New("sms gateway down")
		case e.Seq == 3 && attempts[3] == 1:
			panic("bug")
		}
		order = append(order, e.Seq)
		return nil
	}, fastOptions("r1")))
	waitFor(t, "all handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(order) == 4
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(order, []int64{1, 2, 3, 4}) || attempts[1] != 1 || attempts[2] != 3 || attempts[3] != 2 || attempts[4] != 1 {
		t.Fatalf("order %v attempts %v", order, attempts)
	}
	waitFor(t, "cursor at 4", func() bool {
		cur, _ := l.Cursor(ctx, "flaky")
		return cur.Seq == 4
	})
}

func TestRunRejectsMisconfiguration(t *testing.T) {
	db := testenv.DB(t)
	if err := NewConsumer(db, "", nil, ConsumerOptions{}).Run(context.Background()); err == nil {
		t.Fatal("Run without name and handler succeeded")
	}
}
