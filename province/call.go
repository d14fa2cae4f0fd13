package province

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/apperr"
)

// endpoint is one route of the contract. route is the template recorded in
// metrics and the exchange log; it never contains personal data.
type endpoint struct {
	group  group
	method string
	route  string
}

// request is one call: an endpoint, the concrete (escaped) path below the
// base URL, the query and the JSON body.
type request struct {
	ep      endpoint
	path    string
	query   url.Values
	body    any // marshalled to JSON; nil for no body
	idemKey string
}

// envelope is the gateway's response body.
type envelope struct {
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	RequestID string          `json:"request_id"`
}

// defaultRetryAfter is the retry_after hint when the province is failing
// and did not say when to come back.
const defaultRetryAfter = 5 * time.Second

// do runs one call and returns the envelope's data. GETs are idempotent
// reads: identical concurrent ones are coalesced (singleflight) and failed
// ones retried with backoff. Anything else is sent exactly once.
func (c *Client) do(ctx context.Context, r request) (json.RawMessage, error) {
	ctx = WithCorrelationID(ctx, correlationFrom(ctx))
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, apperr.Internal.WithCause(err)
		}
		body = b
	}
	q := canonicalQuery(r.query)
	if r.ep.method != http.MethodGet {
		data, _, err := c.attempt(ctx, r, q, body, 1)
		return data, err
	}
	ch := c.sf.DoChan("req:GET "+r.path+"?"+q, func() (any, error) {
		sctx, cancel := c.detach(ctx)
		defer cancel()
		return c.withRetries(sctx, r, q)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(json.RawMessage), nil
	case <-ctx.Done():
		return nil, ErrTimeout.WithCause(ctx.Err())
	}
}

// withRetries runs a GET, retrying after 5xx, timeouts and transport errors
// with exponential backoff and jitter.
func (c *Client) withRetries(ctx context.Context, r request, q string) (json.RawMessage, error) {
	for n := 1; ; n++ {
		data, retryable, err := c.attempt(ctx, r, q, nil, n)
		if err == nil || !retryable || n > c.retries {
			return data, err
		}
		c.m.retries.WithLabelValues(string(r.ep.group), r.ep.route).Inc()
		t := time.NewTimer(c.backoffFor(n))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return data, err
		}
	}
}

// backoffFor is the delay before retry n (1-based): base·2^(n-1), capped at
// 2s, of which a random half is jitter so replicas do not retry in step.
func (c *Client) backoffFor(n int) time.Duration {
	d := c.backoff << min(n-1, 16)
	if d > 2*time.Second || d <= 0 {
		d = 2 * time.Second
	}
	half := d / 2
	return half + rand.N(half+1)
}

// outcome is what one HTTP exchange came to.
type outcome struct {
	status       int
	data         json.RawMessage
	provinceCode string
	requestID    string
	err          *apperr.Error
	result       string
	failure      bool // counts against the group's breaker
	retryable    bool // a GET may try again
}

// attempt sends one request through the group's breaker, records metrics
// and the exchange log, and reports whether a read may retry.
func (c *Client) attempt(ctx context.Context, r request, q string, body []byte, n int) (json.RawMessage, bool, error) {
	g := r.ep.group
	x := Exchange{
		ID:            bson.NewObjectID(),
		At:            c.now().UTC(),
		Group:         string(g),
		Endpoint:      r.ep.route,
		Method:        r.ep.method,
		Caller:        callerFrom(ctx),
		CorrelationID: correlationFrom(ctx),
		Attempt:       n,
	}
	b := c.breakers[g]
	done, ok := b.allow()
	if !ok {
		err := ErrUnavailable.WithDetail("retry_after", ceilSeconds(b.timeout))
		x.Result, x.ErrorCode = ResultBreakerOpen, err.Code
		c.m.calls.WithLabelValues(string(g), r.ep.route, ResultBreakerOpen).Inc()
		c.recordExchange(x)
		return nil, false, err
	}
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, c.timeouts[g])
	o := c.exchange(ctx, actx, r, q, body, x.CorrelationID)
	cancel()
	elapsed := time.Since(start)
	done(!o.failure)

	c.m.calls.WithLabelValues(string(g), r.ep.route, o.result).Inc()
	c.m.duration.WithLabelValues(string(g), r.ep.route).Observe(elapsed.Seconds())
	x.Status, x.Result, x.LatencyMS = o.status, o.result, elapsed.Milliseconds()
	x.ProvinceCode, x.RequestID = o.provinceCode, o.requestID
	if o.err != nil {
		x.ErrorCode = o.err.Code
		level := c.log.Debug
		if o.failure || o.result == ResultBadResponse || errors.Is(o.err, ErrAuthFailed) {
			level = c.log.Warn
		}
		level("province call failed", "group", g, "endpoint", r.ep.route, "method", r.ep.method,
			"status", o.status, "result", o.result, "code", o.err.Code, "province_code", o.provinceCode,
			"correlation_id", x.CorrelationID, "attempt", n, "err", o.err.Unwrap())
	}
	c.recordExchange(x)
	if o.err != nil {
		return nil, o.retryable, o.err
	}
	return o.data, false, nil
}

func (c *Client) recordExchange(x Exchange) {
	if c.exch != nil {
		c.exch.record(x)
	}
}

// exchange signs and sends one request within actx (the attempt's deadline;
// ctx is the caller's, to tell our timeout from the caller giving up), then
// verifies and decodes the answer.
func (c *Client) exchange(ctx, actx context.Context, r request, q string, body []byte, correlationID string) outcome {
	target := c.base + r.path
	if q != "" {
		target += "?" + q
	}
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, r.ep.method, target, rd)
	if err != nil {
		return outcome{result: ResultError, err: apperr.Internal.WithCause(err)}
	}
	ts := strconv.FormatInt(c.now().UnixMilli(), 10)
	nonce := newNonce()
	sts := requestStringToSign(r.ep.method, r.path, q, c.signer.bodyHash(body), c.appKey, ts, nonce)
	h := req.Header
	h.Set(hdrAppKey, c.appKey)
	h.Set(hdrTimestamp, ts)
	h.Set(hdrNonce, nonce)
	h.Set(hdrSignMethod, c.signer.method)
	h.Set(hdrSignature, c.signer.sign(sts))
	h.Set(hdrCorrelationID, correlationID)
	h.Set("Accept", "application/json")
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	if r.idemKey != "" {
		h.Set(hdrIdempotency, r.idemKey)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportFailure(ctx, actx, 0, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return c.transportFailure(ctx, actx, resp.StatusCode, err)
	}
	o := outcome{status: resp.StatusCode}
	if int64(len(raw)) > c.maxBody {
		o.result, o.err = ResultBadResponse, ErrBadResponse.WithCause(errors.New("response body over the size limit"))
		return o
	}
	signed := c.verifyResponse(resp, raw, nonce)
	var env envelope
	decoded := signed && json.Unmarshal(raw, &env) == nil && env.Code != ""
	if decoded {
		o.requestID = env.RequestID
		if env.Code != "0" {
			o.provinceCode = env.Code
		}
	}

	if resp.StatusCode >= 500 {
		// The province (or a proxy in front of it) is failing. Its body, signed
		// or not, is never used beyond the code for the log.
		o.result, o.failure, o.retryable = ResultError, true, true
		o.err = ErrUnavailable.WithDetail("retry_after", retryAfter(resp.Header)).
			WithCause(errors.New("province answered " + resp.Status))
		if o.provinceCode != "" {
			o.err = o.err.WithDetail("province_code", o.provinceCode)
		}
		return o
	}
	if !signed {
		o.result, o.err = ResultBadResponse, ErrBadResponse.WithCause(errors.New("response unsigned or signature invalid"))
		return o
	}
	if !decoded {
		o.result, o.err = ResultBadResponse, ErrBadResponse.WithCause(errors.New("response is not the gateway envelope"))
		return o
	}
	switch {
	case env.Code == "0" && resp.StatusCode/100 == 2:
		o.result, o.data = ResultOK, env.Data
	case env.Code == "0":
		o.result, o.err = ResultBadResponse, ErrBadResponse.WithCause(errors.New("success code with status "+resp.Status))
	default:
		o.result, o.err = ResultError, mapProvinceError(resp.StatusCode, env.Code, env.Message)
		if resp.StatusCode == http.StatusTooManyRequests {
			o.err = o.err.WithDetail("retry_after", retryAfter(resp.Header))
		}
	}
	return o
}

// transportFailure classifies a failed round trip: our per-attempt timeout,
// the caller giving up, or a network error.
func (c *Client) transportFailure(ctx, actx context.Context, status int, err error) outcome {
	// A *url.Error quotes the URL, whose path or query may hold a case
	// number or a licence code; keep only what went wrong.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case ctx.Err() != nil:
		// The caller gave up: not the province's fault, so not a breaker
		// failure, and nobody is left to retry for.
		return outcome{status: status, result: ResultError, err: ErrTimeout.WithCause(err)}
	case errors.Is(actx.Err(), context.DeadlineExceeded):
		return outcome{status: status, result: ResultTimeout, failure: true, retryable: true,
			err: ErrTimeout.WithDetail("retry_after", ceilSeconds(defaultRetryAfter)).WithCause(err)}
	default:
		return outcome{status: status, result: ResultError, failure: true, retryable: true,
			err: ErrUnavailable.WithDetail("retry_after", ceilSeconds(defaultRetryAfter)).WithCause(err)}
	}
}

// verifyResponse checks the response signature of the contract:
// HMAC(secret, STATUS\nBODY_HASH\nTIMESTAMP\nNONCE\nREQUEST_NONCE), which
// also binds the answer to this request's nonce.
func (c *Client) verifyResponse(resp *http.Response, body []byte, requestNonce string) bool {
	ts, nonce, sig := resp.Header.Get(hdrTimestamp), resp.Header.Get(hdrNonce), resp.Header.Get(hdrSignature)
	if ts == "" || nonce == "" || sig == "" {
		return false
	}
	return c.signer.verify(responseStringToSign(resp.StatusCode, c.signer.bodyHash(body), ts, nonce, requestNonce), sig)
}

// retryAfter reads a Retry-After header given in seconds, else the default.
func retryAfter(h http.Header) int {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
		return s
	}
	return ceilSeconds(defaultRetryAfter)
}

func ceilSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
