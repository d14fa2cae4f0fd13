package idempotency_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zwfw/apperr"
	"zwfw/platform/idempotency"
	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Twenty concurrent copies of one request: exactly one does the work, every
// other gets its answer byte for byte (or, past the wait, a 409 to retry).
func TestConcurrentDuplicatesDoTheWorkOnce(t *testing.T) {
	s := idempotency.NewStore(testenv.DB(t), idempotency.Options{Wait: 10 * time.Second})
	ctx := context.Background()
	var work atomic.Int32
	answers := make([]string, 20)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, resp, err := s.Begin(ctx, "u1:POST /pay", "key-00000001", "fp-a")
			switch {
			case err != nil:
				answers[i] = "error " + apperr.From(err).Code
			case resp != nil:
				answers[i] = string(resp.Body)
			default:
				work.Add(1)
				time.Sleep(50 * time.Millisecond) // the work takes a while
				if err := s.Complete(ctx, c, idempotency.Response{Status: 200, ContentType: "application/json", Body: []byte(`{"order":"o-1"}`)}); err != nil {
					t.Error(err)
				}
				answers[i] = `{"order":"o-1"}`
			}
		}()
	}
	wg.Wait()
	if n := work.Load(); n != 1 {
		t.Fatalf("the work ran %d times", n)
	}
	for i, a := range answers {
		if a != `{"order":"o-1"}` {
			t.Fatalf("request %d got %q", i, a)
		}
	}
}

func TestSameKeyForAnotherRequestIsRefused(t *testing.T) {
	s := idempotency.NewStore(testenv.DB(t), idempotency.Options{})
	ctx := context.Background()
	c, _, err := s.Begin(ctx, "u1:POST /pay", "key-00000002", "fp-a")
	if err != nil || c == nil {
		t.Fatal(c, err)
	}
	if err := s.Complete(ctx, c, idempotency.Response{Status: 201, Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Begin(ctx, "u1:POST /pay", "key-00000002", "fp-b")
	if !errors.Is(err, apperr.IdempotencyReused) || apperr.KindOf(err).HTTPStatus() != 422 {
		t.Fatalf("another body under a used key: %v", err)
	}
	// Scopes do not share keys: another user's identical key is theirs.
	if c, _, err := s.Begin(ctx, "u2:POST /pay", "key-00000002", "fp-b"); err != nil || c == nil {
		t.Fatalf("another user's key: %v", err)
	}
}

func TestADuplicateOfSlowWorkIsToldToRetry(t *testing.T) {
	s := idempotency.NewStore(testenv.DB(t), idempotency.Options{Wait: 200 * time.Millisecond})
	ctx := context.Background()
	if c, _, err := s.Begin(ctx, "u1:POST /book", "key-00000003", "fp"); err != nil || c == nil {
		t.Fatal(err)
	}
	_, _, err := s.Begin(ctx, "u1:POST /book", "key-00000003", "fp")
	e := apperr.From(err)
	if !errors.Is(err, apperr.IdempotencyInFlight) || e.Kind.HTTPStatus() != 409 || e.Details["retry_after"] == nil {
		t.Fatalf("duplicate of running work: %+v", e)
	}
}

func TestReleasedAndAbandonedKeysCanBeRetried(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := idempotency.NewStore(testenv.DB(t), idempotency.Options{Lease: time.Minute, Wait: 10 * time.Millisecond, Now: clock})
	ctx := context.Background()
	// A server failure releases the key: the retry does the work.
	c, _, _ := s.Begin(ctx, "u1:POST /x", "key-00000004", "fp")
	if err := s.Release(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c2, resp, err := s.Begin(ctx, "u1:POST /x", "key-00000004", "fp"); err != nil || c2 == nil || resp != nil {
		t.Fatalf("retry after release: %v %v", resp, err)
	}
	// A claimer that died holds the key until its lease ends.
	if _, _, err := s.Begin(ctx, "u1:POST /x", "key-00000004", "fp"); !errors.Is(err, apperr.IdempotencyInFlight) {
		t.Fatalf("within the lease: %v", err)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	c3, _, err := s.Begin(ctx, "u1:POST /x", "key-00000004", "fp")
	if err != nil || c3 == nil {
		t.Fatalf("after the lease: %v", err)
	}
	// The dead claimer cannot answer over the new one.
	if err := s.Complete(ctx, c, idempotency.Response{Status: 200, Body: []byte("stale")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, c3, idempotency.Response{Status: 200, Body: []byte("fresh")}); err != nil {
		t.Fatal(err)
	}
	_, resp, _ := s.Begin(ctx, "u1:POST /x", "key-00000004", "fp")
	if resp == nil || string(resp.Body) != "fresh" {
		t.Fatalf("replayed %+v", resp)
	}
}

func TestKeysAreValidated(t *testing.T) {
	for key, ok := range map[string]bool{
		"": false, "k": true, "has space 123": false, "7c9e6679-7425-40de-944b-e07fc1f90ae7": true,
		"book_0001": true, "a/b": false, "$ne": false, string(make([]byte, 129)): false,
	} {
		if idempotency.ValidKey(key) != ok {
			t.Errorf("ValidKey(%q) = %v", key, !ok)
		}
	}
}

func TestPurgeForgetsExpiredKeys(t *testing.T) {
	s := idempotency.NewStore(testenv.DB(t), idempotency.Options{Retention: time.Hour})
	ctx := context.Background()
	c, _, _ := s.Begin(ctx, "u1:POST /x", "key-00000005", "fp")
	_ = s.Complete(ctx, c, idempotency.Response{Status: 200})
	if n, err := s.Purge(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("purged a live key: %d %v", n, err)
	}
	if n, err := s.Purge(ctx, time.Now().Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("purge after retention: %d %v", n, err)
	}
}
