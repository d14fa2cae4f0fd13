package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// Collection and document names used by the log.
const (
	EventsCollection   = "events"
	CountersCollection = "counters"
	CursorsCollection  = "event_cursors"
	// EventIDsCollection registers the deterministic id of every event that
	// came through an outbox: {_id: event id, state: claimed|appended, seq}.
	EventIDsCollection = "event_ids"
	counterID          = "events"
)

// appendInsertBudget bounds the insert after a sequence number is taken. It
// must stay well below the default GapGrace: a consumer skips a hole older
// than the grace, so a writer must never insert later than that.
const appendInsertBudget = 5 * time.Second

// Log appends events and reads them back. Domain packages hold a *Log to
// append; it is safe for concurrent use.
type Log struct {
	db       *mongo.Database
	events   *mongox.Collection
	counters *mongox.Collection
	cursors  *mongox.Collection
	ids      *mongox.Collection
	hub      *mongox.Hub
	recent   *recentWindow
	now      func() time.Time
}

// NewLog returns the event log stored in db.
func NewLog(db *mongo.Database) *Log {
	return &Log{
		db:       db,
		events:   mongox.C(db, EventsCollection),
		counters: mongox.C(db, CountersCollection),
		cursors:  mongox.C(db, CursorsCollection),
		ids:      mongox.C(db, EventIDsCollection),
		hub:      mongox.HubFor(db, "events"),
		recent:   recentFor(db),
		now:      time.Now,
	}
}

// EnsureIndexes creates the index for per-subject reads (a case's timeline).
// Reads in log order use _id. Call it once at start-up; it is idempotent.
func (l *Log) EnsureIndexes(ctx context.Context) error {
	err := l.events.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "subject", Value: 1}, {Key: "_id", Value: 1}}},
		// Only read when a relay takes over a claim whose owner died.
		mongo.IndexModel{Keys: bson.D{{Key: "event_id", Value: 1}}},
	)
	if err != nil {
		return fmt.Errorf("events: ensure indexes: %w", err)
	}
	return nil
}

// Append adds e to the log and returns its sequence number. e.Seq and e.At
// are set by Append. An error means the event may not be in the log; the
// caller may append again (consumers are idempotent, so a rare duplicate from
// an insert that succeeded but reported failure is harmless).
func (l *Log) Append(ctx context.Context, e Event) (int64, error) {
	if e.Type == "" {
		return 0, errors.New("events: append: empty type")
	}
	// Reject bad input before taking a number: a failed insert leaves a hole
	// that consumers wait out.
	if len(e.Data) > 0 {
		if err := e.Data.Validate(); err != nil {
			return 0, fmt.Errorf("events: append %s: invalid data: %w", e.Type, err)
		}
	}
	// A duplicate _id means the counter handed out a number that is already
	// used (someone reset the counter): take another number.
	for range 3 {
		seq, err := l.nextSeq(ctx)
		if err != nil {
			return 0, err
		}
		e.Seq = seq
		e.At = utcMillis(l.now()) // after taking seq: the gap rule relies on it
		// The insert does not follow the caller's cancellation: abandoning it
		// would turn a taken number into a hole. It has its own budget instead.
		ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), appendInsertBudget)
		_, err = l.events.InsertOne(ictx, e)
		cancel()
		if err == nil {
			l.recent.add(e)
			l.hub.Notify()
			return seq, nil
		}
		if !mongox.IsDuplicateKey(err) {
			return 0, fmt.Errorf("events: append %s (seq %d left as a hole): %w", e.Type, seq, err)
		}
	}
	return 0, errors.New("events: append: sequence numbers keep colliding; is the counter behind the log?")
}

// nextSeq takes the next number from the counter document.
func (l *Log) nextSeq(ctx context.Context) (int64, error) {
	var c struct {
		Seq int64 `bson:"seq"`
	}
	var err error
	for range 3 {
		err = l.counters.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: counterID}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: int64(1)}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After),
		).Decode(&c)
		// Two first-ever upserts (other processes) can race to insert the
		// counter; the loser's retry finds it and increments.
		if !mongox.IsDuplicateKey(err) {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("events: take sequence: %w", err)
	}
	return c.Seq, nil
}

// Head returns the last sequence number handed out (0 for an empty log).
// It is a point read by _id, cheap enough for idle polling and lag metrics.
func (l *Log) Head(ctx context.Context) (int64, error) {
	var c struct {
		Seq int64 `bson:"seq"`
	}
	err := l.counters.FindOne(ctx, bson.D{{Key: "_id", Value: counterID}}).Decode(&c)
	if mongox.IsNoDocuments(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("events: head: %w", err)
	}
	return c.Seq, nil
}

// ReadAfter returns up to limit events (default 100, at most 1000) with
// Seq > afterSeq in order. Holes are simply absent. For tests and ops.
func (l *Log) ReadAfter(ctx context.Context, afterSeq int64, limit int) ([]Event, error) {
	l.recent.start(ctx, l)
	if evs, ok := l.recent.readAfter(afterSeq, clampLimit(limit)); ok {
		return evs, nil
	}
	return l.find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: afterSeq}}}}, limit)
}

// ReadSubject returns up to limit events about subject with Seq > afterSeq,
// in order, e.g. a case's timeline for the hotline view.
func (l *Log) ReadSubject(ctx context.Context, subject string, afterSeq int64, limit int) ([]Event, error) {
	return l.find(ctx, bson.D{
		{Key: "subject", Value: subject},
		{Key: "_id", Value: bson.D{{Key: "$gt", Value: afterSeq}}},
	}, limit)
}

func clampLimit(limit int) int {
	if limit <= 0 {
		return 100
	}
	return min(limit, 1000)
}

func (l *Log) find(ctx context.Context, filter bson.D, limit int) ([]Event, error) {
	limit = clampLimit(limit)
	cur, err := l.events.Find(ctx, filter,
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("events: read: %w", err)
	}
	out := []Event{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("events: read: %w", err)
	}
	return out, nil
}

// Cursor is a consumer's stored position and lease, as kept in "event_cursors".
type Cursor struct {
	Name       string    `bson:"_id"`
	Seq        int64     `bson:"seq"` // last event handled (or skipped)
	Owner      string    `bson:"owner"`
	LeaseUntil time.Time `bson:"lease_until"`
	UpdatedAt  time.Time `bson:"updated_at"`
}

// Cursor returns the stored cursor of the named consumer (Seq 0 and no error
// when it has never run). Lag = Head - Cursor.Seq.
func (l *Log) Cursor(ctx context.Context, name string) (Cursor, error) {
	var c Cursor
	err := l.cursors.FindOne(ctx, bson.D{{Key: "_id", Value: name}}).Decode(&c)
	if mongox.IsNoDocuments(err) {
		return Cursor{Name: name}, nil
	}
	if err != nil {
		return Cursor{}, fmt.Errorf("events: cursor %s: %w", name, err)
	}
	return c, nil
}
