package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// RelayOptions configures a Relay; zero values take the defaults.
type RelayOptions struct {
	// SweepEvery is how often every outbox collection is searched for events
	// left behind (a crash between a write and its relay, another replica's
	// writes). Default 30 s; on the embedded store 10 minutes (see
	// embeddedSweepEvery); a sweep also runs at start.
	SweepEvery time.Duration
	// SettleAfter: a sweep leaves events younger than this to the relay of
	// the process that wrote them. Default 2 s.
	SettleAfter time.Duration
	Logger      *slog.Logger
	Now         func() time.Time
}

// Relay moves pending events from the outboxes of aggregate documents to the
// log: a transactional outbox without transactions. A write that stores
// events wakes the relay of its process (mongox.Collection queues the
// document), and a periodic sweep finds the rest. Each event is appended at
// most once (Log.AppendOnce, by its deterministic id), then removed from its
// document. Every replica may run one.
type Relay struct {
	log   *Log
	colls map[string]*mongox.Collection
	names []string
	queue *mongox.OutboxQueue
	opts  RelayOptions

	appended, flushed int64 // counters for tests and metrics (relay goroutine only)
	sweepSet          bool  // SweepEvery was given
	deferred          []mongox.Dirty
}

// On the embedded store a sweep reads every outbox collection whole (its
// filter is not on _id), seconds of CPU at a hundred thousand cases, while
// it finds little there: the store serves only this process, whose writes
// wake the relay, and a crash restarts the process, which sweeps at start.
// What the relay could not flush is tried again every relayRetryEvery from
// memory. So the embedded store is swept every embeddedSweepEvery, as the
// backstop, not every 30 s.
const (
	embeddedSweepEvery = 10 * time.Minute
	relayRetryEvery    = 5 * time.Second
	maxDeferred        = 10_000 // beyond, the sweep finds them
)

// NewRelay returns a relay for the outboxes of the named collections of the
// log's database.
func NewRelay(l *Log, collections []string, opts RelayOptions) *Relay {
	sweepSet := opts.SweepEvery > 0
	if !sweepSet {
		opts.SweepEvery = 30 * time.Second
	}
	if opts.SettleAfter <= 0 {
		opts.SettleAfter = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Relay{log: l, colls: map[string]*mongox.Collection{}, queue: mongox.OutboxFor(l.db), opts: opts, sweepSet: sweepSet}
	for _, n := range collections {
		r.colls[n] = mongox.C(l.db, n)
		r.names = append(r.names, n)
	}
	return r
}

// EnsureIndexes lets the sweep find documents with pending events by index on MongoDB.
func (r *Relay) EnsureIndexes(ctx context.Context) error {
	for _, n := range r.names {
		if err := r.colls[n].EnsureIndexes(ctx, mongo.IndexModel{Keys: bson.D{{Key: "outbox.at", Value: 1}}}); err != nil {
			return fmt.Errorf("events: outbox index on %s: %w", n, err)
		}
	}
	return nil
}

// Run relays until ctx ends: a sweep at start, then each queued document at
// once and a sweep every SweepEvery.
func (r *Relay) Run(ctx context.Context) error {
	wake := r.queue.Subscribe()
	defer r.queue.Unsubscribe(wake)
	every := r.opts.SweepEvery
	if !r.sweepSet && mongox.IsFerretDB(ctx, r.log.db) {
		every = embeddedSweepEvery
	}
	sweep := time.NewTicker(every)
	defer sweep.Stop()
	retry := time.NewTicker(relayRetryEvery)
	defer retry.Stop()
	r.sweepLogged(ctx, true)
	for {
		r.drain(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-retry.C:
			r.retryDeferred(ctx)
		case <-sweep.C:
			r.sweepLogged(ctx, false)
		}
	}
}

// retryDeferred flushes again the documents whose flush failed.
func (r *Relay) retryDeferred(ctx context.Context) {
	list := r.deferred
	r.deferred = nil
	for _, d := range list {
		if ctx.Err() != nil {
			r.deferred = append(r.deferred, d)
			continue
		}
		if _, err := r.Flush(ctx, d.Collection, d.ID); err != nil {
			r.deferred = append(r.deferred, d)
		}
	}
}

func (r *Relay) drain(ctx context.Context) {
	for _, d := range r.queue.Take() {
		if ctx.Err() != nil {
			return
		}
		if _, ok := r.colls[d.Collection]; !ok {
			// Relay them anyway (and sweep it from now on), but say so: after
			// a crash only registered collections are swept at start.
			r.opts.Logger.Error("events: a collection without a registered outbox stored events; register it in the relay", "collection", d.Collection)
			r.colls[d.Collection] = mongox.C(r.log.db, d.Collection)
			r.names = append(r.names, d.Collection)
		}
		var err error
		if d.ID == nil {
			err = r.sweepCollection(ctx, d.Collection, true)
		} else {
			_, err = r.Flush(ctx, d.Collection, d.ID)
		}
		if err != nil && ctx.Err() == nil {
			// Tried again from memory (a document) or by the sweep (a collection).
			r.opts.Logger.Warn("events: relay deferred", "collection", d.Collection, "id", d.ID, "err", err)
			if d.ID != nil && len(r.deferred) < maxDeferred {
				r.deferred = append(r.deferred, d)
			}
		}
	}
}

func (r *Relay) sweepLogged(ctx context.Context, all bool) {
	for _, n := range r.names {
		if err := r.sweepCollection(ctx, n, all); err != nil && ctx.Err() == nil {
			r.opts.Logger.Warn("events: outbox sweep incomplete", "collection", n, "err", err)
		}
	}
}

// Sweep relays every pending event of every outbox collection now (tests,
// start-up); Flush errors are joined.
func (r *Relay) Sweep(ctx context.Context) error {
	var errs []error
	for _, n := range r.names {
		errs = append(errs, r.sweepCollection(ctx, n, true))
	}
	return errors.Join(errs...)
}

func (r *Relay) sweepCollection(ctx context.Context, name string, all bool) error {
	cutoff := r.opts.Now().Add(-r.opts.SettleAfter).UTC()
	if all {
		cutoff = r.opts.Now().Add(time.Hour).UTC()
	}
	cur, err := r.colls[name].Find(ctx, bson.D{{Key: "outbox.at", Value: bson.D{{Key: "$lt", Value: cutoff}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(500))
	if err != nil {
		return err
	}
	var ids []struct {
		ID any `bson:"_id"`
	}
	if err := cur.All(ctx, &ids); err != nil {
		return err
	}
	var errs []error
	for _, d := range ids {
		if _, err := r.Flush(ctx, name, d.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Flush appends the pending events of one document to the log (each once)
// and removes them from it. It returns how many it appended.
func (r *Relay) Flush(ctx context.Context, collection string, id any) (int, error) {
	coll, ok := r.colls[collection]
	if !ok {
		return 0, fmt.Errorf("events: no outbox registered for %s", collection)
	}
	// Raw elements: FerretDB's $pull matches whole values only, so the
	// relayed entries are removed by $pullAll with their exact stored bytes.
	var doc struct {
		Outbox []bson.Raw `bson:"outbox"`
	}
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(bson.D{{Key: "outbox", Value: 1}})).Decode(&doc)
	if mongox.IsNoDocuments(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("events: read outbox of %s %v: %w", collection, id, err)
	}
	if len(doc.Outbox) == 0 {
		return 0, nil
	}
	n := 0
	done := make(bson.A, 0, len(doc.Outbox))
	var firstErr error
	for _, raw := range doc.Outbox {
		var p Pending
		if err := bson.Unmarshal(raw, &p); err != nil || p.ID == "" {
			r.opts.Logger.Error("events: unreadable outbox entry dropped", "collection", collection, "id", id, "err", err)
			done = append(done, raw)
			continue
		}
		_, appended, err := r.log.AppendOnce(ctx, p)
		if err != nil {
			// Keep the order of one document's events: stop at the first failure.
			firstErr = err
			break
		}
		if appended {
			n++
		}
		done = append(done, raw)
	}
	if len(done) > 0 {
		if _, err := coll.UpdateOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: id}},
			bson.D{{Key: "$pullAll", Value: bson.D{{Key: "outbox", Value: done}}}}); err != nil {
			return n, fmt.Errorf("events: clear outbox of %s %v: %w", collection, id, err)
		}
	}
	r.appended += int64(n)
	r.flushed++
	return n, firstErr
}
