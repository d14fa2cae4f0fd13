package gwserver

import (
	"net/http"
	"time"
)

// MaxIdempotencyKeyLen bounds Idempotency-Key; longer keys are PARAM_INVALID.
const MaxIdempotencyKeyLen = 128

// idemEntry is the stored answer of a write under one Idempotency-Key.
type idemEntry struct {
	request string // method and path
	body    string // body hash
	at      time.Time
	done    chan struct{}
	status  int
	out     []byte
}

// Once runs fn the first time key is seen and stores its answer; a repeat
// of the same request (request is method and path, bodyHash the body's
// hash) gets that answer byte for byte, waiting while the first is still
// running. Another request under the same key is refused with
// IDEMPOTENCY_KEY_CONFLICT (409). Keys are kept IdempotencyTTL. Unless
// Options.ReplayRefusals, a non-2xx answer is not stored: waiters already
// queued still get it, later repeats run fn again.
func (g *Gateway) Once(key, request, bodyHash string, now time.Time, fn func() (int, []byte)) (int, []byte, *Refusal) {
	g.mu.Lock()
	for k, e := range g.idem {
		if now.Sub(e.at) > g.opts.IdempotencyTTL {
			select {
			case <-e.done:
				delete(g.idem, k)
			default:
			}
		}
	}
	e, seen := g.idem[key]
	if !seen {
		e = &idemEntry{request: request, body: bodyHash, at: now, done: make(chan struct{})}
		g.idem[key] = e
	}
	g.mu.Unlock()
	if seen {
		if e.request != request || e.body != bodyHash {
			return 0, nil, Refuse(http.StatusConflict, CodeIdempotencyKeyConflict, "Idempotency-Key 已用于另一个请求")
		}
		<-e.done
		return e.status, e.out, nil
	}
	status, out := fn()
	g.mu.Lock()
	e.status, e.out = status, out
	if !g.opts.ReplayRefusals && status/100 != 2 {
		delete(g.idem, key) // waiters still get this answer through e
	}
	g.mu.Unlock()
	close(e.done)
	return status, out, nil
}
