package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"zwfw/platform/invariants"
	"zwfw/platform/workdays"
)

// AuditStore is what the self-check reads and repairs. The repairs are
// guarded by the state read, so a booking step that runs meanwhile wins and
// the next run looks again.
type AuditStore interface {
	// SlotCountersFrom returns the counters of slots starting at or after from.
	SlotCountersFrom(ctx context.Context, from time.Time) ([]SlotCounter, error)
	// AuditBookings returns the bookings matching any part of q, reduced to
	// the fields the checks read (no timeline, no outbox).
	AuditBookings(ctx context.Context, q AuditQuery) ([]*Booking, error)
	// ActiveCounts returns the active counts of the users listed (Exists
	// false for one without a record) and of every user whose count is above
	// zero.
	ActiveCounts(ctx context.Context, userIDs []string) ([]ActiveCount, error)
	// ActiveItemKeys returns every active-item key.
	ActiveItemKeys(ctx context.Context) ([]ActiveItemKey, error)
	// NoShowRecords returns, per user listed, the ids of the bookings
	// recorded as their no-shows.
	NoShowRecords(ctx context.Context, userIDs []string) (map[string]map[string]bool, error)
	// SetSlotTaken sets the counter's taken to taken if its taken and
	// ChangedAt are still as in read; false when it changed meanwhile.
	SetSlotTaken(ctx context.Context, read SlotCounter, taken int) (bool, error)
	// InsertSlotCounter inserts a missing counter; false when one exists.
	InsertSlotCounter(ctx context.Context, c SlotCounter) (bool, error)
	// SetActiveCount sets the user's active count to active if it is still
	// as in read (creating the record when read says it did not exist);
	// false when it changed meanwhile.
	SetActiveCount(ctx context.Context, read ActiveCount, active int) (bool, error)
}

// AuditQuery selects bookings for the self-check: those confirmed (when
// Confirmed), those holding a place (not cancelled) in a slot starting at
// or after HoldingFrom (when set), no-shows whose slot ended at or after
// NoShowsFrom (when set), and those written at or after WrittenSince (when
// set).
type AuditQuery struct {
	Confirmed    bool
	HoldingFrom  time.Time
	NoShowsFrom  time.Time
	WrittenSince time.Time
}

// ActiveCount is a user's count of active bookings as stored.
type ActiveCount struct {
	UserID    string
	Active    int
	ChangedAt time.Time
	Exists    bool
}

// ActiveItemKey is the stored key that holds a user's one active booking of an item.
type ActiveItemKey struct {
	UserID, ItemCode, BookingID string
}

// Names of the booking self-checks.
const (
	CheckSlotTaken   = "booking.slot_taken"
	CheckUserActive  = "booking.user_active"
	CheckActiveItems = "booking.active_items"
	CheckNoShows     = "booking.no_shows"
)

// Invariants are the booking self-checks, for the daily job and the admin
// route. Each compares a counter with the bookings it counts and, with
// repair, sets it to what the bookings say:
//
//   - booking.slot_taken: a slot's taken equals its bookings holding a place
//     (confirmed, checked in or no-show), for slots from today on (earlier
//     slots are history: no one can book them any more);
//   - booking.user_active: a user's active count equals their confirmed bookings;
//   - booking.active_items: each active-item key names a confirmed booking
//     of that user and item, and each confirmed booking has its key;
//   - booking.no_shows: each no-show within the ban rule's window is in its
//     user's record (a missing one would let the user escape the ban).
//
// A counter is left alone while a booking step may still be running on it
// (it or a booking of its hall and item, or of its user, was written within
// staleKeyAge); drift is what a crash between the steps of Book, Cancel,
// Reschedule, CheckIn or MarkNoShows leaves behind, and it is still there
// on the next run.
func (s *Service) Invariants() []invariants.Check {
	return []invariants.Check{
		invariants.Func{CheckName: CheckSlotTaken, Fn: s.checkSlotTaken},
		invariants.Func{CheckName: CheckUserActive, Fn: s.checkUserActive},
		invariants.Func{CheckName: CheckActiveItems, Fn: s.checkActiveItems},
		invariants.Func{CheckName: CheckNoShows, Fn: s.checkNoShows},
	}
}

// settled reports whether a write at t is older than the time a booking step
// may take, as seen at now.
func settled(t, now time.Time) bool { return t.Before(now.Add(-staleKeyAge)) }

func (s *Service) checkSlotTaken(ctx context.Context, repair bool) (invariants.Result, error) {
	var res invariants.Result
	now := s.clock()
	from := workdays.DateOf(now).Start().UTC()
	// Counters first, bookings second: a step that runs in between either
	// wrote the counter (ChangedAt too recent, or the guarded repair misses)
	// or wrote a booking the second read sees.
	counters, err := s.store.SlotCountersFrom(ctx, from)
	if err != nil {
		return res, err
	}
	list, err := s.store.AuditBookings(ctx, AuditQuery{HoldingFrom: from, WrittenSince: now.Add(-staleKeyAge)})
	if err != nil {
		return res, err
	}
	holding := map[string]int{}
	first := map[string]*Booking{} // a booking of each counter id, to rebuild a missing counter
	busy := map[string]bool{}      // hall and item with a booking written just now
	for _, b := range list {
		if !settled(b.UpdatedAt, now) {
			busy[b.HallID+"\x00"+b.ItemCode] = true
		}
		if b.Status != StatusCancelled && !b.SlotStart.Before(from) {
			id := SlotCounterID(b.HallID, b.ItemCode, b.SlotStart)
			holding[id]++
			if first[id] == nil {
				first[id] = b
			}
		}
	}
	res.Examined = len(counters)
	seen := map[string]bool{}
	for _, c := range counters {
		seen[c.ID] = true
		want := holding[c.ID]
		if c.Taken == want || busy[c.HallID+"\x00"+c.ItemCode] || !settled(c.ChangedAt, now) {
			continue
		}
		f := invariants.Finding{Subject: c.ID, Problem: fmt.Sprintf("时段已占 %d 个名额，占用名额的预约有 %d 个", c.Taken, want)}
		if repair {
			ok, err := s.store.SetSlotTaken(ctx, c, want)
			if err != nil {
				return res, err
			}
			f.Repaired = ok
			f.Action = fmt.Sprintf("已占名额改为 %d", want)
			if !ok {
				f.Action = "计数器刚被修改，下次检查时再核对"
			}
			s.invalidate(ctx, c.HallID)
		}
		res.Findings = append(res.Findings, f)
	}
	for id, n := range holding {
		b := first[id]
		if seen[id] || busy[b.HallID+"\x00"+b.ItemCode] {
			continue
		}
		res.Examined++
		f := invariants.Finding{Subject: id, Problem: fmt.Sprintf("%d 个预约占用名额，但时段没有计数器", n)}
		if repair {
			c := SlotCounter{ID: id, HallID: b.HallID, ItemCode: b.ItemCode, Start: b.SlotStart, End: b.SlotEnd, Taken: n, ChangedAt: now}
			if cfg, err := s.store.HallConfig(ctx, b.HallID); err == nil {
				c.Capacity = max(cfg.Capacity(b.ItemCode), n)
			} else {
				c.Capacity = n // the hall is gone: nobody can book more here
			}
			ok, err := s.store.InsertSlotCounter(ctx, c)
			if err != nil {
				return res, err
			}
			f.Repaired = ok
			f.Action = fmt.Sprintf("已建立计数器，已占 %d，容量 %d", n, c.Capacity)
			if !ok {
				f.Action = "计数器刚被建立，下次检查时再核对"
			}
			s.invalidate(ctx, b.HallID)
		}
		res.Findings = append(res.Findings, f)
	}
	return res, nil
}

func (s *Service) checkUserActive(ctx context.Context, repair bool) (invariants.Result, error) {
	var res invariants.Result
	now := s.clock()
	// Bookings first, counts second: a step that runs in between wrote the
	// count (ChangedAt too recent, or the guarded repair misses) or a
	// booking of the user this read already saw as just written.
	list, err := s.store.AuditBookings(ctx, AuditQuery{Confirmed: true, WrittenSince: now.Add(-staleKeyAge)})
	if err != nil {
		return res, err
	}
	confirmed := map[string]int{}
	busy := map[string]bool{}
	var users []string
	for _, b := range list {
		if !settled(b.UpdatedAt, now) {
			busy[b.UserID] = true
		}
		if b.Status == StatusConfirmed {
			if confirmed[b.UserID] == 0 {
				users = append(users, b.UserID)
			}
			confirmed[b.UserID]++
		}
	}
	counts, err := s.store.ActiveCounts(ctx, users)
	if err != nil {
		return res, err
	}
	res.Examined = len(counts)
	for _, c := range counts {
		want := confirmed[c.UserID]
		if c.Active == want || busy[c.UserID] || !settled(c.ChangedAt, now) {
			continue
		}
		f := invariants.Finding{Subject: userDocID(c.UserID), Problem: fmt.Sprintf("有效预约计数为 %d，实际有效预约 %d 个", c.Active, want)}
		if repair {
			ok, err := s.store.SetActiveCount(ctx, c, want)
			if err != nil {
				return res, err
			}
			f.Repaired = ok
			f.Action = fmt.Sprintf("有效预约计数改为 %d", want)
			if !ok {
				f.Action = "计数刚被修改，下次检查时再核对"
			}
		}
		res.Findings = append(res.Findings, f)
	}
	return res, nil
}

func (s *Service) checkActiveItems(ctx context.Context, repair bool) (invariants.Result, error) {
	var res invariants.Result
	now := s.clock()
	// Bookings first, keys second: a key taken in between names a booking
	// whose id is too young to judge.
	list, err := s.store.AuditBookings(ctx, AuditQuery{Confirmed: true})
	if err != nil {
		return res, err
	}
	keys, err := s.store.ActiveItemKeys(ctx)
	if err != nil {
		return res, err
	}
	res.Examined = len(keys) + len(list)
	byID := map[string]*Booking{}
	for _, b := range list {
		byID[b.ID] = b
	}
	held := map[string]string{} // key id -> booking id, after this run's repairs
	for _, k := range keys {
		kid := activeKey(k.UserID, k.ItemCode)
		if b := byID[k.BookingID]; b != nil && activeKey(b.UserID, b.ItemCode) == kid {
			held[kid] = k.BookingID
			continue
		}
		if !settled(bookingIDTime(k.BookingID), now) {
			held[kid] = k.BookingID // a booking being made: its insert may follow
			continue
		}
		// The booking ended (cancelled, checked in, no-show) or was never
		// written: the key only keeps the user from booking the item.
		f := invariants.Finding{Subject: kid, Problem: "事项占用标记指向的预约 " + k.BookingID + " 已不是有效预约"}
		if repair {
			if err := s.store.ReleaseActiveItem(ctx, k.UserID, k.ItemCode, k.BookingID); err != nil {
				return res, err
			}
			f.Repaired, f.Action = true, "已删除占用标记"
		} else {
			held[kid] = k.BookingID
		}
		res.Findings = append(res.Findings, f)
	}
	for _, b := range list {
		kid := activeKey(b.UserID, b.ItemCode)
		holder, ok := held[kid]
		if holder == b.ID || !settled(b.UpdatedAt, now) {
			continue
		}
		if ok {
			if other := byID[holder]; other != nil {
				res.Findings = append(res.Findings, invariants.Finding{Subject: kid,
					Problem: "同一用户同一事项有两个有效预约：" + holder + "、" + b.ID, Action: "需人工核查并取消其中一个"})
			}
			continue
		}
		f := invariants.Finding{Subject: kid, Problem: "有效预约 " + b.ID + " 缺少事项占用标记"}
		if repair {
			f.Repaired, f.Action, err = s.restoreActiveItem(ctx, b)
			if err != nil {
				return res, err
			}
		}
		res.Findings = append(res.Findings, f)
	}
	return res, nil
}

// restoreActiveItem takes the active-item key back for b if b is still confirmed.
func (s *Service) restoreActiveItem(ctx context.Context, b *Booking) (bool, string, error) {
	cur, err := s.store.Booking(ctx, b.ID)
	if err != nil {
		return false, "", err
	}
	if !cur.Active() {
		return false, "预约刚结束，无需标记", nil
	}
	switch err := s.store.TakeActiveItem(ctx, b.UserID, b.ItemCode, b.ID); {
	case err == nil:
		return true, "已补上占用标记", nil
	case errors.Is(err, ErrDuplicateItem):
		return false, "占用标记刚被占用，下次检查时再核对", nil
	default:
		return false, "", err
	}
}

func (s *Service) checkNoShows(ctx context.Context, repair bool) (invariants.Result, error) {
	var res invariants.Result
	now := s.clock()
	list, err := s.store.AuditBookings(ctx, AuditQuery{NoShowsFrom: now.Add(-s.rules.NoShowWindow)})
	if err != nil {
		return res, err
	}
	var users []string
	byUser := map[string][]*Booking{}
	for _, b := range list {
		// Marked just now: its record may still be on its way.
		if b.Status != StatusNoShow || !settled(b.UpdatedAt, now) {
			continue
		}
		if byUser[b.UserID] == nil {
			users = append(users, b.UserID)
		}
		byUser[b.UserID] = append(byUser[b.UserID], b)
	}
	recorded, err := s.store.NoShowRecords(ctx, users)
	if err != nil {
		return res, err
	}
	for _, u := range users {
		res.Examined++
		var missing []*Booking
		for _, b := range byUser[u] {
			if !recorded[u][b.ID] {
				missing = append(missing, b)
			}
		}
		if len(missing) == 0 {
			continue
		}
		f := invariants.Finding{Subject: userDocID(u), Problem: fmt.Sprintf("%d 次爽约未记入爽约记录", len(missing))}
		if repair {
			for _, b := range missing {
				if err := s.store.RecordNoShow(ctx, u, b.ID, b.SlotStart); err != nil {
					return res, err
				}
			}
			f.Repaired, f.Action = true, fmt.Sprintf("已补记 %d 次爽约", len(missing))
		}
		res.Findings = append(res.Findings, f)
	}
	return res, nil
}
