// Package gwserver is the server side of the provincial gateway contract
// (docs/province-gateway.md) that the sandbox's gateway fakes share: the
// request and response signatures, authentication with timestamp-skew and
// nonce-replay checks, the coded JSON envelope, the Idempotency-Key replay
// store, injected faults and per-endpoint counters.
//
// A fake (sandbox/province, sandbox/nontax) keeps its routes, its services
// and its error type; it builds one Gateway with New and calls it around
// every API request:
//
//	req, ok := gw.Admit(w, r, endpoint, below) // count, read, authenticate
//	if !ok { return }                          // refusal already answered
//	f, hit := gw.TakeFault(group)              // then gw.Inject(...)
//	status, out, conflict := gw.Once(key, ...) // writes under Idempotency-Key
//	gw.Send(w, r, req.SignMethod, status, out) // signed answer
//
// Everything is in memory; a Gateway is safe for concurrent use.
package gwserver

import (
	"log/slog"
	"sync"
	"time"

	"zwfw/sandbox/fake"
)

// Options configures a Gateway. Durations must be set; the others have
// defaults.
type Options struct {
	// Name prefixes log messages ("province request refused").
	Name string
	// AppKey and AppSecret of the one app the gateway knows.
	AppKey, AppSecret string
	// BasePath is cut from the request path before it is signed
	// ("/province": the client signs the path below its base URL).
	BasePath string
	// MaxSkew is how far X-Gw-Timestamp may be from the clock.
	MaxSkew time.Duration
	// NonceWindow is how long a nonce stays used.
	NonceWindow time.Duration
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration
	// ClockOwner names whose clock a skewed timestamp is measured against
	// in the refusal ("网关", "平台"); default "网关".
	ClockOwner string
	// ReplayRefusals makes Once store and replay non-2xx answers too (the
	// provincial gateway does); when false only successes are stored, so a
	// refused write can be retried under the same key once the state allows.
	ReplayRefusals bool
	// FaultGroups are the endpoint groups faults may target, GroupAll
	// included, in the order error messages list them.
	FaultGroups []string
	// FaultModes are the modes SetFault accepts, FaultOff included, in the
	// order error messages list them; default error, timeout, slow, drop, off.
	FaultModes []string
	// FaultRate lets faults hit a share of requests (Fault.Rate); when
	// false Rate is ignored.
	FaultRate bool
	Now       fake.Clock // default time.Now
	Logger    *slog.Logger
}

// Gateway holds one gateway's credentials and state: used nonces, stored
// idempotent answers, faults in force and counters.
type Gateway struct {
	opts Options
	now  fake.Clock
	log  *slog.Logger

	mu        sync.Mutex
	nonces    map[string]time.Time
	nonceLog  []nonceEntry
	idem      map[string]*idemEntry
	faults    map[string]*Fault // by group
	stats     map[string]*EndpointStats
	pathCalls map[string]int
}

type nonceEntry struct {
	nonce string
	at    time.Time
}

// New creates a Gateway from opts.
func New(opts Options) *Gateway {
	if opts.ClockOwner == "" {
		opts.ClockOwner = "网关"
	}
	if opts.FaultModes == nil {
		opts.FaultModes = []string{FaultError, FaultTimeout, FaultSlow, FaultDrop, FaultOff}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Gateway{
		opts: opts, now: opts.Now.OrWall(), log: opts.Logger,
		nonces: map[string]time.Time{}, idem: map[string]*idemEntry{},
		faults: map[string]*Fault{}, stats: map[string]*EndpointStats{}, pathCalls: map[string]int{},
	}
}
