package province

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/sync/singleflight"

	"zwfw/platform/redisx"
)

// Timeouts bounds one HTTP exchange per endpoint group. Zero fields take the
// defaults in brackets. A retried read gets the timeout per attempt.
type Timeouts struct {
	Catalog  time.Duration // [3s]
	Identity time.Duration // [5s]
	Licenses time.Duration // [5s]
	Cases    time.Duration // [10s]
}

// CacheSettings tunes the catalog cache in Redis. Zero fields take the
// defaults in brackets.
type CacheSettings struct {
	// Fresh is how long a catalog answer is served without asking the province [5m].
	Fresh time.Duration
	// MaxStale is how old an answer may be and still be served (marked stale)
	// while it is refreshed in the background or while the province is down [24h].
	MaxStale time.Duration
	// OpTimeout bounds each Redis command, so a hung Redis costs little [200ms].
	OpTimeout time.Duration
}

// Config configures a Client. BaseURL, AppKey and AppSecret are required;
// zero values elsewhere take the defaults in brackets.
type Config struct {
	// BaseURL is the gateway's base (PROVINCE_BASE_URL); signed paths are
	// the paths below it, e.g. /api/catalog/items.
	BaseURL   string
	AppKey    string
	AppSecret string
	// SignMethod is SignHMACSM3 or SignHMACSHA256 [HMAC-SM3].
	SignMethod string
	Timeouts   Timeouts
	// Retries is how many times an idempotent read (GET) is retried after a
	// 5xx, a timeout or a transport error [2]; negative disables retries.
	// Writes and POST reads are never retried by the client.
	Retries int
	// RetryBackoff is the first retry's delay, doubled for each further
	// retry up to 2s, with jitter [100ms].
	RetryBackoff time.Duration
	// HTTPClient sends the requests [a client with its own pooled transport].
	// Its Timeout should be zero: the client sets per-group deadlines.
	HTTPClient *http.Client
	Breaker    BreakerSettings
	Cache      CacheSettings
	// CallbackMaxSkew is the largest accepted distance between a callback's
	// timestamp and zwfw's clock [300s, as the gateway's own check].
	CallbackMaxSkew time.Duration
	// ExchangeBuffer is how many exchange-log rows may wait for MongoDB
	// before new ones are dropped [4096].
	ExchangeBuffer int
	// MaxResponseBytes caps a response body [8 MiB]; a larger one is a bad response.
	MaxResponseBytes int64
}

// Deps are the client's collaborators. All are optional.
type Deps struct {
	// Redis holds the catalog cache and the callback nonces; without it the
	// client calls the province every time and keeps nonces in memory.
	Redis redis.UniversalClient
	// Keys prefixes every Redis key.
	Keys redisx.Keys
	// DB receives the exchange log (collection province_exchanges); without
	// it nothing is recorded.
	DB *mongo.Database
	// Metrics registers the client's collectors [a private registry].
	Metrics prometheus.Registerer
	Logger  *slog.Logger
	// Now is the clock for signatures, cache ages, callback skew and the
	// exchange log [time.Now].
	Now func() time.Time
}

// Client calls the provincial platform. It is safe for concurrent use; make
// one per process in bff and Close it on shutdown.
type Client struct {
	base      string
	appKey    string
	signer    signer
	timeouts  map[group]time.Duration
	breakers  map[group]*breaker
	retries   int
	backoff   time.Duration
	http      *http.Client
	maxBody   int64
	cacheCfg  CacheSettings
	cbMaxSkew time.Duration

	rdb           redis.UniversalClient
	keys          redisx.Keys
	redisDownTill atomic.Int64 // unix nanos; Redis is skipped until then after an error

	exch   *exchangeLog
	m      *metrics
	log    *slog.Logger
	now    func() time.Time
	sf     singleflight.Group
	nonces *nonceLRU

	refreshing sync.Map // cache key -> struct{}: background refreshes in flight
	life       context.Context
	stop       context.CancelFunc
	bgMu       sync.Mutex // orders bg.Add against Close's bg.Wait
	bgClosed   bool
	bg         sync.WaitGroup
	closeOnce  sync.Once
}

// New checks cfg and builds a Client. It does not contact the province (see
// Health). It fails only on a configuration error.
func New(cfg Config, deps Deps) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("province: BaseURL must be an absolute http(s) URL without query, got %q", cfg.BaseURL)
	}
	if cfg.AppKey == "" || cfg.AppSecret == "" {
		return nil, errors.New("province: AppKey and AppSecret are required")
	}
	if cfg.SignMethod == "" {
		cfg.SignMethod = SignHMACSM3
	}
	s, ok := newSigner(cfg.SignMethod, cfg.AppSecret)
	if !ok {
		return nil, fmt.Errorf("province: SignMethod must be %s or %s, got %q", SignHMACSM3, SignHMACSHA256, cfg.SignMethod)
	}
	t := cfg.Timeouts
	t.Catalog = orDefault(t.Catalog, 3*time.Second)
	t.Identity = orDefault(t.Identity, 5*time.Second)
	t.Licenses = orDefault(t.Licenses, 5*time.Second)
	t.Cases = orDefault(t.Cases, 10*time.Second)
	if cfg.Retries == 0 {
		cfg.Retries = 2
	} else if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	cfg.Cache.Fresh = orDefault(cfg.Cache.Fresh, 5*time.Minute)
	cfg.Cache.MaxStale = orDefault(cfg.Cache.MaxStale, 24*time.Hour)
	if cfg.Cache.MaxStale < cfg.Cache.Fresh {
		cfg.Cache.MaxStale = cfg.Cache.Fresh
	}
	cfg.Cache.OpTimeout = orDefault(cfg.Cache.OpTimeout, 200*time.Millisecond)
	if cfg.ExchangeBuffer <= 0 {
		cfg.ExchangeBuffer = 4096
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 8 << 20
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		tr.DialContext = (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		hc = &http.Client{Transport: tr}
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	m := newMetrics(deps.Metrics)
	bs := cfg.Breaker.withDefaults()
	c := &Client{
		base:   strings.TrimRight(cfg.BaseURL, "/"),
		appKey: cfg.AppKey,
		signer: s,
		timeouts: map[group]time.Duration{
			groupCatalog: t.Catalog, groupIdentity: t.Identity, groupLicenses: t.Licenses, groupCases: t.Cases,
		},
		breakers:  make(map[group]*breaker, len(allGroups)),
		retries:   cfg.Retries,
		backoff:   orDefault(cfg.RetryBackoff, 100*time.Millisecond),
		http:      hc,
		maxBody:   cfg.MaxResponseBytes,
		cacheCfg:  cfg.Cache,
		cbMaxSkew: orDefault(cfg.CallbackMaxSkew, 300*time.Second),
		rdb:       deps.Redis,
		keys:      deps.Keys,
		m:         m,
		log:       log.With("component", "province"),
		now:       now,
		nonces:    newNonceLRU(100_000),
	}
	for _, g := range allGroups {
		c.breakers[g] = newBreaker(g, bs, m)
	}
	if deps.DB != nil {
		c.exch = newExchangeLog(deps.DB, cfg.ExchangeBuffer, c.log, m)
	}
	c.life, c.stop = context.WithCancel(context.Background())
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Close stops background cache refreshes, cancels calls in flight and
// flushes the exchange log; bff calls it last on shutdown, after the HTTP
// server has drained. It waits until ctx ends at most and then returns
// ctx's error (rows still queued are lost). The client must not be used
// after Close: calls would fail with PROVINCE_TIMEOUT and go unrecorded.
func (c *Client) Close(ctx context.Context) error {
	var err error
	c.closeOnce.Do(func() {
		c.bgMu.Lock()
		c.bgClosed = true
		c.bgMu.Unlock()
		c.stop()
		waited := make(chan struct{})
		go func() { c.bg.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if c.exch != nil {
			if e := c.exch.close(ctx); e != nil && err == nil {
				err = e
			}
		}
	})
	return err
}

// detach returns a context that keeps ctx's values but not its deadline or
// cancellation, and ends when the client closes: work shared by several
// callers (singleflight) must not die with the first caller's request.
func (c *Client) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	d, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(c.life, cancel)
	return d, func() { stop(); cancel() }
}
