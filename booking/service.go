package booking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"zwfw/apperr"
	"zwfw/platform/workdays"
)

// People tells whether a user has passed real-name verification (implemented over identity).
type People interface {
	RealNameVerified(ctx context.Context, userID string) (bool, error)
}

// AvailabilityCache caches slot availability (e.g. in Redis, with a short
// TTL). It is only a read cache: capacity is always decided by MongoDB, and
// every change to a hall's counters or configuration invalidates the hall.
// Implementations swallow their own errors (a miss is always safe).
type AvailabilityCache interface {
	Get(ctx context.Context, hallID, itemCode string, from workdays.Date, days int) ([]SlotView, bool)
	Put(ctx context.Context, hallID, itemCode string, from workdays.Date, days int, views []SlotView)
	Invalidate(ctx context.Context, hallID string)
}

// MaxSlotDays bounds the range of one Slots call.
const MaxSlotDays = 14

// Deps are the collaborators of a Service. Store, Calendar and People are
// required; Cache may be nil.
type Deps struct {
	Store    Store
	Calendar *workdays.Calendar
	People   People
	Cache    AvailabilityCache
	// Halls keeps hall configurations near; nil: one of this process's
	// own (NewHallCache), which no other replica tells of its changes.
	Halls  *HallCache
	Rules  Rules
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is the booking business API, called by the HTTP handlers (citizen,
// staff and admin routes) and by a periodic no-show job.
type Service struct {
	store  Store
	cal    *workdays.Calendar
	people People
	cache  AvailabilityCache
	halls  *HallCache
	rules  Rules
	now    func() time.Time
	log    *slog.Logger

	drawNumber func(at time.Time) string // newNumber; tests force a clash
}

// NewService builds the booking service; zero Rules fields take DefaultRules.
func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Halls == nil {
		d.Halls = NewHallCache(0)
	}
	return &Service{store: d.Store, cal: d.Calendar, people: d.People, cache: d.Cache, halls: d.Halls,
		rules: d.Rules.withDefaults(), now: d.Now, log: d.Logger, drawNumber: newNumber}
}

// Rules returns the rules in force (defaults filled in).
func (s *Service) Rules() Rules { return s.rules }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// SlotView is one slot as the app shows it.
type SlotView struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Capacity  int       `json:"capacity"`
	Remaining int       `json:"remaining"`
	// Bookable: places remain and the booking window is open now.
	Bookable bool `json:"bookable"`
}

// OpensAt is when a slot starting at start can first be booked: 00:00
// Asia/Shanghai, DaysAhead days before its date.
func (s *Service) OpensAt(start time.Time) time.Time {
	return workdays.DateOf(start).AddDays(-s.rules.DaysAhead).Start().UTC()
}

// ClosesAt is when booking, cancelling and rescheduling a slot end.
func (s *Service) ClosesAt(start time.Time) time.Time { return start.Add(-s.rules.CloseBefore) }

// checkWindow returns BOOKING_NOT_OPEN or BOOKING_CLOSED outside the booking window.
func (s *Service) checkWindow(start, now time.Time) error {
	if opens := s.OpensAt(start); now.Before(opens) {
		return ErrNotOpen.WithDetail("opens_at", opens.In(loc()).Format(time.RFC3339))
	}
	if !now.Before(s.ClosesAt(start)) {
		return ErrClosed
	}
	return nil
}

// Slots lists the slots of hallID for itemCode on days days from from
// (1..14), with capacity and places remaining; one counter read for the range.
// Anyone may call it.
//
// Returns REQUEST_INVALID, BOOKING_HALL_NOT_FOUND, BOOKING_ITEM_NOT_SERVED.
func (s *Service) Slots(ctx context.Context, hallID, itemCode string, from workdays.Date, days int) ([]SlotView, error) {
	if days < 1 || days > MaxSlotDays || from.IsZero() {
		return nil, apperr.InvalidInput.WithFields(apperr.Field("days", "OUT_OF_RANGE", "一次最多查询 14 天"))
	}
	cfg, err := s.halls.get(ctx, hallID, s.store.HallConfig)
	if err != nil {
		return nil, err
	}
	capacity := cfg.Capacity(itemCode)
	if capacity == 0 {
		return nil, ErrItemNotServed
	}
	views, ok := []SlotView(nil), false
	if s.cache != nil {
		views, ok = s.cache.Get(ctx, hallID, itemCode, from, days)
	}
	if !ok {
		var slots []Slot
		for i := range days {
			slots = append(slots, cfg.DaySlots(s.cal, from.AddDays(i))...)
		}
		ids := make([]string, len(slots))
		for i, sl := range slots {
			ids[i] = SlotCounterID(hallID, itemCode, sl.Start)
		}
		counters, err := s.store.SlotCounters(ctx, ids)
		if err != nil {
			return nil, err
		}
		byID := make(map[string]SlotCounter, len(counters))
		for _, c := range counters {
			byID[c.ID] = c
		}
		views = make([]SlotView, len(slots))
		for i, sl := range slots {
			v := SlotView{Start: sl.Start, End: sl.End, Capacity: capacity, Remaining: capacity}
			if c, ok := byID[ids[i]]; ok {
				v.Capacity, v.Remaining = c.Capacity, max(0, c.Capacity-c.Taken)
			}
			views[i] = v
		}
		if s.cache != nil {
			s.cache.Put(ctx, hallID, itemCode, from, days, views)
		}
	}
	now := s.clock()
	for i := range views {
		views[i].Bookable = views[i].Remaining > 0 && s.checkWindow(views[i].Start, now) == nil
	}
	return views, nil
}

// BookRequest is what a phone sends to book a slot.
type BookRequest struct {
	HallID    string
	ItemCode  string
	SlotStart time.Time
	CaseID    string // optional: the application the visit is for
}

var refPattern = regexp.MustCompile(`^[A-Za-z0-9_\-.]{1,64}$`)

// Book reserves a place for a real-name-verified user. Every call that
// succeeds books once: a phone's retry is answered before it reaches here
// (the HTTP layer's Idempotency-Key), and a second tap with another key is
// refused by the one-active-booking-per-item rule.
//
// Returns REQUEST_INVALID, BOOKING_REALNAME_REQUIRED, BOOKING_BANNED (with
// details.until), BOOKING_HALL_NOT_FOUND, BOOKING_ITEM_NOT_SERVED,
// BOOKING_SLOT_INVALID, BOOKING_NOT_OPEN, BOOKING_CLOSED,
// BOOKING_DUPLICATE_ITEM, BOOKING_TOO_MANY, BOOKING_SLOT_FULL.
func (s *Service) Book(ctx context.Context, userID string, req BookRequest) (*Booking, error) {
	var fields []apperr.FieldError
	if userID == "" || strings.Contains(userID, ":") {
		fields = append(fields, apperr.Field("user_id", "INVALID", "用户标识有误"))
	}
	if !refPattern.MatchString(req.HallID) {
		fields = append(fields, apperr.Field("hall_id", "INVALID", "请选择大厅"))
	}
	if !refPattern.MatchString(req.ItemCode) {
		fields = append(fields, apperr.Field("item_code", "INVALID", "请选择事项"))
	}
	if req.SlotStart.IsZero() {
		fields = append(fields, apperr.Field("slot_start", "REQUIRED", "请选择时段"))
	}
	if req.CaseID != "" && !refPattern.MatchString(req.CaseID) {
		fields = append(fields, apperr.Field("case_id", "INVALID", "办件编号有误"))
	}
	if len(fields) > 0 {
		return nil, apperr.InvalidInput.WithFields(fields...)
	}
	req.SlotStart = req.SlotStart.UTC().Truncate(time.Millisecond)
	now := s.clock()
	return s.book(ctx, userID, newBookingID(now), req, now)
}

// book runs the steps of a booking in a fixed order, undoing the done steps
// in reverse when a later one fails.
func (s *Service) book(ctx context.Context, userID, id string, req BookRequest, now time.Time) (_ *Booking, err error) {
	ok, err := s.people.RealNameVerified(ctx, userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrRealNameRequired
	}
	// The no-show ban is read from the user's document by the write that
	// takes an active place (step 2: one store call instead of a read and
	// a write); a refusal before that reads it first, so that a banned
	// user is told of the ban whatever else is wrong.
	refuse := func(e error) error {
		if berr := s.checkBan(ctx, userID, now); berr != nil {
			return berr
		}
		return e
	}
	cfg, err := s.halls.get(ctx, req.HallID, s.store.HallConfig)
	if err != nil {
		return nil, refuse(err)
	}
	capacity := cfg.Capacity(req.ItemCode)
	if capacity == 0 {
		return nil, refuse(ErrItemNotServed)
	}
	slot, found := cfg.slotAt(s.cal, req.SlotStart)
	if !found {
		return nil, refuse(ErrSlotInvalid)
	}
	if err := s.checkWindow(slot.Start, now); err != nil {
		return nil, refuse(err)
	}

	var undo []func(context.Context) error
	defer func() {
		if err == nil {
			return
		}
		uctx := context.WithoutCancel(ctx)
		for i := len(undo) - 1; i >= 0; i-- {
			if uerr := undo[i](uctx); uerr != nil {
				s.log.Error("booking: compensation failed; counters need reconciliation",
					"booking_id", id, "user_id", userID, "err", uerr)
			}
		}
	}()
	// 1. One active booking per person per item, at most MaxActive active
	// bookings per person (one write of the user's document), and no ban.
	noShows, err := s.takeActive(ctx, userID, req.ItemCode, id, now)
	if errors.Is(err, ErrTooMany) {
		return nil, refuse(ErrTooMany.WithDetail("max_active", s.rules.MaxActive))
	}
	if err != nil {
		return nil, refuse(err)
	}
	undo = append(undo, func(c context.Context) error { return s.store.ReleaseActive(c, userID, req.ItemCode, id, s.clock()) })
	if err := s.banned(noShows, now); err != nil {
		return nil, err
	}
	// 2. A place in the slot.
	counter := SlotCounter{ID: SlotCounterID(req.HallID, req.ItemCode, slot.Start), HallID: req.HallID,
		ItemCode: req.ItemCode, Start: slot.Start, End: slot.End, Capacity: capacity}
	ok, err = s.store.TakeSlotFirstTry(ctx, counter, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrSlotFull
	}
	undo = append(undo, func(c context.Context) error {
		defer s.invalidate(c, req.HallID)
		return s.store.ReleaseSlot(c, counter.ID, s.clock())
	})
	// 3. The booking itself, with its event: the commit point.
	b := &Booking{
		ID: id, UserID: userID, HallID: req.HallID, ItemCode: req.ItemCode, CaseID: req.CaseID,
		SlotStart: slot.Start, SlotEnd: slot.End, Status: StatusConfirmed, CheckInCode: newCheckInCode(),
		Version: 1, CreatedAt: now, UpdatedAt: now,
		Timeline: []Entry{{At: now, Status: StatusConfirmed, Actor: "user", Note: "预约成功", SlotStart: slot.Start}},
	}
	for attempt := 0; ; attempt++ {
		b.Number = s.drawNumber(now)
		b.Pending = nil
		b.emit(EventConfirmed, Confirmed{b.details()}, now) // names the number stored
		err = s.store.CreateBooking(ctx, b)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNumberTaken) || attempt >= 4 {
			return nil, err
		}
	}
	s.invalidate(ctx, req.HallID)
	return b, nil
}

// staleKeyAge is how old an active-item key naming a booking that does not
// exist must be before it is taken for the leftover of a crashed attempt. It
// is also how long the self-check leaves a counter alone after a write that
// touched it: a booking step in flight finishes within it.
const staleKeyAge = 5 * time.Minute

// takeActive takes the user's active-item key and an active place. A key
// left behind by a crash (its booking is no longer confirmed, or was never
// written) is cleared and the take tried again.
func (s *Service) takeActive(ctx context.Context, userID, itemCode, id string, now time.Time) ([]time.Time, error) {
	noShows, err := s.store.TakeActive(ctx, userID, itemCode, id, s.rules.MaxActive, now)
	if !errors.Is(err, ErrDuplicateItem) {
		return noShows, err
	}
	holder, found, herr := s.store.ActiveItemHolder(ctx, userID, itemCode)
	if herr != nil || !found || holder == id {
		return nil, err
	}
	b, berr := s.store.Booking(ctx, holder)
	stale := false
	switch {
	case berr == nil:
		stale = !b.Active()
	case errors.Is(berr, ErrNotFound):
		// The key was written by an attempt whose booking never appeared.
		stale = now.Sub(bookingIDTime(holder)) > staleKeyAge
	}
	if !stale {
		return nil, err
	}
	s.log.Warn("booking: clearing a stale active-item key", "user_id", userID, "item_code", itemCode, "holder", holder)
	var release error
	if berr != nil {
		// The crashed attempt's place was taken with its key and never
		// given back by a booking's end: it goes with the key.
		release = s.store.ReleaseActive(ctx, userID, itemCode, holder, now)
	} else {
		release = s.store.ReleaseActiveItem(ctx, userID, itemCode, holder)
	}
	if release != nil {
		return nil, release
	}
	return s.store.TakeActive(ctx, userID, itemCode, id, s.rules.MaxActive, now)
}

// bookingIDTime reads the creation time out of a booking id.
func bookingIDTime(id string) time.Time {
	var ms int64
	if _, err := fmt.Sscanf(strings.TrimPrefix(id, "b_"), "%12x", &ms); err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// checkBan returns BOOKING_BANNED (details.until, RFC 3339) while the no-show rule bans the user.
func (s *Service) checkBan(ctx context.Context, userID string, now time.Time) error {
	list, err := s.store.NoShows(ctx, userID)
	if err != nil {
		return err
	}
	return s.banned(list, now)
}

// banned refuses a user whose no-shows (slot starts) ban them at now.
func (s *Service) banned(noShows []time.Time, now time.Time) error {
	if until := s.rules.BanUntil(noShows); now.Before(until) {
		return ErrBanned.WithDetail("until", until.In(loc()).Format(time.RFC3339))
	}
	return nil
}

// BanUntil returns when the user's no-show ban ends (zero when not banned now).
func (s *Service) BanUntil(ctx context.Context, userID string) (time.Time, error) {
	list, err := s.store.NoShows(ctx, userID)
	if err != nil {
		return time.Time{}, err
	}
	until := s.rules.BanUntil(list)
	if !s.clock().Before(until) {
		return time.Time{}, nil
	}
	return until, nil
}

// Get returns one of the user's bookings. Returns BOOKING_NOT_FOUND for a
// booking that does not exist or is not the user's (no difference is shown).
func (s *Service) Get(ctx context.Context, userID, id string) (*Booking, error) {
	b, err := s.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.UserID != userID {
		return nil, ErrNotFound
	}
	return b, nil
}

// NoShows counts the user's recorded no-shows (system use: reminders).
func (s *Service) NoShows(ctx context.Context, userID string) (int, error) {
	list, err := s.store.NoShows(ctx, userID)
	return len(list), err
}

// ByID returns any booking, for system use (reminders re-reading a
// booking before they go out). Returns BOOKING_NOT_FOUND.
func (s *Service) ByID(ctx context.Context, id string) (*Booking, error) {
	if !bookingIDPattern.MatchString(id) {
		return nil, ErrNotFound
	}
	return s.store.Booking(ctx, id)
}

// ListPageSize is the page size of List.
const ListPageSize = 20

// List returns the user's bookings newest first, optionally of one status,
// ListPageSize at a time; pass the returned cursor ("" at the end) for the
// next page. Returns REQUEST_INVALID for a bad status or cursor.
func (s *Service) List(ctx context.Context, userID string, status Status, cursor string) ([]*Booking, string, error) {
	var fields []apperr.FieldError
	if status != "" && !status.Valid() {
		fields = append(fields, apperr.Field("status", "STATUS_INVALID", "预约状态不正确"))
	}
	if cursor != "" && !bookingIDPattern.MatchString(cursor) {
		fields = append(fields, apperr.Field("cursor", "CURSOR_INVALID", "分页游标无效"))
	}
	if len(fields) > 0 {
		return nil, "", apperr.InvalidInput.WithFields(fields...)
	}
	list, err := s.store.ListByUser(ctx, userID, status, cursor, ListPageSize+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(list) > ListPageSize {
		list = list[:ListPageSize]
		next = list[ListPageSize-1].ID
	}
	return list, next, nil
}

// Cancel cancels one of the user's confirmed bookings until CloseBefore
// before its slot; the place returns to the slot at once.
//
// Returns BOOKING_NOT_FOUND, BOOKING_STATE_CONFLICT, BOOKING_CLOSED.
func (s *Service) Cancel(ctx context.Context, userID, id string) (*Booking, error) {
	if _, err := s.Get(ctx, userID, id); err != nil {
		return nil, err
	}
	now := s.clock()
	b, err := s.update(ctx, id, func(b *Booking) error {
		if b.Status != StatusConfirmed {
			return ErrStateConflict.WithDetail("status", string(b.Status))
		}
		if !now.Before(s.ClosesAt(b.SlotStart)) {
			return ErrClosed.WithMessage("已过取消截止时间，不能取消")
		}
		if err := b.cancel(now, "user"); err != nil {
			return err
		}
		b.emit(EventCancelled, Cancelled{b.details()}, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The booking is cancelled (the commit point); now give everything back.
	s.release(context.WithoutCancel(ctx), b, true)
	return b, nil
}

// release gives back what an active booking held: its place in the slot
// (when slot), the user's active place and active-item key. Failures are
// logged; the self-check (Invariants) repairs the counters they leave off,
// since the booking's change is already durable.
func (s *Service) release(ctx context.Context, b *Booking, slot bool) {
	now := s.clock()
	if slot {
		if err := s.store.ReleaseSlot(ctx, SlotCounterID(b.HallID, b.ItemCode, b.SlotStart), now); err != nil {
			s.log.Error("booking: slot place not released", "booking_id", b.ID, "err", err)
		}
		s.invalidate(ctx, b.HallID)
	}
	if err := s.store.ReleaseActivePlace(ctx, b.UserID, now); err != nil {
		s.log.Error("booking: active place not released", "booking_id", b.ID, "err", err)
	}
	if err := s.store.ReleaseActiveItem(ctx, b.UserID, b.ItemCode, b.ID); err != nil {
		s.log.Error("booking: active-item key not released", "booking_id", b.ID, "err", err)
	}
}

// Reschedule moves one of the user's confirmed bookings to another slot of
// the same hall and item. The new place is taken before the old one is
// released; when anything fails the booking stays as it was and the new
// place is given back — never both places, never neither.
//
// Returns BOOKING_NOT_FOUND, BOOKING_STATE_CONFLICT (no longer confirmed,
// already in that slot, or changed meanwhile, e.g. by a second tap),
// BOOKING_CLOSED (the old slot's cut-off passed, or the new slot's),
// BOOKING_NOT_OPEN, BOOKING_SLOT_INVALID, BOOKING_ITEM_NOT_SERVED,
// BOOKING_SLOT_FULL.
func (s *Service) Reschedule(ctx context.Context, userID, id string, newStart time.Time) (*Booking, error) {
	cur, err := s.Get(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if cur.Status != StatusConfirmed {
		return nil, ErrStateConflict.WithDetail("status", string(cur.Status))
	}
	if !now.Before(s.ClosesAt(cur.SlotStart)) {
		return nil, ErrClosed.WithMessage("已过改约截止时间，不能改约")
	}
	cfg, err := s.store.HallConfig(ctx, cur.HallID)
	if err != nil {
		return nil, err
	}
	capacity := cfg.Capacity(cur.ItemCode)
	if capacity == 0 {
		return nil, ErrItemNotServed
	}
	slot, found := cfg.slotAt(s.cal, newStart.UTC().Truncate(time.Millisecond))
	if !found {
		return nil, ErrSlotInvalid
	}
	if slot.Start.Equal(cur.SlotStart) {
		// Also what a second tap finds once the first has moved the booking.
		return nil, ErrStateConflict.WithMessage("预约已在所选时段，无需改约")
	}
	if err := s.checkWindow(slot.Start, now); err != nil {
		return nil, err
	}
	oldStart := cur.SlotStart
	counter := SlotCounter{ID: SlotCounterID(cur.HallID, cur.ItemCode, slot.Start), HallID: cur.HallID,
		ItemCode: cur.ItemCode, Start: slot.Start, End: slot.End, Capacity: capacity}
	if err := s.takeRescheduleSlot(ctx, counter, cur, now); err != nil {
		return nil, err
	}
	b, err := s.update(ctx, id, func(b *Booking) error {
		if b.Status != StatusConfirmed {
			return ErrStateConflict.WithDetail("status", string(b.Status))
		}
		if !b.SlotStart.Equal(oldStart) {
			return ErrStateConflict.WithMessage("预约已被修改，请刷新后重试")
		}
		if !now.Before(s.ClosesAt(b.SlotStart)) {
			return ErrClosed.WithMessage("已过改约截止时间，不能改约")
		}
		if err := b.reschedule(slot.Start, slot.End, now); err != nil {
			return err
		}
		b.emit(EventRescheduled, Rescheduled{Details: b.details(), OldSlotStart: oldStart}, now)
		return nil
	})
	rctx := context.WithoutCancel(ctx)
	if err != nil {
		if rerr := s.store.ReleaseSlot(rctx, counter.ID, s.clock()); rerr != nil {
			s.log.Error("booking: new slot place not given back", "booking_id", id, "err", rerr)
		}
		s.invalidate(rctx, cur.HallID)
		return nil, err
	}
	if rerr := s.store.ReleaseSlot(rctx, SlotCounterID(b.HallID, b.ItemCode, oldStart), s.clock()); rerr != nil {
		s.log.Error("booking: old slot place not released", "booking_id", id, "err", rerr)
	}
	s.invalidate(rctx, b.HallID)
	return b, nil
}

// CheckIn checks a booked citizen in by the code of their QR and gives a
// queue number (per hall per day, 1, 2, ...). Staff of the booking's hall
// only (staffHallIDs are the halls the caller works at), on the booking's
// day. Scanning a checked-in booking again returns it unchanged.
//
// Returns BOOKING_NOT_FOUND, BOOKING_CHECKIN_WRONG_HALL,
// BOOKING_CHECKIN_WRONG_DAY, BOOKING_STATE_CONFLICT (cancelled, no-show).
func (s *Service) CheckIn(ctx context.Context, staffHallIDs []string, code string) (*Booking, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if !checkInCodePattern.MatchString(code) {
		return nil, ErrNotFound
	}
	cur, err := s.store.BookingByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(staffHallIDs, cur.HallID) {
		return nil, ErrCheckInWrongHall
	}
	if cur.Status == StatusCheckedIn {
		return cur, nil
	}
	if cur.Status != StatusConfirmed {
		return nil, ErrStateConflict.WithDetail("status", string(cur.Status))
	}
	now := s.clock()
	day := workdays.DateOf(cur.SlotStart)
	if workdays.DateOf(now) != day {
		return nil, ErrCheckInWrongDay.WithDetail("date", day.String())
	}
	q, err := s.store.NextQueueNumber(ctx, cur.HallID, day)
	if err != nil {
		return nil, err
	}
	b, err := s.update(ctx, cur.ID, func(b *Booking) error {
		if !b.SlotStart.Equal(cur.SlotStart) {
			return ErrStateConflict.WithMessage("预约已被修改，请重新扫码")
		}
		if err := b.checkIn(q, now); err != nil {
			return err
		}
		b.emit(EventCheckedIn, CheckedIn{Details: b.details(), QueueNumber: q}, now)
		return nil
	})
	if err != nil {
		// A concurrent scan of the same code won: the number stays unused.
		if again, gerr := s.store.Booking(ctx, cur.ID); gerr == nil && again.Status == StatusCheckedIn {
			return again, nil
		}
		return nil, err
	}
	// Checked in: the booking no longer holds the user's active places; the slot stays taken.
	s.release(context.WithoutCancel(ctx), b, false)
	return b, nil
}

// noShowBatch is how many bookings MarkNoShows handles per read.
const noShowBatch = 100

// MarkNoShows marks bookings still confirmed NoShowGrace after their slot
// ended as no-shows, records them for the ban rule and releases the user's
// active-item key and active place (the slot stays taken). Run it from a
// periodic job; it is safe to run on several replicas at once. It returns
// how many bookings it marked.
func (s *Service) MarkNoShows(ctx context.Context) (int, error) {
	now := s.clock()
	cutoff := now.Add(-s.rules.NoShowGrace)
	marked := 0
	for {
		list, err := s.store.ConfirmedEndedBefore(ctx, cutoff, noShowBatch)
		if err != nil {
			return marked, err
		}
		progress := 0
		for _, cur := range list {
			b, err := s.update(ctx, cur.ID, func(b *Booking) error {
				if b.Status != StatusConfirmed || !b.SlotEnd.Before(cutoff) {
					return ErrStateConflict
				}
				if err := b.noShow(now); err != nil {
					return err
				}
				b.emit(EventNoShow, NoShow{b.details()}, now)
				return nil
			})
			if errors.Is(err, ErrStateConflict) {
				progress++ // checked in, cancelled or marked by another replica meanwhile
				continue
			}
			if err != nil {
				s.log.Error("booking: no-show not marked", "booking_id", cur.ID, "err", err)
				continue
			}
			progress++
			marked++
			rctx := context.WithoutCancel(ctx)
			if err := s.store.RecordNoShow(rctx, b.UserID, b.ID, b.SlotStart); err != nil {
				s.log.Error("booking: no-show not recorded", "booking_id", b.ID, "err", err)
			}
			s.release(rctx, b, false)
		}
		if len(list) < noShowBatch || progress == 0 {
			return marked, nil
		}
	}
}

// PutHallConfig creates (cfg.Version 0) or replaces (cfg.Version = the
// version read) a hall's booking configuration; admins and the catalog sync
// call it. Capacities of slots already booked from now on follow the new
// windows (a slot reduced below its bookings keeps them and takes no more).
//
// Returns BOOKING_HALL_CONFIG_INVALID, STATE_CONFLICT (someone else changed it).
func (s *Service) PutHallConfig(ctx context.Context, cfg HallConfig) (*HallConfig, error) {
	c := cfg
	c.Windows, c.Sessions, c.Closures = slices.Clone(cfg.Windows), slices.Clone(cfg.Sessions), slices.Clone(cfg.Closures)
	c.normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	prev := c.Version
	items := itemSet(&c)
	if prev > 0 {
		old, err := s.store.HallConfig(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for it := range itemSet(old) {
			items[it] = true
		}
	}
	c.Version = prev + 1
	c.UpdatedAt = s.clock()
	if err := s.store.PutHallConfig(ctx, &c, prev); err != nil {
		return nil, err
	}
	s.halls.changed(ctx, c.ID)
	if prev > 0 {
		from := s.clock()
		for it := range items {
			if err := s.store.SetSlotCapacity(ctx, c.ID, it, from, c.Capacity(it)); err != nil {
				return nil, err
			}
		}
	}
	s.invalidate(ctx, c.ID)
	return &c, nil
}

func itemSet(c *HallConfig) map[string]bool {
	m := map[string]bool{}
	for _, w := range c.Windows {
		for _, it := range w.ItemCodes {
			m[it] = true
		}
	}
	return m
}

// AddClosure closes a hall for a date range (e.g. renovation): its days have
// no slots. Bookings already made for those days are kept; the caller
// notifies and cancels them as policy requires. Admins only.
//
// Returns BOOKING_HALL_NOT_FOUND, BOOKING_HALL_CONFIG_INVALID.
func (s *Service) AddClosure(ctx context.Context, hallID string, cl Closure) (*HallConfig, error) {
	for attempt := 0; ; attempt++ {
		cfg, err := s.store.HallConfig(ctx, hallID)
		if err != nil {
			return nil, err
		}
		cfg.Closures = append(cfg.Closures, cl)
		next, err := s.PutHallConfig(ctx, *cfg)
		if err == nil || !errors.Is(err, apperr.Conflict) || attempt >= 5 {
			return next, err
		}
	}
}

// HallConfig returns a hall's booking configuration (BOOKING_HALL_NOT_FOUND).
func (s *Service) HallConfig(ctx context.Context, hallID string) (*HallConfig, error) {
	return s.store.HallConfig(ctx, hallID)
}

// update applies change to the current booking and saves it guarded by
// version, retrying when a concurrent change won. change sees the booking
// already at its next Version, so the events it emits are named by it.
func (s *Service) update(ctx context.Context, id string, change func(b *Booking) error) (*Booking, error) {
	for attempt := 0; ; attempt++ {
		b, err := s.store.Booking(ctx, id)
		if err != nil {
			return nil, err
		}
		prev := b.Version
		b.Version = prev + 1
		b.UpdatedAt = s.clock()
		if err := change(b); err != nil {
			return nil, err
		}
		err = s.store.SaveBooking(ctx, b, prev)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, apperr.Conflict) || attempt >= 10 {
			return nil, err
		}
	}
}

func (s *Service) invalidate(ctx context.Context, hallID string) {
	if s.cache != nil {
		s.cache.Invalidate(ctx, hallID)
	}
}

// rescheduleFullRetries bounds how often a reschedule that found the new
// slot full looks again while places may be held in flight.
const rescheduleFullRetries = 6

// takeRescheduleSlot takes a place in the new slot for cur. A full slot may
// be full only of places held in flight by concurrent taps of this same
// reschedule (each takes a place before it moves the booking, and gives it
// back when it loses): so a refusal looks again, briefly, and answers that
// the booking changed once one of them moved it, ErrSlotFull only when the
// slot stays full and the booking unchanged.
func (s *Service) takeRescheduleSlot(ctx context.Context, counter SlotCounter, cur *Booking, now time.Time) error {
	wait := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		ok, err := s.store.TakeSlot(ctx, counter, now)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		again, err := s.store.Booking(ctx, cur.ID)
		if err != nil {
			return err
		}
		if again.Version != cur.Version {
			return ErrStateConflict.WithMessage("预约已被修改，请刷新后重试")
		}
		if attempt == rescheduleFullRetries {
			return ErrSlotFull
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}
