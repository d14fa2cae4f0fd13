package events

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// Handler handles one event. It must be idempotent: delivery is
// at-least-once (see the package doc). An error stops the batch; the same
// event is retried later with backoff and the cursor does not move past it.
type Handler func(ctx context.Context, e Event) error

// ConsumerOptions configures a Consumer; zero values take the defaults.
type ConsumerOptions struct {
	// BatchSize is how many events one read fetches. Default 100.
	BatchSize int
	// PollInterval is how often an idle consumer (or a standby replica
	// waiting for the lease) looks again. Appends in this process wake it at
	// once. Default 1 s.
	PollInterval time.Duration
	// GapGrace is how long a hole in the sequence is waited for before it is
	// skipped as a dead writer's (see the package doc). Default 10 s; keep it
	// above Append's insert budget (5 s).
	GapGrace time.Duration
	// Owner names this replica in the cursor lease. Default host-pid-random.
	Owner string
	// LeaseDuration is how long the cursor lease lasts without renewal; a
	// dead owner's consumer is taken over after this long. Default 30 s.
	LeaseDuration time.Duration
	// Types, when set, limits the handler to these event types; others are
	// stepped over (the cursor still moves past them).
	Types []string
	// MaxRetryDelay caps the backoff after handler errors. Default 1 min.
	MaxRetryDelay time.Duration
	// Logger receives handler errors, skipped holes and lease changes. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock for leases and the gap grace (tests). Default time.Now.
	Now func() time.Time
}

// Consumer reads the log in order for one named subscriber (e.g.
// "notify.reminders") and calls its handler for each event. Every replica may
// run the same consumer: a lease on the cursor document lets one of them
// consume at a time and the others stand by.
type Consumer struct {
	log     *Log
	name    string
	handler Handler
	opts    ConsumerOptions
	types   map[string]bool
	logger  *slog.Logger

	polls atomic.Int64 // read attempts while leading; lets tests wait for progress without sleeping
}

// errLeaseLost ends a leadership term: another owner has the cursor.
var errLeaseLost = errors.New("events: consumer lease lost")

// NewConsumer returns a consumer named name over db's event log. Call Run.
func NewConsumer(db *mongo.Database, name string, handler Handler, opts ConsumerOptions) *Consumer {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.GapGrace <= 0 {
		opts.GapGrace = 10 * time.Second
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		opts.Owner = fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
	}
	if opts.LeaseDuration <= 0 {
		opts.LeaseDuration = 30 * time.Second
	}
	if opts.MaxRetryDelay <= 0 {
		opts.MaxRetryDelay = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var types map[string]bool
	if len(opts.Types) > 0 {
		types = map[string]bool{}
		for _, t := range opts.Types {
			types[t] = true
		}
	}
	l := NewLog(db)
	l.now = opts.Now
	return &Consumer{
		log: l, name: name, handler: handler, opts: opts, types: types,
		logger: opts.Logger.With("component", "events", "consumer", name, "owner", opts.Owner),
	}
}

// Run consumes until ctx is done, then releases the lease and returns nil.
// It keeps going through database errors (logging them); it returns an error
// only for a misconfigured consumer. Call it in its own goroutine.
func (c *Consumer) Run(ctx context.Context) error {
	if c.name == "" || c.handler == nil {
		return errors.New("events: consumer needs a name and a handler")
	}
	wake := c.log.hub.Subscribe()
	defer c.log.hub.Unsubscribe(wake)
	for ctx.Err() == nil {
		if err := c.ensureCursor(ctx); err != nil {
			c.logger.Warn("create cursor failed", "err", err)
			sleep(ctx, c.opts.PollInterval)
			continue
		}
		break
	}
	for ctx.Err() == nil {
		cur, ok, err := c.acquire(ctx)
		switch {
		case err != nil:
			c.logger.Warn("take lease failed", "err", err)
			sleep(ctx, c.opts.PollInterval)
		case !ok:
			sleep(ctx, c.opts.PollInterval) // another replica leads; stand by
		default:
			c.logger.Info("consuming", "from_seq", cur.Seq)
			err := c.lead(ctx, cur.Seq, wake)
			if errors.Is(err, errLeaseLost) {
				c.logger.Warn("lease lost; standing by")
			}
		}
	}
	return nil
}

// ensureCursor creates the cursor document at seq 0 if it does not exist.
func (c *Consumer) ensureCursor(ctx context.Context) error {
	_, err := c.log.cursors.InsertOne(ctx, Cursor{Name: c.name, LeaseUntil: time.Unix(0, 0).UTC(), UpdatedAt: utcMillis(c.opts.Now())})
	if err != nil && !mongox.IsDuplicateKey(err) {
		return err
	}
	return nil
}

// acquire takes or renews the lease when it is free, expired or already ours.
func (c *Consumer) acquire(ctx context.Context) (Cursor, bool, error) {
	now := utcMillis(c.opts.Now())
	var cur Cursor
	err := c.log.cursors.FindOneAndUpdate(ctx,
		bson.D{
			{Key: "_id", Value: c.name},
			{Key: "$or", Value: bson.A{
				bson.D{{Key: "owner", Value: c.opts.Owner}},
				bson.D{{Key: "owner", Value: ""}},
				bson.D{{Key: "lease_until", Value: bson.D{{Key: "$lt", Value: now}}}},
			}},
		},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "owner", Value: c.opts.Owner},
			{Key: "lease_until", Value: now.Add(c.opts.LeaseDuration)},
			{Key: "updated_at", Value: now},
		}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After),
	).Decode(&cur)
	if mongox.IsNoDocuments(err) {
		return Cursor{}, false, nil
	}
	if err != nil {
		return Cursor{}, false, err
	}
	return cur, true, nil
}

// lead consumes from pos while this replica holds the lease.
func (c *Consumer) lead(ctx context.Context, pos int64, wake <-chan struct{}) error {
	lctx, cancel := context.WithCancelCause(ctx)
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		c.heartbeat(lctx, cancel)
	}()
	defer func() {
		cancel(nil)
		<-hbDone
		c.release()
	}()

	failures := 0
	for lctx.Err() == nil {
		c.polls.Add(1)
		next, more, err := c.step(lctx, pos)
		pos = next
		switch {
		case errors.Is(err, errLeaseLost):
			return err
		case lctx.Err() != nil:
			if cause := context.Cause(lctx); errors.Is(cause, errLeaseLost) {
				return cause
			}
			return nil
		case err != nil:
			failures++
			delay := retryDelay(c.opts.PollInterval, c.opts.MaxRetryDelay, failures)
			c.logger.Warn("consumer step failed; retrying", "err", err, "at_seq", pos+1, "failures", failures, "delay", delay)
			sleep(lctx, delay)
		case more:
			failures = 0
		default:
			failures = 0
			t := time.NewTimer(c.opts.PollInterval)
			select {
			case <-wake:
			case <-t.C:
			case <-lctx.Done():
			}
			t.Stop()
		}
	}
	return nil
}

// step handles the contiguous run of events after pos and returns the new
// position and whether more events may be waiting right now.
func (c *Consumer) step(ctx context.Context, pos int64) (int64, bool, error) {
	// Idle fast path: the counter is a point read by _id; the range read below
	// scans on the embedded store, so skip it when nothing new was appended.
	head, err := c.log.Head(ctx)
	if err != nil {
		return pos, false, err
	}
	if head <= pos {
		return pos, false, nil
	}
	evs, err := c.log.ReadAfter(ctx, pos, c.opts.BatchSize)
	if err != nil {
		return pos, false, err
	}
	stored := pos // what the cursor document says
	for _, e := range evs {
		if e.Seq != pos+1 {
			// A hole: wait for its writer unless the event after it is
			// older than the grace (the writer died; see the package doc).
			age := c.opts.Now().Sub(e.At)
			if age < c.opts.GapGrace {
				return c.persist(ctx, stored, pos, false)
			}
			c.logger.Warn("skipping a hole in the event log", "missing_from", pos+1, "missing_to", e.Seq-1, "next_event_age", age)
		}
		if c.types == nil || c.types[e.Type] {
			if err := c.call(ctx, e); err != nil {
				// Keep what was stepped over, then report the failure.
				if _, _, perr := c.persist(ctx, stored, pos, false); perr != nil {
					return stored, false, perr
				}
				return pos, false, fmt.Errorf("handler for event %d (%s): %w", e.Seq, e.Type, err)
			}
			// Acknowledge right away so a restart replays at most this event.
			if _, _, err := c.persist(ctx, stored, e.Seq, false); err != nil {
				return stored, false, err
			}
			stored = e.Seq
		}
		pos = e.Seq
	}
	return c.persist(ctx, stored, pos, len(evs) == c.opts.BatchSize)
}

// persist moves the stored cursor from `from` to `to` (a no-op when equal),
// renewing the lease. The write is guarded by owner and the old position, so
// a replica that lost the lease cannot move the cursor. It ignores ctx
// cancellation: an event that was handled should be acknowledged.
func (c *Consumer) persist(ctx context.Context, from, to int64, more bool) (int64, bool, error) {
	if from == to {
		return to, more, nil
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := utcMillis(c.opts.Now())
	res, err := c.log.cursors.UpdateOne(wctx,
		bson.D{{Key: "_id", Value: c.name}, {Key: "owner", Value: c.opts.Owner}, {Key: "seq", Value: from}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "seq", Value: to},
			{Key: "lease_until", Value: now.Add(c.opts.LeaseDuration)},
			{Key: "updated_at", Value: now},
		}}})
	if err != nil {
		return from, false, fmt.Errorf("events: move cursor %s to %d: %w", c.name, to, err)
	}
	if res.MatchedCount == 0 {
		return from, false, errLeaseLost
	}
	return to, more, nil
}

// heartbeat renews the lease every third of its duration while leading. When
// the lease is gone, or could not be renewed before it ran out, it cancels
// ctx so the running handler stops: another replica may already consume.
func (c *Consumer) heartbeat(ctx context.Context, cancel context.CancelCauseFunc) {
	t := time.NewTicker(max(c.opts.LeaseDuration/3, time.Millisecond))
	defer t.Stop()
	leaseUntil := c.opts.Now().Add(c.opts.LeaseDuration)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := utcMillis(c.opts.Now())
		var res *mongo.UpdateResult
		res, err := c.log.cursors.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: c.name}, {Key: "owner", Value: c.opts.Owner}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "lease_until", Value: now.Add(c.opts.LeaseDuration)}}}})
		switch {
		case err == nil && res.MatchedCount == 1:
			leaseUntil = now.Add(c.opts.LeaseDuration)
		case err == nil:
			cancel(errLeaseLost)
			return
		case ctx.Err() != nil:
			return
		case !now.Before(leaseUntil):
			cancel(errLeaseLost)
			return
		default:
			c.logger.Warn("lease renewal failed; will retry", "err", err)
		}
	}
}

// release hands the lease back so a standby replica takes over at its next
// poll instead of waiting for the lease to expire.
func (c *Consumer) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.log.cursors.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: c.name}, {Key: "owner", Value: c.opts.Owner}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: ""}, {Key: "lease_until", Value: time.Unix(0, 0).UTC()}}}})
	if err != nil {
		c.logger.Warn("release lease failed; it will expire", "err", err)
	}
}

// call runs the handler, turning a panic into an error.
func (c *Consumer) call(ctx context.Context, e Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.logger.Error("event handler panicked", "seq", e.Seq, "type", e.Type, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return c.handler(ctx, e)
}

// retryDelay doubles from base per consecutive failure, capped at max.
func retryDelay(base, max time.Duration, failures int) time.Duration {
	d := base
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
