package courier

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"zwfw/apperr"
)

// DefaultBaseURL is Kuaidi100's host for queries, subscriptions and
// pickup orders (poll.kuaidi100.com/poll/query.do, /poll, /order/borderapi.do).
const DefaultBaseURL = "https://poll.kuaidi100.com"

// maxReply caps a reply body; a full track is a few kilobytes.
const maxReply = 1 << 20

// Config configures a Client. Customer, Key and Secret come from the
// aggregator's account page (the sandbox generates them at start-up).
type Config struct {
	// BaseURL is the aggregator's base [DefaultBaseURL]; the sandbox's is
	// <sandbox URL>/courier.
	BaseURL  string
	Customer string // signs queries
	Key      string // authorization key: queries, subscriptions, orders
	Secret   string // signs pickup orders
	// Timeout bounds one call [10s].
	Timeout time.Duration
	// Now is the clock for order timestamps and pickup days [time.Now].
	Now func() time.Time
}

// Client calls the aggregator. It is safe for concurrent use. It does not
// retry: writes run in zwfw's durable job queue, which retries with the
// same idempotency key.
type Client struct {
	base     string
	customer string
	key      string
	secret   string
	timeout  time.Duration
	http     *http.Client
	now      func() time.Time
}

// New builds a Client; hc nil uses a client of its own. It does not
// contact the aggregator.
func New(cfg Config, hc *http.Client) *Client {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return &Client{
		base: strings.TrimRight(cfg.BaseURL, "/"), customer: cfg.Customer, key: cfg.Key, secret: cfg.Secret,
		timeout: cfg.Timeout, http: hc, now: cfg.Now,
	}
}

// md5Upper is Kuaidi100's signature primitive: upper-case hex MD5 of the
// plain concatenation of parts.
func md5Upper(parts ...string) string {
	h := md5.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// envelope is Kuaidi100's reply to orders and subscriptions, and its
// failure reply to queries.
type envelope struct {
	Result     *bool           `json:"result"`
	ReturnCode flexString      `json:"returnCode"`
	Message    string          `json:"message"`
	Data       json.RawMessage `json:"data"`
}

// flexString takes a JSON string or number: Kuaidi100 documents
// returnCode as a string, but some of its replies send a number.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}

// upstreamError carries the aggregator's code and message as a hidden cause.
type upstreamError struct{ code, msg string }

func (e upstreamError) Error() string { return "kuaidi100 returnCode " + e.code + ": " + e.msg }

// refused derives err from a refusal, keeping the aggregator's code.
func refused(err *apperr.Error, env envelope) *apperr.Error {
	return err.WithCause(upstreamError{string(env.ReturnCode), env.Message}).WithDetail("courier_code", string(env.ReturnCode))
}

// post sends form to path and returns the reply body.
func (c *Client) post(ctx context.Context, path string, form url.Values) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, apperr.Internal.WithCause(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	res, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, ErrTimeout.WithCause(err)
		}
		return nil, ErrUnavailable.WithCause(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxReply+1))
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		return nil, ErrTimeout.WithCause(err)
	case err != nil:
		return nil, ErrUnavailable.WithCause(err)
	case res.StatusCode >= 500:
		return nil, ErrUnavailable.WithCause(fmt.Errorf("kuaidi100 %s: HTTP %d", path, res.StatusCode))
	case res.StatusCode != http.StatusOK:
		return nil, ErrBadResponse.WithCause(fmt.Errorf("kuaidi100 %s: HTTP %d", path, res.StatusCode))
	case len(body) > maxReply:
		return nil, ErrBadResponse.WithCause(fmt.Errorf("kuaidi100 %s: reply over %d bytes", path, maxReply))
	}
	return bytes.TrimSpace(body), nil
}

// decodeEnvelope parses an order or subscription reply.
func decodeEnvelope(body []byte) (envelope, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.Result == nil {
		return env, ErrBadResponse.WithCause(fmt.Errorf("kuaidi100: not an envelope: %.200s", body))
	}
	return env, nil
}

// commonError maps the return codes every endpoint shares; nil for others.
func commonError(env envelope) *apperr.Error {
	switch env.ReturnCode {
	case "503", "600", "601", "30001":
		return refused(ErrAuthFailed, env)
	case "400", "700", "701", "702":
		return refused(ErrInvalidRequest, env)
	case "501", "502":
		return refused(ErrUnavailable, env)
	}
	return nil
}
