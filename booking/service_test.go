package booking

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/apperr"
	"zwfw/platform/testenv"
	"zwfw/platform/workdays"
)

// Wednesday 2026-11-04, two days after the clock's start.
var (
	s0900 = at("2026-11-04", "09:00")
	s0930 = at("2026-11-04", "09:30")
	s1000 = at("2026-11-04", "10:00")
)

func TestBookAndCancel(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	b := e.mustBook("u1", "A", s0900)
	if b.Status != StatusConfirmed || !b.SlotStart.Equal(s0900) || !b.SlotEnd.Equal(s0930) || b.Version != 1 ||
		len(b.CheckInCode) != 32 || len(b.Number) != 16 || !bookingIDPattern.MatchString(b.ID) {
		t.Fatalf("%+v", b)
	}
	if got := e.remaining("A", s0900); got != 9 {
		t.Fatalf("remaining %d, want 9", got)
	}
	got, err := e.svc.Get(ctx, "u1", b.ID)
	if err != nil || got.Number != b.Number {
		t.Fatalf("get: %v %+v", err, got)
	}
	_, err = e.svc.Get(ctx, "u2", b.ID)
	wantCode(t, err, ErrNotFound)
	_, err = e.svc.Cancel(ctx, "u2", b.ID)
	wantCode(t, err, ErrNotFound)

	c, err := e.svc.Cancel(ctx, "u1", b.ID)
	if err != nil || c.Status != StatusCancelled || len(c.Timeline) != 2 {
		t.Fatalf("cancel: %v %+v", err, c)
	}
	if got := e.remaining("A", s0900); got != 10 {
		t.Fatalf("after cancel remaining %d, want 10 at once", got)
	}
	_, err = e.svc.Cancel(ctx, "u1", b.ID)
	wantCode(t, err, ErrStateConflict)

	// Past the cut-off (1 h before the start) a booking can no longer be cancelled.
	e.clock.Set(e.clock.Now().Add(time.Minute))
	b2 := e.mustBook("u1", "A", s0930)
	e.clock.Set(s0930.Add(-time.Hour))
	_, err = e.svc.Cancel(ctx, "u1", b2.ID)
	wantCode(t, err, ErrClosed)

	list, next, err := e.svc.List(ctx, "u1", "", "")
	if err != nil || len(list) != 2 || next != "" || list[0].ID != b2.ID {
		t.Fatalf("list: %v %d %q", err, len(list), next)
	}
	list, _, err = e.svc.List(ctx, "u1", StatusCancelled, "")
	if err != nil || len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("list cancelled: %v %d", err, len(list))
	}
	_, _, err = e.svc.List(ctx, "u1", "$ne", "")
	wantCode(t, err, apperr.InvalidInput)

	ev := e.eventTypes()
	if ev[EventConfirmed] != 2 || ev[EventCancelled] != 1 {
		t.Errorf("events %v", ev)
	}
	evs, _ := e.log.ReadSubject(ctx, "booking:"+b.ID, 0, 10)
	var data struct {
		UserID    string    `bson:"user_id"`
		HallID    string    `bson:"hall_id"`
		ItemCode  string    `bson:"item_code"`
		SlotStart time.Time `bson:"slot_start"`
	}
	if len(evs) != 2 || evs[0].Decode(&data) != nil || data.UserID != "u1" || data.HallID != "h1" ||
		data.ItemCode != "A" || !data.SlotStart.Equal(s0900) {
		t.Errorf("event data %+v of %d events", data, len(evs))
	}
	e.assertConsistent()
}

func TestBookRules(t *testing.T) {
	type step struct {
		user, item string
		start      time.Time
		want       *apperr.Error // nil: succeeds
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"one active booking per item", []step{
			{"u1", "A", s0900, nil},
			{"u1", "A", s1000, ErrDuplicateItem},
			{"u1", "B", s1000, nil},
		}},
		{"at most 3 active", []step{
			{"u1", "A", s0900, nil},
			{"u1", "B", s0900, nil},
			{"u1", "C", s0930, nil},
			{"u1", "D", s1000, ErrTooMany},
			{"u2", "D", s1000, nil},
		}},
		{"window", []step{
			{"u1", "A", at("2026-11-10", "09:00"), ErrNotOpen}, // 8 days ahead
			{"u1", "A", at("2026-11-09", "16:30"), nil},        // opened at 00:00 on 11-02
			{"u1", "B", at("2026-11-02", "09:00"), ErrClosed},  // starts within the hour
			{"u1", "B", at("2026-11-02", "09:30"), nil},
		}},
		{"slot must be a real slot on a working day", []step{
			{"u1", "A", at("2026-11-04", "09:10"), ErrSlotInvalid},
			{"u1", "A", at("2026-11-04", "11:30"), ErrSlotInvalid}, // lunch
			{"u1", "A", at("2026-11-07", "09:00"), ErrSlotInvalid}, // Saturday
			{"u1", "A", at("2026-11-04", "16:30"), nil},
		}},
		{"real name", []step{
			{"anon", "A", s0900, ErrRealNameRequired},
		}},
		{"full", []step{
			{"u1", "B", s0900, nil}, {"u2", "B", s0900, nil}, {"u3", "B", s0900, nil}, {"u4", "B", s0900, nil},
			{"u5", "B", s0900, ErrSlotFull},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Rules{})
			e.people.unverified["anon"] = true
			for i, s := range c.steps {
				_, err := e.book(s.user, s.item, s.start)
				if s.want == nil && err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if s.want != nil {
					wantCode(t, err, s.want)
				}
			}
			e.assertConsistent()
		})
	}
}

func TestNoShowBan(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	// Three no-shows, the last on 11-04 at 10:00.
	e.mustBook("u1", "A", s0900)
	e.mustBook("u1", "B", s0930)
	last := e.mustBook("u1", "C", s1000)
	e.clock.Set(last.SlotEnd.Add(14 * time.Minute))
	if n, err := e.svc.MarkNoShows(ctx); err != nil || n != 2 {
		t.Fatalf("within the grace: marked %d, %v; want the two earlier ones", n, err)
	}
	e.clock.Set(last.SlotEnd.Add(16 * time.Minute))
	if n, err := e.svc.MarkNoShows(ctx); err != nil || n != 1 {
		t.Fatalf("marked %d, %v", n, err)
	}
	e.assertConsistent()

	until := s1000.Add(30 * 24 * time.Hour)
	_, err := e.book("u1", "D", at("2026-11-06", "09:00"))
	wantCode(t, err, ErrBanned)
	if got := apperr.From(err).Details["until"]; got != until.In(workdays.Location).Format(time.RFC3339) {
		t.Fatalf("until %v, want %s", got, until)
	}
	// Still banned a minute before the end, free from the end on.
	e.clock.Set(until.Add(-time.Minute))
	_, err = e.book("u1", "D", at("2026-12-07", "09:00"))
	wantCode(t, err, ErrBanned)
	e.clock.Set(until)
	e.mustBook("u1", "D", at("2026-12-07", "09:00"))
	// Others were never banned.
	e.mustBook("u2", "D", at("2026-12-07", "09:00"))
}

// A double tap (the same request twice with different Idempotency-Keys, or
// a retry that slipped past the HTTP layer) reaches the service as
// concurrent calls: each action has one effect and the other calls are
// refused with a precise code.
func TestDoubleTap(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	const taps = 12
	run := func(call func() error) (won int, refused map[string]int) {
		refused = map[string]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range taps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := call()
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					won++
				} else {
					refused[apperr.From(err).Code]++
				}
			}()
		}
		wg.Wait()
		return won, refused
	}
	req := BookRequest{HallID: "h1", ItemCode: "A", SlotStart: s0900}
	won, refused := run(func() error { _, err := e.svc.Book(ctx, "u1", req); return err })
	if won != 1 || refused[ErrDuplicateItem.Code] != taps-1 {
		t.Fatalf("book: %d won, refused %v", won, refused)
	}
	list, _, err := e.svc.List(ctx, "u1", "", "")
	if err != nil || len(list) != 1 {
		t.Fatalf("%d bookings, %v", len(list), err)
	}
	id := list[0].ID
	won, refused = run(func() error { _, err := e.svc.Reschedule(ctx, "u1", id, s1000); return err })
	if won != 1 || refused[ErrStateConflict.Code] != taps-1 {
		t.Fatalf("reschedule: %d won, refused %v", won, refused)
	}
	won, refused = run(func() error { _, err := e.svc.Cancel(ctx, "u1", id); return err })
	if won != 1 || refused[ErrStateConflict.Code] != taps-1 {
		t.Fatalf("cancel: %d won, refused %v", won, refused)
	}
	if c := e.counter("A", s0900); c.Taken != 0 {
		t.Fatalf("first slot taken %d", c.Taken)
	}
	if c := e.counter("A", s1000); c.Taken != 0 {
		t.Fatalf("second slot taken %d", c.Taken)
	}
	if ev := e.eventTypes(); ev[EventConfirmed] != 1 || ev[EventRescheduled] != 1 || ev[EventCancelled] != 1 {
		t.Errorf("events %v", ev)
	}
	e.assertConsistent()
}

// 200 people race for one slot of 10 places: exactly 10 win.
func TestContentionOneSlot(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	const n = 200
	var ok, full atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.book(fmt.Sprintf("u%03d", i), "A", s0900)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrSlotFull):
				full.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 || full.Load() != n-10 {
		t.Fatalf("%d booked, %d full; want 10 and %d", ok.Load(), full.Load(), n-10)
	}
	if c := e.counter("A", s0900); c.Taken != 10 || c.Capacity != 10 {
		t.Fatalf("counter %+v", c)
	}
	confirmed, err := e.db.Collection(BookingsCollection).CountDocuments(ctx,
		bson.D{{Key: "status", Value: "confirmed"}, {Key: "slot_start", Value: s0900}})
	if err != nil || confirmed != 10 {
		t.Fatalf("%d confirmed bookings in the store, %v", confirmed, err)
	}
	e.assertConsistent()
	if got := e.remaining("A", s0900); got != 0 {
		t.Fatalf("remaining %d", got)
	}
}

// Books, cancels and reschedules race between two slots of 4 places, some on
// the same booking at once; afterwards every counter matches the bookings.
func TestContentionMixed(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	slots := []time.Time{s0900, s0930}
	const users = 30
	var wg sync.WaitGroup
	var booked, cancelled, moved atomic.Int32
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			user := fmt.Sprintf("m%02d", i)
			from, to := slots[i%2], slots[1-i%2]
			b, err := e.book(user, "B", from)
			if err != nil {
				if !errors.Is(err, ErrSlotFull) {
					t.Error(err)
				}
				return
			}
			booked.Add(1)
			expected := func(err error) {
				if err != nil && !errors.Is(err, ErrSlotFull) && !errors.Is(err, ErrStateConflict) {
					t.Error(err)
				}
			}
			switch rng.IntN(3) {
			case 0:
				_, err := e.svc.Cancel(ctx, user, b.ID)
				expected(err)
				if err == nil {
					cancelled.Add(1)
				}
			case 1:
				_, err := e.svc.Reschedule(ctx, user, b.ID, to)
				expected(err)
				if err == nil {
					moved.Add(1)
				}
			default: // cancel and reschedule the same booking at once
				var inner sync.WaitGroup
				inner.Add(2)
				go func() { defer inner.Done(); _, err := e.svc.Cancel(ctx, user, b.ID); expected(err) }()
				go func() { defer inner.Done(); _, err := e.svc.Reschedule(ctx, user, b.ID, to); expected(err) }()
				inner.Wait()
			}
		}()
	}
	wg.Wait()
	t.Logf("booked %d, cancelled %d, rescheduled %d", booked.Load(), cancelled.Load(), moved.Load())
	if booked.Load() < 8 {
		t.Fatalf("only %d bookings", booked.Load())
	}
	e.assertConsistent()
}

func TestReschedule(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	b := e.mustBook("u1", "B", s0900)
	for i := range 4 {
		e.mustBook(fmt.Sprintf("f%d", i), "B", s0930)
	}
	_, err := e.svc.Reschedule(ctx, "u1", b.ID, s0930)
	wantCode(t, err, ErrSlotFull)
	kept, _ := e.svc.Get(ctx, "u1", b.ID)
	if kept.Version != b.Version || !kept.SlotStart.Equal(s0900) || kept.Status != StatusConfirmed {
		t.Fatalf("old booking changed: %+v", kept)
	}
	if e.counter("B", s0900).Taken != 1 || e.counter("B", s0930).Taken != 4 {
		t.Fatal("counters changed by a failed reschedule")
	}
	for _, bad := range []struct {
		start time.Time
		want  *apperr.Error
	}{
		{at("2026-11-04", "09:05"), ErrSlotInvalid},
		{s0900, ErrStateConflict}, // the slot it holds
		{at("2026-11-12", "09:00"), ErrNotOpen},
	} {
		_, err := e.svc.Reschedule(ctx, "u1", b.ID, bad.start)
		wantCode(t, err, bad.want)
	}

	m, err := e.svc.Reschedule(ctx, "u1", b.ID, s1000)
	if err != nil || !m.SlotStart.Equal(s1000) || !m.SlotEnd.Equal(s1000.Add(30*time.Minute)) || m.Version != 2 {
		t.Fatalf("%v %+v", err, m)
	}
	if e.counter("B", s0900).Taken != 0 || e.counter("B", s1000).Taken != 1 {
		t.Fatal("counters not moved")
	}
	if ev := e.eventTypes(); ev[EventRescheduled] != 1 {
		t.Errorf("events %v", ev)
	}
	// After the cut-off of the current slot it can no longer move.
	e.clock.Set(s1000.Add(-30 * time.Minute))
	_, err = e.svc.Reschedule(ctx, "u1", b.ID, at("2026-11-04", "14:00"))
	wantCode(t, err, ErrClosed)
	e.assertConsistent()
}

func TestCheckIn(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	var list []*Booking
	for i := range 20 {
		start := s0900
		if i >= 10 {
			start = s0930
		}
		list = append(list, e.mustBook(fmt.Sprintf("c%02d", i), "A", start))
	}
	later := e.mustBook("c00", "B", at("2026-11-05", "09:00"))

	e.clock.Set(at("2026-11-04", "08:45"))
	_, err := e.svc.CheckIn(ctx, []string{"h2"}, list[0].CheckInCode)
	wantCode(t, err, ErrCheckInWrongHall)
	_, err = e.svc.CheckIn(ctx, []string{"h1"}, later.CheckInCode)
	wantCode(t, err, ErrCheckInWrongDay)
	_, err = e.svc.CheckIn(ctx, []string{"h1"}, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	wantCode(t, err, ErrNotFound)
	_, err = e.svc.CheckIn(ctx, []string{"h1"}, `{"$ne": null}`)
	wantCode(t, err, ErrNotFound)

	numbers := make([]int, len(list))
	var wg sync.WaitGroup
	for i, b := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := e.svc.CheckIn(ctx, []string{"h9", "h1"}, b.CheckInCode)
			if err != nil {
				t.Error(err)
				return
			}
			numbers[i] = got.QueueNumber
		}()
	}
	wg.Wait()
	sort.Ints(numbers)
	for i, n := range numbers {
		if n != i+1 {
			t.Fatalf("queue numbers %v, want 1..20", numbers)
		}
	}
	// A second scan returns the same number; the next booking of the day gets 21.
	again, err := e.svc.CheckIn(ctx, []string{"h1"}, list[3].CheckInCode)
	if err != nil || again.Status != StatusCheckedIn || again.QueueNumber == 0 {
		t.Fatalf("%v %+v", err, again)
	}
	// Checked in, the user may book the item again; the slot stays taken.
	if c := e.counter("A", s0900); c.Taken != 10 {
		t.Fatalf("taken %d", c.Taken)
	}
	e.mustBook("c00", "A", s1000)
	if ev := e.eventTypes(); ev[EventCheckedIn] != 20 {
		t.Errorf("events %v", ev)
	}
	// The booking for 11-05 is checked in on its day, after the others.
	e.clock.Set(at("2026-11-05", "08:30"))
	got, err := e.svc.CheckIn(ctx, []string{"h1"}, later.CheckInCode)
	if err != nil || got.QueueNumber != 1 {
		t.Fatalf("next day: %v %+v", err, got)
	}
	e.assertConsistent()
}

func TestMarkNoShows(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	missed := e.mustBook("u1", "A", s0900)
	came := e.mustBook("u2", "A", s0900)
	gone := e.mustBook("u3", "A", s0900)
	if _, err := e.svc.Cancel(ctx, "u3", gone.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-11-04", "09:10"))
	if _, err := e.svc.CheckIn(ctx, []string{"h1"}, came.CheckInCode); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at("2026-11-04", "09:46")) // slot end + 15 min grace passed
	if n, err := e.svc.MarkNoShows(ctx); err != nil || n != 1 {
		t.Fatalf("marked %d, %v", n, err)
	}
	b, _ := e.svc.Get(ctx, "u1", missed.ID)
	if b.Status != StatusNoShow {
		t.Fatalf("status %s", b.Status)
	}
	if n, _ := e.svc.MarkNoShows(ctx); n != 0 {
		t.Fatalf("marked again: %d", n)
	}
	// The slot stays taken by the no-show and the check-in; the item is free for u1 again.
	if c := e.counter("A", s0900); c.Taken != 2 {
		t.Fatalf("taken %d", c.Taken)
	}
	_, err := e.svc.CheckIn(ctx, []string{"h1"}, missed.CheckInCode)
	wantCode(t, err, ErrStateConflict)
	e.mustBook("u1", "A", s1000.Add(6*time.Hour))
	if ev := e.eventTypes(); ev[EventNoShow] != 1 {
		t.Errorf("events %v", ev)
	}
	shows, _ := e.store.NoShows(ctx, "u1")
	if len(shows) != 1 || !shows[0].Equal(s0900) {
		t.Fatalf("no-shows %v", shows)
	}
	e.assertConsistent()
}

// Changing the windows changes the capacity of slots already booked.
func TestHallConfigChangeCapacity(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	e.mustBook("u1", "B", s0900)
	cfg, err := e.svc.HallConfig(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Windows[1].ItemCodes = append(cfg.Windows[1].ItemCodes, "B") // B: 4 + 6
	stale := *cfg
	if _, err := e.svc.PutHallConfig(ctx, *cfg); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.PutHallConfig(ctx, stale)
	wantCode(t, err, apperr.Conflict)
	if c := e.counter("B", s0900); c.Capacity != 10 || c.Taken != 1 {
		t.Fatalf("counter %+v", c)
	}
	if got := e.remaining("B", s0900); got != 9 {
		t.Fatalf("remaining %d", got)
	}
}

// With the Redis cache, availability is cached and every change invalidates it.
func TestAvailabilityCache(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	rdb, keys := testenv.Redis(t)
	e.svc.cache = NewRedisCache(rdb, keys, time.Minute, testenv.QuietLogger())
	if got := e.remaining("A", s0900); got != 10 {
		t.Fatalf("remaining %d", got)
	}
	b := e.mustBook("u1", "A", s0900)
	if got := e.remaining("A", s0900); got != 9 {
		t.Fatalf("after book: remaining %d", got)
	}
	// A cached read is served from Redis: a counter changed behind the
	// service's back is not seen until the next invalidation.
	if err := e.store.ReleaseSlot(ctx, SlotCounterID("h1", "A", s0900), e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := e.remaining("A", s0900); got != 9 {
		t.Fatalf("cached: remaining %d", got)
	}
	if err := e.store.RawIncrement(ctx, SlotCounterID("h1", "A", s0900)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Cancel(ctx, "u1", b.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.remaining("A", s0900); got != 10 {
		t.Fatalf("after cancel: remaining %d", got)
	}
	// Losing Redis' contents costs a read, nothing else.
	if n, err := testenv.DeleteKeys(ctx, rdb, string(keys)+"*"); err != nil || n == 0 {
		t.Fatalf("flush: %d keys deleted, %v", n, err)
	}
	if err := e.store.RawIncrement(ctx, SlotCounterID("h1", "A", s0900)); err != nil {
		t.Fatal(err)
	}
	if got := e.remaining("A", s0900); got != 9 {
		t.Fatalf("after flush: remaining %d", got)
	}
}

// A process that died in the middle of a booking (after taking the user's
// active-item key and active place, and a place in the slot, before writing
// the booking) leaves them behind. The user is kept from the item only until
// the key is stale, which then goes with its active place; the slot counter
// is repaired by the self-check.
func TestCrashLeftoversHeal(t *testing.T) {
	e := newEnv(t, Rules{})
	ctx := context.Background()
	dead := newBookingID(e.clock.Now())
	if _, err := e.store.TakeActive(ctx, "u1", "A", dead, 3, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.store.TakeSlot(ctx, SlotCounter{ID: SlotCounterID("h1", "A", s0900), HallID: "h1", ItemCode: "A",
		Start: s0900, End: s0930, Capacity: 10}, e.clock.Now()); !ok || err != nil {
		t.Fatal(ok, err)
	}
	// While the leftover is fresh it could be a booking still being made.
	_, err := e.book("u1", "A", s0930)
	wantCode(t, err, ErrDuplicateItem)
	if rep := e.runChecks(true); rep.Found != 0 {
		t.Fatalf("a fresh leftover was repaired: %+v", rep)
	}

	e.clock.Set(e.clock.Now().Add(staleKeyAge + time.Minute))
	b := e.mustBook("u1", "A", s0930)
	if b.ID == dead {
		t.Fatal("the dead id was reused")
	}
	// The dead attempt's active place went with its stale key (one
	// document); its slot place is still counted, and the self-check gives
	// it back once nothing is in flight.
	if n := e.activeCount("u1"); n != 1 {
		t.Fatalf("active count %d after the stale key was cleared, want 1", n)
	}
	e.clock.Set(e.clock.Now().Add(staleKeyAge + time.Minute))
	if rep := e.runChecks(true); rep.Found != 1 || rep.Repaired != 1 {
		t.Fatalf("repairs: %+v", rep)
	}
	e.assertConsistent()
}
