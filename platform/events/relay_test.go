package events_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/events"
	"zwfw/platform/mongox"
	"zwfw/platform/testenv"
)

// account is a stand-in aggregate: its state and the events of each change
// are one document write.
type account struct {
	ID            string `bson:"_id"`
	Balance       int    `bson:"balance"`
	Version       int64  `bson:"version"`
	events.Outbox `bson:",inline"`
}

type deposited struct {
	Amount  int `bson:"amount"`
	Balance int `bson:"balance"`
}

func deposit(t *testing.T, ctx context.Context, coll *mongox.Collection, id string, amount int) {
	t.Helper()
	for {
		var a account
		err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&a)
		if mongox.IsNoDocuments(err) {
			a = account{ID: id}
		} else if err != nil {
			t.Fatal(err)
		}
		prev := a.Version
		a.Balance += amount
		a.Version++
		a.Emit(events.MustPending(fmt.Sprintf("account:%s:v%d", id, a.Version), "account.deposited", "account:"+id, "test",
			deposited{Amount: amount, Balance: a.Balance}, time.Now()))
		if prev == 0 {
			if _, err := coll.InsertOne(ctx, a); err == nil {
				return
			} else if !mongox.IsDuplicateKey(err) {
				t.Fatal(err)
			}
			continue
		}
		err = coll.ReplaceIfVersion(ctx, id, prev, a)
		if err == nil {
			return
		}
		if err.Error() != "STATE_CONFLICT: 数据已被修改，请刷新后重试" {
			t.Fatal(err)
		}
	}
}

func loggedOf(t *testing.T, l *events.Log, subject string) []events.Event {
	t.Helper()
	got, err := l.ReadSubject(context.Background(), subject, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// State and events are one write: events left in documents by a process
// that died before relaying them reach the log once, in order, after the
// next start's sweep, and the outboxes are emptied.
func TestRelayMovesEventsLeftInDocumentsToTheLogOnce(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	l := events.NewLog(db)
	if err := l.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	coll := mongox.C(db, "accounts")
	// "Crash": nobody relays while these writes happen.
	for i := 1; i <= 3; i++ {
		deposit(t, ctx, coll, "a1", i*100)
	}
	_ = mongox.OutboxFor(db).Take()
	if n := len(loggedOf(t, l, "account:a1")); n != 0 {
		t.Fatalf("events reached the log without a relay: %d", n)
	}

	// Two replicas start and sweep at the same time.
	r1 := events.NewRelay(l, []string{"accounts"}, events.RelayOptions{})
	r2 := events.NewRelay(l, []string{"accounts"}, events.RelayOptions{})
	if err := r1.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, r := range []*events.Relay{r1, r2} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = r.Sweep(ctx) }()
	}
	wg.Wait()
	// A claim held by the other replica defers, never duplicates: sweep again.
	if err := r1.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	got := loggedOf(t, l, "account:a1")
	if len(got) != 3 {
		t.Fatalf("want 3 events in the log, got %d", len(got))
	}
	for i, e := range got {
		var d deposited
		if err := e.Decode(&d); err != nil {
			t.Fatal(err)
		}
		if want := (i + 1) * 100; d.Amount != want || e.ID != fmt.Sprintf("account:a1:v%d", i+1) {
			t.Fatalf("event %d: %+v %q, want amount %d in write order", i, d, e.ID, want)
		}
	}
	var a account
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "a1"}}).Decode(&a); err != nil {
		t.Fatal(err)
	}
	if len(a.Pending) != 0 || a.Balance != 600 {
		t.Fatalf("after relaying: outbox %d, balance %d", len(a.Pending), a.Balance)
	}

	// An outbox that still holds an event already in the log (a crash after
	// the append, before the clear; or a stale replace that wrote it back)
	// does not append it again.
	again := events.MustPending("account:a1:v2", "account.deposited", "account:a1", "test", deposited{Amount: 200}, time.Now())
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "a1"}}, bson.D{events.Push(again)}); err != nil {
		t.Fatal(err)
	}
	if n, err := r2.Flush(ctx, "accounts", "a1"); err != nil || n != 0 {
		t.Fatalf("re-relaying appended %d (%v)", n, err)
	}
	if n := len(loggedOf(t, l, "account:a1")); n != 3 {
		t.Fatalf("a replayed outbox entry changed the log to %d events", n)
	}
}

// A running relay is woken by the write itself: no sweep needed.
func TestRelayIsWokenByTheWriteThatStoresEvents(t *testing.T) {
	db := testenv.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := events.NewLog(db)
	r := events.NewRelay(l, []string{"accounts"}, events.RelayOptions{SweepEvery: time.Hour})
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	coll := mongox.C(db, "accounts")
	for i := 0; i < 5; i++ {
		deposit(t, ctx, coll, "w1", 10)
	}
	testenv.WaitFor(t, "5 events relayed", func() bool { return len(loggedOf(t, l, "account:w1")) == 5 })
	cancel()
	<-done
}

// Concurrent writers on one aggregate: every change's event reaches the log
// exactly once, and the balance each event carries is the state it was written with.
func TestEveryConcurrentChangeEmitsItsEventOnce(t *testing.T) {
	db := testenv.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := events.NewLog(db)
	r := events.NewRelay(l, []string{"accounts"}, events.RelayOptions{SweepEvery: 200 * time.Millisecond, SettleAfter: time.Millisecond})
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	coll := mongox.C(db, "accounts")
	deposit(t, ctx, coll, "c1", 1)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				deposit(t, ctx, coll, "c1", 1)
			}
		}()
	}
	wg.Wait()
	testenv.WaitFor(t, "41 events relayed", func() bool { return len(loggedOf(t, l, "account:c1")) >= 41 })
	got := loggedOf(t, l, "account:c1")
	seen := map[int]bool{}
	for _, e := range got {
		var d deposited
		if err := e.Decode(&d); err != nil {
			t.Fatal(err)
		}
		if seen[d.Balance] {
			t.Fatalf("balance %d emitted twice", d.Balance)
		}
		seen[d.Balance] = true
	}
	if len(got) != 41 {
		t.Fatalf("want 41 events, got %d", len(got))
	}
	cancel()
	<-done
}
