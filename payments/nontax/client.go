// Package nontax is zwfw's client of the non-tax payment platform
// (非税收入统一公共支付平台, docs/nontax-gateway.md). Client implements
// payments.Treasury: notice look-ups by payment code and by payer, payment
// confirmations that return the official e-receipt, refund registrations
// and the day's confirmations for reconciliation.
//
// Requests are signed with the provincial gateway's contract
// (platform/gwsign: app key, timestamp, nonce, HMAC-SM3 by default) and
// every answer's signature is checked before it is believed. Reads are
// retried a bounded number of times after 5xx, 429, timeouts and transport
// errors; writes carry an Idempotency-Key derived from the request, so
// they are retried the same way and a retry (or a later job run) never
// books twice. Refusals the domain acts on are payments' sentinel errors
// (wrapped in *Error); everything else is temporary.
package nontax

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"zwfw/payments"
	"zwfw/platform/gwsign"
)

// Config configures a Client. BaseURL, AppKey and AppSecret are required;
// zero values elsewhere take the defaults in brackets.
type Config struct {
	// BaseURL is the platform's base (NONTAX_BASE_URL), e.g.
	// "https://fs.example.gov.cn/nontax" or the sandbox's "<url>/nontax";
	// the API is below it at /api/v1 and signed paths start there.
	BaseURL   string
	AppKey    string
	AppSecret string
	// SignMethod is gwsign.SignHMACSM3 or gwsign.SignHMACSHA256 [HMAC-SM3].
	SignMethod string
	// Timeout bounds one HTTP exchange; a retried call gets it per attempt [5s].
	Timeout time.Duration
	// Retries is how many times a call is retried after a 5xx, a 429, a
	// timeout or a transport error [2]; negative disables retries.
	Retries int
	// RetryBackoff is the first retry's delay, doubled for each further
	// retry up to 2s, with jitter [100ms].
	RetryBackoff time.Duration
	// MaxResponseBytes caps a response body [4 MiB]; a larger one is a bad response.
	MaxResponseBytes int64
	// Now is the clock for request timestamps [time.Now].
	Now    func() time.Time
	Logger *slog.Logger
}

// Client calls the non-tax payment platform. It is safe for concurrent
// use; make one per process in bff.
type Client struct {
	base    string
	appKey  string
	signer  gwsign.Signer
	timeout time.Duration
	retries int
	backoff time.Duration
	maxBody int64
	now     func() time.Time
	log     *slog.Logger
	http    *http.Client
}

// Compile-time check that Client is a payments.Treasury.
var _ payments.Treasury = (*Client)(nil)

// apiPrefix is the API's path below the base URL.
const apiPrefix = "/api/v1"

// New checks cfg and builds a Client that sends with hc (nil: a client
// with its own pooled transport; hc's own Timeout should be zero, as the
// client sets per-attempt deadlines). It does not contact the platform and
// fails only on a configuration error.
func New(cfg Config, hc *http.Client) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("nontax: BaseURL must be an absolute http(s) URL without query, got %q", cfg.BaseURL)
	}
	if cfg.AppKey == "" || cfg.AppSecret == "" {
		return nil, errors.New("nontax: AppKey and AppSecret are required")
	}
	if cfg.SignMethod == "" {
		cfg.SignMethod = gwsign.SignHMACSM3
	}
	s, ok := gwsign.New(cfg.SignMethod, cfg.AppSecret)
	if !ok {
		return nil, fmt.Errorf("nontax: SignMethod must be %s or %s, got %q", gwsign.SignHMACSM3, gwsign.SignHMACSHA256, cfg.SignMethod)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = 2
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 100 * time.Millisecond
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 4 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32
		tr.DialContext = (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		hc = &http.Client{Transport: tr}
	}
	return &Client{
		base:   strings.TrimRight(cfg.BaseURL, "/"),
		appKey: cfg.AppKey, signer: s,
		timeout: cfg.Timeout, retries: cfg.Retries, backoff: cfg.RetryBackoff, maxBody: cfg.MaxResponseBytes,
		now: cfg.Now, log: cfg.Logger, http: hc,
	}, nil
}
