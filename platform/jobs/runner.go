package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Handler runs one job. It returns nil on success; an error schedules a retry
// with backoff (Permanent: dead at once; RetryAfter: a fixed delay). ctx is
// cancelled when the lease is lost or the runner is stopped hard. Handlers
// must be idempotent: a job may run again after a crash.
type Handler func(ctx context.Context, j *Job) error

// RunnerOptions configures a Runner; zero values take the defaults.
type RunnerOptions struct {
	// Owner names this worker in leases; unique per process. Default: host-pid-random.
	Owner string
	// Concurrency is how many handlers run at once. Default 4.
	Concurrency int
	// LeaseDuration is how long a claim lasts without renewal; it is renewed
	// every third of it while the handler runs. A dead worker's jobs are
	// taken over after this long. Default 30 s.
	LeaseDuration time.Duration
	// PollInterval is how often an idle runner looks for due jobs (enqueues
	// in this process wake it at once). Default 1 s.
	PollInterval time.Duration
	// Backoff gives the delay after a failed attempt (attempts counts the
	// failed one). Default ExponentialBackoff(1 s, 1 h).
	Backoff func(attempts int) time.Duration
	// Logger receives job failures and lease problems. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock for run_at and leases (tests). Default time.Now.
	Now func() time.Time
}

// Runner claims due jobs of its registered types and runs their handlers.
// The app builds one per process, registers every handler, then Start; on
// shutdown it calls Stop. Several runners (replicas) share the queue safely.
type Runner struct {
	q        *Queue
	opts     RunnerOptions
	log      *slog.Logger
	handlers map[string]Handler
	types    []string

	mu       sync.Mutex
	started  bool
	stopping chan struct{} // closed by Stop: claim no more
	stopOnce sync.Once
	loopDone chan struct{}
	inflight sync.WaitGroup
	wake     chan struct{}

	// handler contexts derive from hardCtx; cancelling it is the hard stop.
	hardCtx    context.Context
	hardCancel context.CancelFunc
	abandoned  atomic.Bool
}

// NewRunner returns a runner over db's job queue. Register handlers, then Start.
func NewRunner(db *mongo.Database, opts RunnerOptions) *Runner {
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(3))
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.LeaseDuration <= 0 {
		opts.LeaseDuration = 30 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Backoff == nil {
		opts.Backoff = ExponentialBackoff(time.Second, time.Hour)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	q := NewQueue(db)
	q.now = opts.Now
	// The safety-net scan (duehint.go) never runs more often than the runner polls.
	q.scanEvery = max(defaultScanEvery, opts.PollInterval)
	return &Runner{
		q:        q,
		opts:     opts,
		log:      opts.Logger.With("component", "jobs", "owner", opts.Owner),
		handlers: map[string]Handler{},
		stopping: make(chan struct{}),
		loopDone: make(chan struct{}),
	}
}

// Owner returns the name this runner writes into leases.
func (r *Runner) Owner() string { return r.opts.Owner }

// Register sets the handler for a job type. Call it before Start; it panics
// after Start or when the type already has a handler (a wiring bug).
func (r *Runner) Register(jobType string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		panic("jobs: Register after Start")
	}
	if _, dup := r.handlers[jobType]; dup || jobType == "" || h == nil {
		panic(fmt.Sprintf("jobs: bad or duplicate handler for %q", jobType))
	}
	r.handlers[jobType] = h
	r.types = append(r.types, jobType)
}

// Start begins claiming and running jobs in the background and returns at
// once. Cancelling ctx stops claiming like Stop does, but handlers keep
// running until Stop's context ends, so a shutdown signal on ctx still allows
// a graceful drain. Handler contexts carry ctx's values.
func (r *Runner) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		panic("jobs: Start called twice")
	}
	r.started = true
	r.hardCtx, r.hardCancel = context.WithCancel(context.WithoutCancel(ctx))
	r.wake = r.q.hub.Subscribe()
	go func() {
		select {
		case <-ctx.Done():
			r.stopClaiming()
		case <-r.stopping:
		}
	}()
	go r.loop()
}

// Stop stops claiming and waits for running handlers until ctx ends. If ctx
// ends first, it cancels the handlers' contexts and returns ctx's error
// without waiting further: jobs whose handler then fails stay "running"
// under their lease and are taken over by another worker once it expires,
// exactly as if the process had been killed. Safe to call more than once.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	started := r.started
	r.mu.Unlock()
	r.stopClaiming()
	if !started {
		return nil
	}
	done := make(chan struct{})
	go func() {
		<-r.loopDone
		r.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		r.q.hub.Unsubscribe(r.wake)
		r.hardCancel()
		return nil
	case <-ctx.Done():
		r.abandoned.Store(true)
		r.hardCancel()
		r.q.hub.Unsubscribe(r.wake)
		return fmt.Errorf("jobs: stop: handlers still running: %w", ctx.Err())
	}
}

func (r *Runner) stopClaiming() { r.stopOnce.Do(func() { close(r.stopping) }) }

func (r *Runner) isStopping() bool {
	select {
	case <-r.stopping:
		return true
	default:
		return false
	}
}

// loop is the single dispatcher: it claims while a slot is free and hands
// each job to its own goroutine. One claimer per runner keeps the number of
// claim queries low on MongoDB; on the embedded store a claim is chosen in
// memory and costs two look-ups by _id (duehint.go).
func (r *Runner) loop() {
	defer close(r.loopDone)
	slots := make(chan struct{}, r.opts.Concurrency)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case slots <- struct{}{}:
		case <-r.stopping:
			return
		}
		if r.isStopping() {
			<-slots
			return
		}
		j, err := r.q.claim(r.hardCtx, r.types, r.opts.Owner, r.opts.LeaseDuration)
		if err != nil {
			r.log.Warn("claim failed", "err", err)
		}
		if j == nil {
			<-slots
			timer.Reset(r.opts.PollInterval)
			select {
			case <-r.wake:
			case <-timer.C:
			case <-r.stopping:
				return
			}
			timer.Stop() // Go >= 1.23: Stop/Reset leave no stale tick behind
			continue
		}
		r.inflight.Add(1)
		go func() {
			defer func() {
				<-slots
				r.inflight.Done()
			}()
			r.run(j)
		}()
	}
}

// run executes one claimed job and records the outcome with a write guarded
// by this claim's lease.
func (r *Runner) run(j *Job) {
	log := r.log.With("job", j.ID, "type", j.Type, "attempt", j.Attempts)
	// A worker that died on the final attempt leaves attempts == max; the
	// takeover claim pushes it past max: give up instead of running again, so
	// a job that kills its worker cannot loop forever.
	if j.Attempts > j.MaxAttempts {
		r.finish(log, j, Permanent(errors.New("lease expired on the final attempt (worker died?)")))
		return
	}
	ctx, cancel := context.WithCancel(r.hardCtx)
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		r.keepLease(ctx, cancel, j, log)
	}()
	err := r.call(ctx, j)
	cancel()
	<-renewDone
	if err != nil && r.abandoned.Load() {
		log.Warn("job abandoned by hard stop; it stays leased until another worker takes it", "err", err)
		return
	}
	r.finish(log, j, err)
}

// keepLease renews the lease every third of its duration until ctx ends. If
// the lease is lost (or cannot be renewed before it runs out) it cancels the
// handler, since another worker may take the job over.
func (r *Runner) keepLease(ctx context.Context, cancel context.CancelFunc, j *Job, log *slog.Logger) {
	every := max(r.opts.LeaseDuration/3, time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	leaseUntil := j.LeaseUntil
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := r.q.renew(ctx, j, r.opts.LeaseDuration)
		switch {
		case err == nil && ok:
			leaseUntil = r.opts.Now().Add(r.opts.LeaseDuration)
		case err == nil && !ok:
			log.Warn("lease lost; cancelling handler")
			cancel()
			return
		case ctx.Err() != nil:
			return
		case !r.opts.Now().Before(leaseUntil):
			log.Warn("lease could not be renewed before it expired; cancelling handler", "err", err)
			cancel()
			return
		default:
			log.Warn("lease renewal failed; will retry", "err", err)
		}
	}
}

// call runs the handler, turning a panic into an error.
func (r *Runner) call(ctx context.Context, j *Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("job handler panicked", "job", j.ID, "type", j.Type, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return r.handlers[j.Type](ctx, j)
}

// finish records the outcome. It uses a fresh context: the handler's may be
// cancelled, and a finished job must be recorded if at all possible.
func (r *Runner) finish(log *slog.Logger, j *Job, runErr error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.hardCtx), 30*time.Second)
	defer cancel()
	var (
		ok  bool
		err error
	)
	switch {
	case runErr == nil:
		ok, err = r.q.complete(ctx, j)
	case IsPermanent(runErr) || j.Attempts >= j.MaxAttempts:
		log.Warn("job dead", "err", runErr)
		ok, err = r.q.bury(ctx, j, runErr.Error())
	default:
		delay, fixed := retryDelay(runErr)
		if !fixed {
			delay = r.opts.Backoff(j.Attempts)
		}
		log.Info("job failed; will retry", "err", runErr, "delay", delay)
		ok, err = r.q.reschedule(ctx, j, r.opts.Now().Add(delay), runErr.Error())
		if err == nil && ok {
			r.q.hub.NotifyAfter(delay)
		}
	}
	switch {
	case err != nil:
		log.Error("recording job outcome failed; the lease will expire and the job run again", "err", err)
	case !ok:
		log.Warn("lease lost before the outcome was recorded; another worker may repeat the job")
	}
}
