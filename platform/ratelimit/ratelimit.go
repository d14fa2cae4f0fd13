// Package ratelimit limits request rates with GCRA counters in Redis, so
// that every replica shares one budget per key, or in this process's memory
// when Redis is this process's own (the embedded miniredis: no other
// replica shares it, and its Lua runner builds a VM per script call).
//
// Every limit of a request is counted in one round trip: AllowAll sends one
// script call per key in one pipeline (one key per script, so it runs on
// Redis Cluster, whose nodes the pipeline reaches in parallel), with any
// other reads the request needs (the revocation check) in the same pipeline.
//
// Redis is disposable, and losing it must not switch the limits off (a
// Redis outage would otherwise open login and SMS sends to brute force):
// while Redis fails, each process counts in memory (local.go) and says so
// with Result.Degraded. Limits that protect money or correctness (e.g. SMS
// sends per phone) are kept in MongoDB by their domain, not here.
package ratelimit

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"zwfw/platform/redisx"
)

// Limit is a rate: Rate events per Period, with bursts up to Burst.
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// PerMinute allows n per minute with a burst of n.
func PerMinute(n int) Limit { return Limit{Rate: n, Period: time.Minute, Burst: n} }

// PerSecond allows n per second with a burst of n.
func PerSecond(n int) Limit { return Limit{Rate: n, Period: time.Second, Burst: n} }

// Result tells whether a request may go on and, when not, when to retry.
type Result struct {
	Allowed    bool
	Remaining  int
	RetryAfter time.Duration
	// Degraded: Redis was unreachable and this process counted alone (N
	// replicas then allow up to N times the limit between them).
	Degraded bool
}

// Check is one event to count for Key under Limit.
type Check struct {
	Key   string
	Limit Limit
}

// Limiter checks keys against limits.
type Limiter struct {
	rdb       redis.UniversalClient
	keys      redisx.Keys
	local     *local
	inProcess bool
}

// New builds a limiter whose counters live in rdb, shared by every
// replica; keys prefixes every counter.
func New(rdb redis.UniversalClient, keys redisx.Keys) *Limiter {
	return &Limiter{rdb: rdb, keys: keys, local: newLocal(localKeys)}
}

// NewInProcess builds a limiter that counts in this process's memory. Use
// it when Redis is this process's embedded one: the budget is the same, as
// no other replica could share that Redis. rdb still runs the extra
// commands AllowAll is given.
func NewInProcess(rdb redis.UniversalClient) *Limiter {
	return &Limiter{rdb: rdb, local: newLocal(localKeys), inProcess: true}
}

// Allow counts one event for key under limit.
func (l *Limiter) Allow(ctx context.Context, key string, limit Limit) Result {
	var res [1]Result
	l.AllowAll(ctx, []Check{{Key: key, Limit: limit}}, res[:], nil)
	return res[0]
}

// timeout bounds a limit's round trip: past it, the request is counted in
// memory rather than kept waiting for a Redis that does not answer.
const timeout = 300 * time.Millisecond

// AllowAll counts one event for each check, writing each result to out
// (len(out) >= len(checks)), in one round trip. also, when not nil, queues
// more commands on the same pipeline; the caller reads their results after
// AllowAll returns (each command carries its own error: a Redis outage
// fails them as it fails the limits). A check whose Rate is 0 or less is
// always allowed.
func (l *Limiter) AllowAll(ctx context.Context, checks []Check, out []Result, also func(redis.Pipeliner)) {
	var cmds [4]*redis.Cmd
	sent := cmds[:0]
	if len(checks) > len(cmds) {
		sent = make([]*redis.Cmd, 0, len(checks))
	}
	var pipe redis.Pipeliner
	for i, c := range checks {
		switch {
		case c.Limit.Rate <= 0:
			out[i] = Result{Allowed: true, Remaining: -1}
		case l.inProcess:
			out[i] = l.local.allow(c.Key, c.Limit, time.Now())
		default:
			if pipe == nil {
				pipe = l.rdb.Pipeline()
			}
			sent = append(sent, gcra.EvalSha(ctx, pipe, []string{l.key(c.Key)}, c.Limit.Burst, c.Limit.Rate, c.Limit.Period.Seconds()))
		}
	}
	if also != nil {
		if pipe == nil {
			pipe = l.rdb.Pipeline()
		}
		also(pipe)
	}
	if pipe == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, _ = pipe.Exec(ctx) // each command carries its own error
	if len(sent) == 0 {
		return
	}
	n := 0
	for i, c := range checks {
		if c.Limit.Rate <= 0 || l.inProcess {
			continue
		}
		cmd := sent[n]
		n++
		if err := cmd.Err(); err != nil && isNoScript(err) {
			// Redis restarted or was flushed: Run loads the script again.
			cmd = gcra.Run(ctx, l.rdb, []string{l.key(c.Key)}, c.Limit.Burst, c.Limit.Rate, c.Limit.Period.Seconds())
		}
		r, err := parse(cmd)
		if err != nil {
			r = l.local.allow(c.Key, c.Limit, time.Now())
			r.Degraded = true
		}
		out[i] = r
	}
}

func (l *Limiter) key(k string) string { return "rate:" + l.keys.Key("rl", k) }

func isNoScript(err error) bool { return strings.HasPrefix(err.Error(), "NOSCRIPT") }

func parse(cmd *redis.Cmd) (Result, error) {
	v, err := cmd.Slice()
	if err != nil {
		return Result{}, err
	}
	if len(v) != 3 {
		return Result{}, errors.New("ratelimit: unexpected script answer")
	}
	allowed, _ := v[0].(int64)
	remaining, _ := v[1].(int64)
	s, _ := v[2].(string)
	retry, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Result{}, err
	}
	r := Result{Allowed: allowed > 0, Remaining: int(remaining)}
	if !r.Allowed {
		r.RetryAfter = time.Duration(retry * float64(time.Second))
	}
	return r, nil
}

// gcra is the generic cell rate algorithm over one key holding the
// theoretical arrival time (as go-redis/redis_rate's allowN, after
// rwz/redis-gcra): ARGV burst, rate, period in seconds; answers allowed
// (0/1), remaining, and retry-after in seconds as a string. One key per
// call, so it runs on any node of a Redis Cluster.
var gcra = redis.NewScript(`
redis.replicate_commands()
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local interval = period / rate
local burst_offset = interval * burst
local t = redis.call("TIME")
local now = (t[1] - 1483228800) + (t[2] / 1000000)
local tat = redis.call("GET", key)
if not tat then tat = now else tat = tonumber(tat) end
tat = math.max(tat, now)
local new_tat = tat + interval
local diff = now - (new_tat - burst_offset)
local remaining = diff / interval
if remaining < 0 then
  return {0, 0, tostring(-diff)}
end
local reset_after = new_tat - now
if reset_after > 0 then
  redis.call("SET", key, new_tat, "EX", math.ceil(reset_after))
end
return {1, remaining, "-1"}
`)
