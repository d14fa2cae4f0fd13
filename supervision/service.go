package supervision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"zwfw/apperr"
	"zwfw/cases"
	"zwfw/platform/events"
	"zwfw/platform/workdays"
)

// ConsumerName is the event-log consumer that keeps the index.
const ConsumerName = "supervision.index"

// JobDaily is the daily job that writes a day's counts (key: the date).
const JobDaily = "supervision.daily"

// DefaultTTL is how often every replica reloads the index: how late a
// change consumed by another replica may show.
const DefaultTTL = 30 * time.Second

// FullReloadEvery is how often the index is read in full even when the
// store's change count says nothing changed (a writer that died between
// its write and its count).
const FullReloadEvery = 10 * time.Minute

// HistoryDays is how many days the chart shows, today included.
const HistoryDays = 30

// Options are the service's settings.
type Options struct {
	// WarnDays: a case is yellow in the last WarnDays working days of its
	// limit (ZWFW_SUPERVISION_WARN_DAYS; 0 turns the warning off).
	WarnDays int
	// TTL is how often the index is reloaded (DefaultTTL when zero).
	TTL time.Duration
	// Now is the clock of "today" (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is electronic supervision: the board of the cases in progress,
// the daily counts, and the audited opening of a case.
type Service struct {
	store Store
	cases Cases
	cal   cases.Calendar
	opt   Options
	kick  chan struct{}

	mu       sync.Mutex
	entries  map[string]Entry // nil until first loaded
	loadedAt time.Time        // last reload or check that the entries are current
	fullAt   time.Time        // last full read
	// changes is the store's change count the entries are known to hold.
	changes  int64
	gen      uint64        // changes with every change of entries
	loading  chan struct{} // non-nil while a reload reads the store; closed when it is done
	during   []change      // changes applied while it reads, replayed on its result
	board    *Board        // entries classified at board.Today, for gen boardGen
	boardGen uint64
	history  []Day // the stored days before today, loaded with the index
	written  Day   // today's counts as this process last wrote them
	running  bool  // Run is refreshing in the background
}

// change is one entry written (e != nil) or removed.
type change struct {
	id string
	e  *Entry
}

// New returns the service over store, reading cases through cs and
// counting working days on cal.
func New(store Store, cs Cases, cal cases.Calendar, opt Options) *Service {
	if opt.TTL <= 0 {
		opt.TTL = DefaultTTL
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Service{store: store, cases: cs, cal: cal, opt: opt, kick: make(chan struct{}, 1)}
}

// WarnDays is the warning period in working days.
func (s *Service) WarnDays() int { return s.opt.WarnDays }

// IndexedEvents are the case events that change an entry: its status,
// and the case number the province gives after submission.
func IndexedEvents() []string {
	return []string{cases.EventStatusChanged, cases.EventSubmittedToProvince}
}

// HandleEvent keeps the index (the consumer "supervision.index"): the case
// of a case.status_changed or case.submitted_to_province is read back and
// its entry written, or removed once it is finished or gone. Idempotent: it
// writes the case's current state whatever the event says. Returns only
// errors worth a retry.
func (s *Service) HandleEvent(ctx context.Context, e events.Event) error {
	if e.Type != cases.EventStatusChanged && e.Type != cases.EventSubmittedToProvince {
		return nil
	}
	id, ok := strings.CutPrefix(e.Subject, "case:")
	if !ok {
		return nil
	}
	return s.Sync(ctx, id)
}

// Sync writes the current state of one case into the index.
func (s *Service) Sync(ctx context.Context, caseID string) error {
	c, err := s.cases.ByID(ctx, caseID)
	if err != nil && apperr.KindOf(err) != apperr.KindNotFound {
		return err
	}
	if err == nil {
		if entry, ok := EntryOf(c); ok {
			if err := s.store.Put(ctx, entry); err != nil {
				return err
			}
			return s.counted(ctx, change{id: caseID, e: &entry})
		}
	}
	if err := s.store.Remove(ctx, caseID); err != nil {
		return err
	}
	return s.counted(ctx, change{id: caseID})
}

// counted counts a stored change in the store (so other replicas know to
// read the index again) and applies it here. A count that fails is
// retried with the event; a change counted twice costs one more reload.
func (s *Service) counted(ctx context.Context, ch change) error {
	n, err := s.store.Bump(ctx)
	if err != nil {
		return err
	}
	s.apply(ch, n)
	return nil
}

// Recheck reads back the case of every entry and corrects the entries
// that no longer say what their case does (a case finished or changed
// whose event this index never saw: a consumer cursor reset by hand, an
// entry restored from a backup). Part of the daily job: one read by _id
// per case in progress. Returns how many entries it corrected.
func (s *Service) Recheck(ctx context.Context) (int, error) {
	if err := s.reload(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	ids := make([]string, 0, len(s.entries))
	known := make(map[string]Entry, len(s.entries))
	for id, e := range s.entries {
		ids = append(ids, id)
		known[id] = e
	}
	s.mu.Unlock()
	fixed := 0
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return fixed, err
		}
		c, err := s.cases.ByID(ctx, id)
		if err != nil && apperr.KindOf(err) != apperr.KindNotFound {
			return fixed, err
		}
		if err == nil {
			if e, ok := EntryOf(c); ok && e == known[id] {
				continue
			}
		}
		if err := s.Sync(ctx, id); err != nil {
			return fixed, err
		}
		fixed++
	}
	return fixed, nil
}

// apply puts a change stored by this process, counted n in the store,
// into the loaded index. When n follows the count the entries hold, they
// still hold every change; otherwise another writer counted one too, and
// the next check reads the index in full.
func (s *Service) apply(ch change, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		return // loaded later, with the change in it
	}
	if s.loading != nil {
		s.during = append(s.during, ch)
	} else if n == s.changes+1 {
		s.changes = n
	}
	s.set(ch)
}

func (s *Service) set(ch change) {
	if ch.e != nil {
		s.entries[ch.id] = *ch.e
	} else {
		delete(s.entries, ch.id)
	}
	s.gen++
}

// reload reads the index and the stored days again. Changes applied while
// it reads are replayed on what it read (they are at least as new). A
// reload already under way is waited for instead of started again.
func (s *Service) reload(ctx context.Context) error {
	s.mu.Lock()
	if wait := s.loading; wait != nil {
		s.mu.Unlock()
		select {
		case <-wait:
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.entries == nil {
				return errors.New("supervision: reload: the index could not be read")
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	done := make(chan struct{})
	s.loading, s.during = done, nil
	s.mu.Unlock()
	defer close(done)
	// The count first: a change counted during the read makes the next check read again.
	changes, err := s.store.Changes(ctx)
	var list []Entry
	if err == nil {
		list, err = s.store.All(ctx)
	}
	var days []Day
	if err == nil {
		today := workdays.DateOf(s.opt.Now())
		days, err = s.store.Days(ctx, today.AddDays(-(HistoryDays - 1)), today)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loading = nil
	if err != nil {
		s.during = nil
		return fmt.Errorf("supervision: reload: %w", err)
	}
	m := make(map[string]Entry, len(list))
	for _, e := range list {
		m[e.CaseID] = e
	}
	s.entries, s.history = m, days
	for _, ch := range s.during {
		s.set(ch)
	}
	s.during = nil
	s.loadedAt, s.fullAt, s.changes = s.opt.Now(), s.opt.Now(), changes
	s.gen++
	return nil
}

// refresh reads the index again if the store's change count moved since
// the entries were read (or FullReloadEvery passed); else it reads only the
// stored days: one look-up by _id and a read of at most HistoryDays small
// documents, whatever the number of cases.
func (s *Service) refresh(ctx context.Context) error {
	s.mu.Lock()
	loaded, known, fullAt := s.entries != nil, s.changes, s.fullAt
	s.mu.Unlock()
	now := s.opt.Now()
	if !loaded || now.Sub(fullAt) >= FullReloadEvery || now.Before(fullAt) {
		return s.reload(ctx)
	}
	n, err := s.store.Changes(ctx)
	if err != nil {
		return fmt.Errorf("supervision: refresh: %w", err)
	}
	if n != known {
		return s.reload(ctx)
	}
	today := workdays.DateOf(now)
	days, err := s.store.Days(ctx, today.AddDays(-(HistoryDays - 1)), today)
	if err != nil {
		return fmt.Errorf("supervision: refresh: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.EqualFunc(days, s.history, func(a, b Day) bool { return a.Day == b.Day && a.Counts == b.Counts }) {
		s.history = days
		s.gen++ // the chart is drawn per board
	}
	s.loadedAt = now
	return nil
}

// Reload reads the index and the stored days now, as Run does every TTL
// (after entries were written in bulk, as by a migration or a benchmark).
func (s *Service) Reload(ctx context.Context) error { return s.reload(ctx) }

// Board returns the cases in progress classified at today. It reads the
// store only the first time; afterwards the index is in memory and
// reloaded in the background (by Run; without Run, here once it is older
// than the TTL).
func (s *Service) Board(ctx context.Context) (*Board, error) {
	now := s.opt.Now()
	s.mu.Lock()
	loaded, stale, running := s.entries != nil, now.Sub(s.loadedAt) >= s.opt.TTL || now.Before(s.loadedAt), s.running
	s.mu.Unlock()
	if !loaded || (stale && !running) {
		if err := s.refresh(ctx); err != nil {
			return nil, err
		}
	} else if stale {
		s.Kick()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	today := workdays.DateOf(now)
	if s.board == nil || s.boardGen != s.gen || s.board.Today != today {
		s.board, s.boardGen = newBoard(s.entries, s.cal, now, s.opt.WarnDays), s.gen
	}
	return s.board, nil
}

// History returns the counts of the last HistoryDays days, oldest first,
// today's from the board (days without counts have none: the chart leaves
// them empty).
func (s *Service) History(ctx context.Context) ([]Day, error) {
	b, err := s.Board(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	stored := s.history
	s.mu.Unlock()
	out := make([]Day, 0, len(stored)+1)
	for _, d := range stored {
		if d.Day < b.Today.String() {
			out = append(out, d)
		}
	}
	return append(out, Day{Day: b.Today.String(), Counts: b.Total, At: s.opt.Now().UTC()}), nil
}

// Kick asks Run for a reload now (without waiting for it).
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run reloads the index every TTL (and when kicked) and writes today's
// counts when they changed, until ctx ends. Every replica runs it.
func (s *Service) Run(ctx context.Context) {
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()
	t := time.NewTicker(s.opt.TTL)
	defer t.Stop()
	for {
		if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
			s.opt.Logger.Warn("supervision index reload failed", "err", err)
		} else if err == nil {
			if err := s.snapshot(ctx, false); err != nil && ctx.Err() == nil {
				s.opt.Logger.Warn("supervision daily counts failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// Snapshot writes today's counts (the daily job, and on demand). The
// document of a day is replaced by its latest counts: writing twice is harmless.
func (s *Service) Snapshot(ctx context.Context) error { return s.snapshot(ctx, true) }

// snapshot writes today's counts unless they are what this process last
// wrote (always when force).
func (s *Service) snapshot(ctx context.Context, force bool) error {
	b, err := s.Board(ctx)
	if err != nil {
		return err
	}
	d := Day{Day: b.Today.String(), Counts: b.Total, At: s.opt.Now().UTC().Truncate(time.Millisecond)}
	s.mu.Lock()
	same := s.written.Day == d.Day && s.written.Counts == d.Counts
	s.mu.Unlock()
	if same && !force {
		return nil
	}
	if err := s.store.PutDay(ctx, d); err != nil {
		return err
	}
	s.mu.Lock()
	s.written = d
	s.mu.Unlock()
	return nil
}

// DailyJobAt is when the daily job for the day of at runs: 23:55 Asia/Shanghai,
// the counts as the day ends (today's are also written as they change).
func DailyJobAt(at time.Time) (key string, runAt time.Time) {
	d := workdays.DateOf(at)
	return d.String(), d.Start().Add(23*time.Hour + 55*time.Minute)
}

// OpenCase returns a case on the board for a supervisor's one view and
// writes the opening to the audit log first (query type "supervise", the
// case number), as the hotline's opening of a case is. Returns
// CASE_NOT_FOUND for a case not in progress (not under supervision).
func (s *Service) OpenCase(ctx context.Context, audit cases.AuditLog, op cases.Operator, caseID string) (*cases.Case, Case, error) {
	b, err := s.Board(ctx)
	if err != nil {
		return nil, Case{}, err
	}
	on, ok := b.Case(caseID)
	if !ok {
		return nil, Case{}, cases.ErrNotFound
	}
	c, err := s.cases.ByID(ctx, caseID)
	if err != nil {
		return nil, Case{}, err
	}
	entry := cases.AuditEntry{At: s.opt.Now().UTC().Truncate(time.Millisecond), OperatorID: op.ID, OperatorName: op.Name,
		QueryType: "supervise", Query: c.CaseNumber, CaseIDs: []string{c.ID}, IP: op.IP, Reason: "电子监察：" + on.State.Label()}
	if err := audit.Append(ctx, &entry); err != nil {
		return nil, Case{}, err
	}
	return c, on, nil
}
