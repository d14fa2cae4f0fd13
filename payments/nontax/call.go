package nontax

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"zwfw/platform/gwsign"
)

// envelope is the platform's answer body.
type envelope struct {
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	RequestID string          `json:"request_id"`
}

// request is one call: method, the path below the base URL (escaped), the
// query and the JSON body (nil for none).
type request struct {
	method string
	path   string
	query  url.Values
	body   any
}

// do runs a call with bounded retries and returns the envelope's data.
// Writes (POST) carry an Idempotency-Key derived from method, path and
// body, so every attempt, and any later call with the same request, is the
// same write to the platform.
func (c *Client) do(ctx context.Context, r request) (json.RawMessage, error) {
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("nontax: encode request: %w", err)
		}
		body = b
	}
	q := gwsign.CanonicalQuery(r.query)
	var key string
	if r.method == http.MethodPost {
		key = idempotencyKey(r.method, r.path, body)
	}
	for n := 0; ; n++ {
		data, retryable, err := c.attempt(ctx, r.method, r.path, q, body, key)
		if err == nil || !retryable || n >= c.retries {
			return data, err
		}
		c.log.Debug("nontax call retried", "method", r.method, "path", r.path, "attempt", n+1, "err", err)
		t := time.NewTimer(c.backoffFor(n + 1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, err
		}
	}
}

// idempotencyKey is "nt-" and 40 hex characters of SHA-256 over the
// request: the same confirmation or refund always has the same key, a
// different one (another amount, another time) never does.
func idempotencyKey(method, path string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method + " " + path + "\n"))
	h.Write(body)
	return "nt-" + hex.EncodeToString(h.Sum(nil))[:40]
}

// backoffFor is the delay before retry n (1-based): base·2^(n-1), capped at
// 2s, half of it random jitter so that replicas do not retry in step.
func (c *Client) backoffFor(n int) time.Duration {
	d := c.backoff << min(n-1, 16)
	if d > 2*time.Second || d <= 0 {
		d = 2 * time.Second
	}
	half := d / 2
	return half + rand.N(half+1)
}

// attempt signs and sends one request, verifies and decodes the answer,
// and says whether another attempt may help.
func (c *Client) attempt(ctx context.Context, method, path, q string, body []byte, idemKey string) (json.RawMessage, bool, error) {
	target := c.base + path
	if q != "" {
		target += "?" + q
	}
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, target, rd)
	if err != nil {
		return nil, false, fmt.Errorf("nontax: build request: %w", err)
	}
	ts := strconv.FormatInt(c.now().UnixMilli(), 10)
	nonce := gwsign.NewNonce()
	sts := gwsign.RequestStringToSign(method, path, q, c.signer.BodyHash(body), c.appKey, ts, nonce)
	h := req.Header
	h.Set(gwsign.HeaderAppKey, c.appKey)
	h.Set(gwsign.HeaderTimestamp, ts)
	h.Set(gwsign.HeaderNonce, nonce)
	h.Set(gwsign.HeaderSignMethod, c.signer.Method())
	h.Set(gwsign.HeaderSignature, c.signer.Sign(sts))
	h.Set("Accept", "application/json")
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	if idemKey != "" {
		h.Set(gwsign.HeaderIdempotencyKey, idemKey)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, ctx.Err() == nil, transportError(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, ctx.Err() == nil, transportError(ctx, err)
	}
	if int64(len(raw)) > c.maxBody {
		return nil, false, fmt.Errorf("%w: body over %d bytes", ErrBadResponse, c.maxBody)
	}
	signed := c.verify(resp, raw, nonce)
	var env envelope
	decoded := signed && json.Unmarshal(raw, &env) == nil && env.Code != ""

	retryable := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
	switch {
	case retryable && decoded:
		return nil, true, &Error{Status: resp.StatusCode, Code: env.Code, Message: env.Message, RequestID: env.RequestID, retryable: true}
	case retryable:
		// A proxy in front of the platform (its pages are not signed).
		return nil, true, fmt.Errorf("%w: HTTP %d", ErrUnavailable, resp.StatusCode)
	case !signed:
		return nil, false, fmt.Errorf("%w: HTTP %d unsigned or signature invalid", ErrBadResponse, resp.StatusCode)
	case !decoded:
		return nil, false, fmt.Errorf("%w: HTTP %d is not the envelope", ErrBadResponse, resp.StatusCode)
	case env.Code == "0" && resp.StatusCode/100 == 2:
		return env.Data, false, nil
	case env.Code == "0":
		return nil, false, fmt.Errorf("%w: success code with HTTP %d", ErrBadResponse, resp.StatusCode)
	}
	// GW_NONCE_REPLAYED for a nonce this attempt drew means the request was
	// sent twice: net/http's Transport resends GETs, and POSTs carrying an
	// Idempotency-Key, with the same headers when a kept-alive connection
	// breaks. A new attempt has a new nonce (and the same key).
	replayed := env.Code == codeNonceReplayed
	return nil, replayed, &Error{Status: resp.StatusCode, Code: env.Code, Message: env.Message, RequestID: env.RequestID, retryable: replayed}
}

// codeNonceReplayed is the gateway's refusal of a nonce it has seen.
const codeNonceReplayed = "GW_NONCE_REPLAYED"

// verify checks the response signature of the contract, which binds the
// answer to this request's nonce.
func (c *Client) verify(resp *http.Response, body []byte, requestNonce string) bool {
	ts, nonce, sig := resp.Header.Get(gwsign.HeaderTimestamp), resp.Header.Get(gwsign.HeaderNonce), resp.Header.Get(gwsign.HeaderSignature)
	if ts == "" || nonce == "" || sig == "" {
		return false
	}
	if m := resp.Header.Get(gwsign.HeaderSignMethod); m != "" && m != c.signer.Method() {
		return false
	}
	return c.signer.Verify(gwsign.ResponseStringToSign(resp.StatusCode, c.signer.BodyHash(body), ts, nonce, requestNonce), sig)
}

// transportError wraps a failed round trip as ErrUnavailable, keeping the
// caller's cancellation visible (errors.Is(err, context.Canceled)). A
// *url.Error quotes the URL, whose path or query may hold a payer's ID
// number; only what went wrong is kept.
func transportError(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
