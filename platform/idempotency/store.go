package idempotency

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/apperr"
	"zwfw/platform/mongox"
)

// CollectionName holds one record per claimed key.
const CollectionName = "idempotency_keys"

// Defaults of Options.
const (
	DefaultLease     = time.Minute
	DefaultRetention = 24 * time.Hour
	DefaultWait      = 3 * time.Second
)

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)

// ValidKey reports whether key is an acceptable Idempotency-Key: 1 to 128
// letters, digits, '-', '_', '.' or ':' (a UUID, as clients should send, fits).
func ValidKey(key string) bool { return keyPattern.MatchString(key) }

// Response is a stored answer, replayed byte for byte.
type Response struct {
	Status      int               `bson:"status"`
	ContentType string            `bson:"content_type,omitempty"`
	Headers     map[string]string `bson:"headers,omitempty"`
	Body        []byte            `bson:"body"`
}

// Record states.
const (
	stateRunning = "running"
	stateDone    = "done"
)

type record struct {
	ID          string    `bson:"_id"`
	Fingerprint string    `bson:"fingerprint"`
	State       string    `bson:"state"`
	Owner       string    `bson:"owner"`
	LockedUntil time.Time `bson:"locked_until"`
	Response    *Response `bson:"response,omitempty"`
	CreatedAt   time.Time `bson:"created_at"`
	ExpiresAt   time.Time `bson:"expires_at"`
}

// Options configures a Store; zero values take the defaults.
type Options struct {
	// Lease is how long a claim holds the key without an answer; a claimer
	// that died releases it by letting the lease run out.
	Lease time.Duration
	// Retention is how long an answered key is kept for replays.
	Retention time.Duration
	// Wait is how long a duplicate waits for the first request's answer.
	Wait time.Duration
	Now  func() time.Time
}

// Store keeps idempotency records in MongoDB.
type Store struct {
	coll *mongox.Collection
	opts Options

	mu      sync.Mutex
	waiters map[string]chan struct{} // record id -> closed when this process answers it
}

// NewStore returns the store in db's idempotency_keys collection.
func NewStore(db *mongo.Database, opts Options) *Store {
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Wait <= 0 {
		opts.Wait = DefaultWait
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{coll: mongox.C(db, CollectionName), opts: opts, waiters: map[string]chan struct{}{}}
}

// EnsureIndexes creates the index the purge uses.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	return s.coll.EnsureIndexes(ctx, mongo.IndexModel{Keys: bson.D{{Key: "expires_at", Value: 1}}})
}

// Claim is a request's hold on its key: do the work and Complete it, or
// Release it when the work must be retried.
type Claim struct {
	id    string
	owner string
}

// Begin claims key in scope for a request with fingerprint. Exactly one of
// the results is set: a Claim (do the work), a stored Response (replay it),
// or an error: apperr.IdempotencyReused for another request under the same
// key, apperr.IdempotencyInFlight (with a retry_after detail) when the first
// request is still working after the wait, or a store error.
func (s *Store) Begin(ctx context.Context, scope, key, fingerprint string) (*Claim, *Response, error) {
	if !ValidKey(key) {
		return nil, nil, apperr.IdempotencyMissing
	}
	id := "idem:" + scope + ":" + key
	// The wait is measured on the wall clock; Now (leases, expiry) may be a test's.
	deadline := time.Now().Add(s.opts.Wait)
	for {
		c, resp, running, err := s.try(ctx, id, fingerprint)
		if err != nil || c != nil || resp != nil {
			return c, resp, err
		}
		if !time.Now().Before(deadline) {
			secs := int(running.Sub(s.opts.Now()).Seconds()) + 1
			if secs < 1 || secs > int(s.opts.Lease.Seconds()) {
				secs = 1
			}
			return nil, nil, apperr.IdempotencyInFlight.WithDetail("retry_after", secs)
		}
		s.waitForAnswer(ctx, id, deadline)
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
	}
}

// try claims once. With neither a claim nor an answer, the key is being
// worked on until the returned time.
func (s *Store) try(ctx context.Context, id, fingerprint string) (*Claim, *Response, time.Time, error) {
	now := s.opts.Now().UTC().Truncate(time.Millisecond)
	owner := newOwner()
	rec := record{ID: id, Fingerprint: fingerprint, State: stateRunning, Owner: owner,
		LockedUntil: now.Add(s.opts.Lease), CreatedAt: now, ExpiresAt: now.Add(s.opts.Retention)}
	_, err := s.coll.InsertOne(ctx, rec)
	if err == nil {
		return &Claim{id: id, owner: owner}, nil, time.Time{}, nil
	}
	if !mongox.IsDuplicateKey(err) {
		return nil, nil, time.Time{}, apperr.Unavailable.WithCause(fmt.Errorf("idempotency: claim: %w", err))
	}
	var cur record
	if err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&cur); err != nil {
		if mongox.IsNoDocuments(err) { // released in between: claim again
			return s.try(ctx, id, fingerprint)
		}
		return nil, nil, time.Time{}, apperr.Unavailable.WithCause(fmt.Errorf("idempotency: read: %w", err))
	}
	if cur.Fingerprint != fingerprint {
		return nil, nil, time.Time{}, apperr.IdempotencyReused
	}
	if cur.State == stateDone && cur.Response != nil {
		return nil, cur.Response, time.Time{}, nil
	}
	if now.Before(cur.LockedUntil) {
		return nil, nil, cur.LockedUntil, nil
	}
	// The claimer's lease ran out (it died): take the key over.
	took, err := s.coll.UpdateIfMatched(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: stateRunning}, {Key: "owner", Value: cur.Owner}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: owner}, {Key: "locked_until", Value: now.Add(s.opts.Lease)}}}})
	if err != nil {
		return nil, nil, time.Time{}, apperr.Unavailable.WithCause(fmt.Errorf("idempotency: take over: %w", err))
	}
	if took {
		return &Claim{id: id, owner: owner}, nil, time.Time{}, nil
	}
	return nil, nil, now.Add(time.Second), nil
}

// Complete stores the answer of a claimed request for its duplicates.
func (s *Store) Complete(ctx context.Context, c *Claim, resp Response) error {
	defer s.signal(c.id)
	_, err := s.coll.UpdateOne(context.WithoutCancel(ctx),
		bson.D{{Key: "_id", Value: c.id}, {Key: "owner", Value: c.owner}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: stateDone}, {Key: "response", Value: resp}}}})
	if err != nil {
		return fmt.Errorf("idempotency: store answer: %w", err)
	}
	return nil
}

// Release gives the key back after a failure the client should retry (the
// server failed, or the request was never attempted).
func (s *Store) Release(ctx context.Context, c *Claim) error {
	defer s.signal(c.id)
	_, err := s.coll.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: c.id}, {Key: "owner", Value: c.owner}, {Key: "state", Value: stateRunning}})
	if err != nil {
		return fmt.Errorf("idempotency: release: %w", err)
	}
	return nil
}

// Purge deletes records that expired before t; the daily maintenance job calls it.
func (s *Store) Purge(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.coll.DeleteMany(ctx, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: t.UTC()}}}})
	if err != nil {
		return 0, fmt.Errorf("idempotency: purge: %w", err)
	}
	return res.DeletedCount, nil
}

// waitForAnswer waits until this process answers id, a short poll interval
// passes (another replica may answer it), or the deadline.
func (s *Store) waitForAnswer(ctx context.Context, id string, deadline time.Time) {
	s.mu.Lock()
	ch, ok := s.waiters[id]
	if !ok {
		ch = make(chan struct{})
		s.waiters[id] = ch
	}
	s.mu.Unlock()
	d := time.Until(deadline)
	if d > 100*time.Millisecond {
		d = 100 * time.Millisecond
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}

func (s *Store) signal(id string) {
	s.mu.Lock()
	ch, ok := s.waiters[id]
	delete(s.waiters, id)
	s.mu.Unlock()
	if ok {
		close(ch)
	}
}
