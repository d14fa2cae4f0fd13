package booking

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/apperr"
	"zwfw/platform/events"
	"zwfw/platform/invariants"
	"zwfw/platform/testenv"
	"zwfw/platform/workdays"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fakeClock is the injected clock; tests move it, never sleep on it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// people is a fake identity: everyone is verified except those listed.
type people struct {
	mu         sync.Mutex
	unverified map[string]bool
}

func (p *people) RealNameVerified(_ context.Context, userID string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.unverified[userID], nil
}

type env struct {
	t      testing.TB
	db     *mongo.Database
	store  *MongoStore
	svc    *Service
	clock  *fakeClock
	people *people
	log    *events.Log
	relay  *events.Relay // not running: tests sweep it when they read the log
	cal    *workdays.Calendar
}

// at is a wall time in Asia/Shanghai.
func at(date string, clock string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, workdays.Location)
	if err != nil {
		panic(err)
	}
	return t
}

// The test hall: item A is served by two windows (4 + 6 = 10 places a
// slot), B, C and D by one (4 places).
func testHall() HallConfig {
	return HallConfig{
		ID: "h1", Name: "市民中心", Address: "中山路 1 号", Phone: "0571-12345678", Hours: "工作日 9:00-17:00",
		Windows: []Window{
			{ID: "w1", Name: "1 号窗口", ItemCodes: []string{"A", "B", "C", "D"}, PerSlotCapacity: 4},
			{ID: "w2", Name: "2 号窗口", ItemCodes: []string{"A"}, PerSlotCapacity: 6},
		},
	}
}

// newEnv builds a service on a fresh database with the test hall, the clock
// at Monday 2026-11-02 08:00.
func newEnv(t testing.TB, rules Rules) *env {
	t.Helper()
	ctx := context.Background()
	db := testenv.DB(t)
	store := NewMongoStore(db)
	if err := store.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	cal, err := workdays.NewCalendar(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, store: store, clock: &fakeClock{t: at("2026-11-02", "08:00")},
		people: &people{unverified: map[string]bool{}}, log: events.NewLog(db), cal: cal}
	e.relay = events.NewRelay(e.log, []string{BookingsCollection}, events.RelayOptions{Logger: testenv.QuietLogger()})
	e.svc = NewService(Deps{Store: store, Calendar: cal, People: e.people, Rules: rules,
		Now: e.clock.Now, Logger: testenv.QuietLogger()})
	if _, err := e.svc.PutHallConfig(ctx, testHall()); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) book(user, item string, start time.Time) (*Booking, error) {
	return e.svc.Book(context.Background(), user, BookRequest{HallID: "h1", ItemCode: item, SlotStart: start})
}

func (e *env) mustBook(user, item string, start time.Time) *Booking {
	e.t.Helper()
	b, err := e.book(user, item, start)
	if err != nil {
		e.t.Fatalf("book %s %s %s: %v", user, item, start, err)
	}
	return b
}

func (e *env) counter(item string, start time.Time) SlotCounter {
	e.t.Helper()
	cs, err := e.store.SlotCounters(context.Background(), []string{SlotCounterID("h1", item, start)})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(cs) == 0 {
		return SlotCounter{}
	}
	return cs[0]
}

func (e *env) remaining(item string, start time.Time) int {
	e.t.Helper()
	views, err := e.svc.Slots(context.Background(), "h1", item, workdays.DateOf(start), 1)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, v := range views {
		if v.Start.Equal(start) {
			return v.Remaining
		}
	}
	e.t.Fatalf("no slot at %s", start)
	return 0
}

func wantCode(t testing.TB, err error, want *apperr.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %s", err, want.Code)
	}
}

// assertConsistent recomputes every counter from the bookings and compares:
// a slot's taken = bookings holding a place in it (confirmed, checked in,
// no-show); a user's active count and active-item keys = their confirmed
// bookings.
// activeCount is the user's active count as stored.
func (e *env) activeCount(user string) int {
	e.t.Helper()
	var u userDoc
	if err := e.db.Collection(UsersCollection).FindOne(context.Background(), byID(userDocID(user))).Decode(&u); err != nil {
		e.t.Fatal(err)
	}
	return u.Active
}

func (e *env) assertConsistent() {
	e.t.Helper()
	ctx := context.Background()
	var all []Booking
	cur, err := e.db.Collection(BookingsCollection).Find(ctx, bson.D{})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cur.All(ctx, &all); err != nil {
		e.t.Fatal(err)
	}
	holding := map[string]int{}
	active := map[string]int{}
	keys := map[string]string{}
	for _, b := range all {
		if b.Status != StatusCancelled {
			holding[SlotCounterID(b.HallID, b.ItemCode, b.SlotStart)]++
		}
		if b.Status == StatusConfirmed {
			active[b.UserID]++
			if prev, dup := keys[activeKey(b.UserID, b.ItemCode)]; dup {
				e.t.Errorf("user %s holds two confirmed bookings of %s: %s, %s", b.UserID, b.ItemCode, prev, b.ID)
			}
			keys[activeKey(b.UserID, b.ItemCode)] = b.ID
		}
	}
	var counters []SlotCounter
	cur, err = e.db.Collection(SlotCountersCollection).Find(ctx, bson.D{})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cur.All(ctx, &counters); err != nil {
		e.t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range counters {
		seen[c.ID] = true
		if c.Taken != holding[c.ID] {
			e.t.Errorf("%s: taken %d, bookings holding a place %d", c.ID, c.Taken, holding[c.ID])
		}
		if c.Taken > c.Capacity {
			e.t.Errorf("%s: taken %d over capacity %d", c.ID, c.Taken, c.Capacity)
		}
	}
	for id, n := range holding {
		if !seen[id] && n > 0 {
			e.t.Errorf("%s: %d bookings but no counter", id, n)
		}
	}
	var users []userDoc
	cur, err = e.db.Collection(UsersCollection).Find(ctx, bson.D{})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cur.All(ctx, &users); err != nil {
		e.t.Fatal(err)
	}
	for _, u := range users {
		if want := active[u.ID[len("user:"):]]; u.Active != want {
			e.t.Errorf("%s: active %d, confirmed bookings %d", u.ID, u.Active, want)
		}
	}
	activeKeys := 0
	for _, u := range users {
		for name, id := range u.Items {
			activeKeys++
			k := activeKey(strings.TrimPrefix(u.ID, "user:"), itemCodeOf(name))
			if keys[k] != id {
				e.t.Errorf("%s names %s, confirmed booking is %q", k, id, keys[k])
			}
		}
	}
	if activeKeys != len(keys) {
		e.t.Errorf("%d active-item keys, %d confirmed (user, item) pairs", activeKeys, len(keys))
	}
}

// eventTypes relays the bookings' outboxes and counts the events in the log by type.
func (e *env) eventTypes() map[string]int {
	e.t.Helper()
	if err := e.relay.Sweep(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	list, err := e.log.ReadAfter(context.Background(), 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]int{}
	for _, ev := range list {
		m[ev.Type]++
	}
	return m
}

// runChecks runs the booking self-checks at the injected clock; a check that
// fails to run fails the test.
func (e *env) runChecks(repair bool) invariants.Report {
	e.t.Helper()
	rep := invariants.Run(context.Background(), e.svc.Invariants(), repair, e.clock.Now)
	for _, r := range rep.Results {
		if r.Error != "" {
			e.t.Fatalf("%s: %s", r.Check, r.Error)
		}
	}
	return rep
}
