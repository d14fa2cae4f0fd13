package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

type submitPayload struct {
	CaseID string `bson:"case_id"`
	Fen    int64  `bson:"fen"`
}

func TestEnqueueIdempotency(t *testing.T) {
	long := strings.Repeat("k", 500)
	tests := []struct {
		name        string
		reqs        []EnqueueRequest
		wantCreated []bool
		wantJobs    int64
	}{
		{"same key twice is one job",
			[]EnqueueRequest{{Type: "a", Key: "k1"}, {Type: "a", Key: "k1", Payload: bson.M{"other": 1}}},
			[]bool{true, false}, 1},
		{"different keys are two jobs",
			[]EnqueueRequest{{Type: "a", Key: "k1"}, {Type: "a", Key: "k2"}},
			[]bool{true, true}, 2},
		{"same key, different type are two jobs",
			[]EnqueueRequest{{Type: "a", Key: "k1"}, {Type: "b", Key: "k1"}},
			[]bool{true, true}, 2},
		{"empty key is a new job each time",
			[]EnqueueRequest{{Type: "a"}, {Type: "a"}},
			[]bool{true, true}, 2},
		{"long key is hashed and still deduplicated",
			[]EnqueueRequest{{Type: "a", Key: long}, {Type: "a", Key: long}},
			[]bool{true, false}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, q := newQueue(t)
			ctx := context.Background()
			var first Job
			for i, req := range tc.reqs {
				j, created, err := q.Enqueue(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if created != tc.wantCreated[i] {
					t.Fatalf("enqueue %d: created = %v, want %v", i, created, tc.wantCreated[i])
				}
				if i == 0 {
					first = j
				} else if !created && j.ID != first.ID {
					t.Fatalf("duplicate enqueue returned %s, want existing %s", j.ID, first.ID)
				}
				if len(j.ID) > 200 {
					t.Fatalf("id too long: %d", len(j.ID))
				}
				if j.IdempotencyKey == "" {
					t.Fatal("empty idempotency key")
				}
			}
			stats, err := q.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if stats["pending"] != tc.wantJobs {
				t.Fatalf("pending = %d, want %d (stats %v)", stats["pending"], tc.wantJobs, stats)
			}
		})
	}
}

func TestEnqueueStoresJob(t *testing.T) {
	_, q := newQueue(t)
	ctx := context.Background()
	runAt := time.Now().Add(time.Hour)
	j, created, err := q.Enqueue(ctx, EnqueueRequest{
		Type: "province.submit", Key: "case-1", RunAt: runAt, MaxAttempts: 3,
		Payload: submitPayload{CaseID: "case-1", Fen: 1250},
	})
	if err != nil || !created {
		t.Fatalf("enqueue: %v created=%v", err, created)
	}
	if j.ID != JobID("province.submit", "case-1") || j.ID != "province.submit:case-1" {
		t.Fatalf("id = %q", j.ID)
	}
	got := getJob(t, q, j.ID)
	if got.State != StatePending || got.MaxAttempts != 3 || got.Attempts != 0 || got.IdempotencyKey != "case-1" {
		t.Fatalf("stored job = %+v", got)
	}
	if !got.RunAt.Equal(utcMillis(runAt)) || got.RunAt.Location() != time.UTC {
		t.Fatalf("run_at = %v, want %v UTC", got.RunAt, utcMillis(runAt))
	}
	var p submitPayload
	if err := got.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p != (submitPayload{CaseID: "case-1", Fen: 1250}) {
		t.Fatalf("payload = %+v", p)
	}

	if _, err := q.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	if _, err := q.Retry(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retry missing: %v", err)
	}
	if _, err := q.Retry(ctx, j.ID); !errors.Is(err, ErrNotDead) {
		t.Fatalf("retry pending: %v", err)
	}
	list, err := q.List(ctx, Filter{State: StatePending, Type: "province.submit"}, 10)
	if err != nil || len(list) != 1 || list[0].ID != j.ID {
		t.Fatalf("list = %v, %v", list, err)
	}
	if list, _ := q.List(ctx, Filter{State: StateDead}, 10); len(list) != 0 {
		t.Fatalf("list dead = %v", list)
	}
	if _, _, err := q.Enqueue(ctx, EnqueueRequest{}); err == nil {
		t.Fatal("enqueue without type succeeded")
	}
	if _, _, err := q.Enqueue(ctx, EnqueueRequest{Type: "a", Payload: 42}); err == nil {
		t.Fatal("enqueue with a non-document payload succeeded")
	}
}

func TestExponentialBackoff(t *testing.T) {
	b := ExponentialBackoff(100*time.Millisecond, 2*time.Second)
	tests := []struct {
		attempts int
		ceiling  time.Duration
	}{
		{0, 100 * time.Millisecond},
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, 1600 * time.Millisecond},
		{6, 2 * time.Second},
		{60, 2 * time.Second},
	}
	for _, tc := range tests {
		for range 200 {
			if d := b(tc.attempts); d < 0 || d > tc.ceiling {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", tc.attempts, d, tc.ceiling)
			}
		}
	}
}

func TestErrorMarkers(t *testing.T) {
	base := errors.New("rejected")
	if !IsPermanent(Permanent(base)) || !errors.Is(Permanent(base), base) || IsPermanent(base) {
		t.Fatal("Permanent does not mark or unwrap")
	}
	if Permanent(nil) != nil || RetryAfter(nil, time.Second) != nil {
		t.Fatal("nil errors must stay nil")
	}
	if d, ok := retryDelay(RetryAfter(base, time.Minute)); !ok || d != time.Minute {
		t.Fatal("RetryAfter delay lost")
	}
	if got := truncate(strings.Repeat("办", 3000)); len(got) > maxErrorLen+4 || !strings.HasSuffix(got, "…") {
		t.Fatalf("truncate: len %d", len(got))
	}
}
