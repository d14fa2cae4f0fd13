package jobs

import (
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// State is where a job is in its life cycle.
type State string

// Job states.
const (
	StatePending State = "pending" // waiting for run_at
	StateRunning State = "running" // claimed by lease_owner until lease_until
	StateDone    State = "done"    // the handler succeeded
	StateDead    State = "dead"    // gave up: max attempts or a Permanent error
)

// DefaultMaxAttempts is used when EnqueueRequest.MaxAttempts is zero.
const DefaultMaxAttempts = 10

// Job is a unit of durable work as stored in the "jobs" collection.
type Job struct {
	ID          string    `bson:"_id"`
	Type        string    `bson:"type"`
	Payload     bson.Raw  `bson:"payload"`
	State       State     `bson:"state"`
	RunAt       time.Time `bson:"run_at"`
	Attempts    int       `bson:"attempts"` // claims so far, including the current one
	MaxAttempts int       `bson:"max_attempts"`
	LeaseOwner  string    `bson:"lease_owner,omitempty"`
	LeaseUntil  time.Time `bson:"lease_until,omitempty"`
	LastError   string    `bson:"last_error,omitempty"`
	CreatedAt   time.Time `bson:"created_at"`
	UpdatedAt   time.Time `bson:"updated_at"`
	FinishedAt  time.Time `bson:"finished_at,omitempty"`
	// IdempotencyKey is the enqueue key (or the job id when none was given).
	// Handlers pass it to outside systems so a repeated run is harmless.
	IdempotencyKey string `bson:"idempotency_key"`
}

// Decode unmarshals the job's payload into v (a pointer to a struct or map).
func (j *Job) Decode(v any) error {
	if len(j.Payload) == 0 {
		return bson.Unmarshal(emptyDoc, v)
	}
	if err := bson.Unmarshal(j.Payload, v); err != nil {
		return fmt.Errorf("jobs: decode payload of %s: %w", j.ID, err)
	}
	return nil
}

// EnqueueRequest describes work to enqueue.
type EnqueueRequest struct {
	// Type selects the handler, e.g. "province.submit".
	Type string
	// Key is the idempotency key: the same Type+Key enqueues at most one job,
	// ever (until the job is purged). Empty means a new random job each time.
	Key string
	// Payload is any value that marshals to a BSON document (struct, map,
	// bson.D, bson.Raw); nil means an empty document.
	Payload any
	// RunAt delays the first run; zero means now.
	RunAt time.Time
	// MaxAttempts bounds the number of runs; zero means DefaultMaxAttempts.
	MaxAttempts int
}

// ErrNotFound is returned by Get and Retry when no job has the id.
var ErrNotFound = errors.New("jobs: job not found")

// ErrNotDead is returned by Retry when the job is not dead.
var ErrNotDead = errors.New("jobs: job is not dead")

var emptyDoc = func() bson.Raw {
	b, _ := bson.Marshal(bson.D{})
	return b
}()

// permanentError parks a job as dead without further attempts.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying (bad payload, a rejection the
// outside system will repeat): the runner parks the job as dead at once.
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err (or an error it wraps) was made by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// retryAfterError overrides the backoff for the next attempt.
type retryAfterError struct {
	err   error
	delay time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter returns err with a fixed delay before the next attempt instead of
// the runner's backoff, e.g. when an outside system answered "retry in 60 s".
// The attempt still counts towards MaxAttempts. RetryAfter(nil, d) is nil.
func RetryAfter(err error, delay time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, delay: delay}
}

func retryDelay(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.delay, true
	}
	return 0, false
}

// utcMillis is how every time is stored: UTC, truncated to what BSON dates keep.
func utcMillis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
