package nontax

import (
	"net/http"
	"time"
)

// idemEntry is the stored answer of a write under one Idempotency-Key.
type idemEntry struct {
	request string // method and path
	body    string // body hash
	at      time.Time
	done    chan struct{}
	status  int
	out     []byte
}

// once runs fn the first time key is seen and stores its answer if it is
// a success (2xx); a repeat of the same request gets that answer byte for
// byte (waiting while the first is still running); another request under
// the same key is IDEMPOTENCY_KEY_CONFLICT. Keys are kept IdempotencyTTL.
//
// Refusals are not stored (unlike the provincial gateway, which replays
// them): a refusal changed nothing, and a client whose keys are derived
// from the request must be able to retry once the state allows it (a
// refund refused as NOTICE_NOT_PAID succeeds after the payment is
// confirmed). Refusals by the gateway and injected faults happen before
// once and are not stored either.
func (s *Server) once(key, request, bodyHash string, now time.Time, fn func() (int, []byte)) (int, []byte, *Error) {
	s.mu.Lock()
	for k, e := range s.idem {
		if now.Sub(e.at) > IdempotencyTTL {
			select {
			case <-e.done:
				delete(s.idem, k)
			default:
			}
		}
	}
	e, seen := s.idem[key]
	if !seen {
		e = &idemEntry{request: request, body: bodyHash, at: now, done: make(chan struct{})}
		s.idem[key] = e
	}
	s.mu.Unlock()
	if seen {
		if e.request != request || e.body != bodyHash {
			return 0, nil, errorf(http.StatusConflict, CodeIdempotencyKeyConflict, "Idempotency-Key 已用于另一个请求")
		}
		<-e.done
		return e.status, e.out, nil
	}
	status, out := fn()
	s.mu.Lock()
	e.status, e.out = status, out
	if status/100 != 2 {
		delete(s.idem, key) // waiters still get this answer through e
	}
	s.mu.Unlock()
	close(e.done)
	return status, out, nil
}
