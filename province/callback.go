package province

import (
	"container/list"
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// nonceTTL is how long a callback nonce is remembered: the contract's
// replay window (10 minutes), longer than twice the accepted skew.
const nonceTTL = 10 * time.Minute

// VerifyCallback checks a callback the province POSTs to zwfw (case status
// changes): the contract's request signature with the roles reversed — the
// province signs with zwfw's app key and secret. The handler of the callback
// route calls it with the request and its already-read body before acting
// on anything; PATH is the request's path as received, so mount the route
// without prefix rewriting.
//
// Checks, in order: headers present and the app key is zwfw's
// (PROVINCE_CALLBACK_SIGNATURE_MISSING), timestamp within CallbackMaxSkew
// (PROVINCE_CALLBACK_TIMESTAMP_SKEW), signature (PROVINCE_CALLBACK_SIGNATURE_INVALID),
// then the nonce was not seen in the last 10 minutes
// (PROVINCE_CALLBACK_NONCE_REPLAYED). Nonces live in Redis (SET NX with a
// TTL, shared by replicas) and, when Redis is unavailable, in an in-memory
// LRU of this replica.
func (c *Client) VerifyCallback(r *http.Request, body []byte) error {
	h := r.Header
	appKey, ts, nonce := h.Get(hdrAppKey), h.Get(hdrTimestamp), h.Get(hdrNonce)
	method, sig := h.Get(hdrSignMethod), h.Get(hdrSignature)
	if appKey == "" || ts == "" || nonce == "" || sig == "" {
		return ErrCallbackUnsigned
	}
	if appKey != c.appKey || !isNonce(nonce) {
		return ErrCallbackSignature
	}
	if method == "" {
		method = c.signer.method
	}
	s, ok := newSigner(method, string(c.signer.secret))
	if !ok {
		return ErrCallbackSignature
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrCallbackSkew
	}
	if skew := c.now().Sub(time.UnixMilli(ms)); skew > c.cbMaxSkew || skew < -c.cbMaxSkew {
		return ErrCallbackSkew
	}
	sts := requestStringToSign(r.Method, r.URL.EscapedPath(), canonicalQuery(r.URL.Query()), s.bodyHash(body), appKey, ts, nonce)
	if !s.verify(sts, sig) {
		return ErrCallbackSignature
	}
	// Only a correctly signed request may spend a nonce.
	if !c.claimNonce(r.Context(), nonce) {
		return ErrCallbackReplayed
	}
	return nil
}

// SignCallbackResponse signs zwfw's answer to a callback the way the
// gateway signs its responses (STATUS, BODY_HASH, TIMESTAMP, NONCE,
// REQUEST_NONCE), so the province can check it; the callback handler calls
// it with the status and body it is about to write and the request's nonce.
func (c *Client) SignCallbackResponse(h http.Header, status int, body []byte, requestNonce string) {
	ts := strconv.FormatInt(c.now().UnixMilli(), 10)
	nonce := newNonce()
	h.Set(hdrTimestamp, ts)
	h.Set(hdrNonce, nonce)
	h.Set(hdrSignMethod, c.signer.method)
	h.Set(hdrSignature, c.signer.sign(responseStringToSign(status, c.signer.bodyHash(body), ts, nonce, requestNonce)))
}

// claimNonce records nonce and reports whether it was new.
func (c *Client) claimNonce(ctx context.Context, nonce string) bool {
	if c.redisUsable() {
		rctx, cancel := context.WithTimeout(ctx, c.cacheCfg.OpTimeout)
		fresh, err := c.rdb.SetNX(rctx, c.keys.Key("province", "callback-nonce", nonce), 1, nonceTTL).Result()
		cancel()
		if err == nil {
			// Remember it locally too: should Redis go away within the
			// window, this replica still knows it.
			c.nonces.add(nonce, c.now())
			return fresh
		}
		c.redisFailed("setnx", err)
	}
	return c.nonces.add(nonce, c.now())
}

// nonceLRU is a bounded set of recently seen nonces with expiry: the
// fallback replay guard when Redis is down. When full, the oldest nonce is
// forgotten (it is the closest to expiring anyway).
type nonceLRU struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = newest; values are nonceEntry
	seen  map[string]*list.Element
}

type nonceEntry struct {
	nonce string
	at    time.Time
}

func newNonceLRU(max int) *nonceLRU {
	return &nonceLRU{max: max, order: list.New(), seen: make(map[string]*list.Element)}
}

// add records nonce at now and reports whether it was not already there
// (within nonceTTL).
func (l *nonceLRU) add(nonce string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Expire from the back (oldest first).
	for e := l.order.Back(); e != nil; e = l.order.Back() {
		ne := e.Value.(nonceEntry)
		if now.Sub(ne.at) < nonceTTL && l.order.Len() < l.max {
			break
		}
		l.order.Remove(e)
		delete(l.seen, ne.nonce)
	}
	if _, ok := l.seen[nonce]; ok {
		return false
	}
	l.seen[nonce] = l.order.PushFront(nonceEntry{nonce: nonce, at: now})
	return true
}
