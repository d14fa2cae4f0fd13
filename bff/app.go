// Package bff is the composition root of zwfw: it reads the configuration,
// starts what runs embedded (MongoDB, Redis, the sandbox), builds stores,
// clients and services, and serves the Fiber app with its middleware and
// route table. Nothing else in zwfw knows how the pieces are wired.
package bff

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/booking"
	"zwfw/casefile"
	"zwfw/cases"
	"zwfw/catalog"
	"zwfw/console"
	"zwfw/home"
	"zwfw/identity"
	"zwfw/links"
	"zwfw/logistics"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/platform/blobs"
	"zwfw/platform/events"
	"zwfw/platform/idempotency"
	"zwfw/platform/invariants"
	"zwfw/platform/jobs"
	"zwfw/platform/mongox"
	"zwfw/platform/redisx"
	"zwfw/platform/workdays"
	"zwfw/province"
	"zwfw/rectify"
	"zwfw/renewals"
	"zwfw/sandbox"
	sbsms "zwfw/sandbox/sms"
	"zwfw/wxapi"
)

// App is one running zwfw: its stores, services, workers and HTTP server.
type App struct {
	cfg  Config
	log  *slog.Logger
	http *fiber.App

	mongo      *mongo.Client
	db         *mongo.Database
	rdb        redis.UniversalClient
	keys       redisx.Keys
	embMongo   *mongox.Embedded
	embRedis   *redisx.Embedded
	sandbox    *sandbox.Sandbox
	registry   *prometheus.Registry
	jobs       *jobs.Runner
	queue      *jobs.Queue
	events     *events.Log
	relay      *events.Relay
	idem       *idempotency.Store
	invariants *invariants.Runner
	identity   *identity.Service
	province   *province.Client
	catalog    *catalog.Service
	cases      *cases.Service
	audit      *cases.MongoAuditLog
	calendar   *workdays.Calendar
	booking    *booking.Service
	payments   *payments.Service
	logistics  *logistics.Service
	notify     *notify.Service
	renewals   *renewals.Service
	files      *casefile.Service
	sv         supervisionParts
	home       *home.Service
	rectify    *rectify.Service
	links      *links.Maker
	mp         *wxapi.MiniProgram
	sms        *notify.AliyunSMS
	blobs      *blobs.Store
	debug      *debugServer // the pprof listener (ZWFW_DEBUG_ADDR), nil when off
	resp       *respCache   // ready answers of hot public GETs (respcache.go)
	// publicBase is the base URL outside systems call back (set from
	// ZWFW_PUBLIC_BASE_URL, or by Listening).
	publicBase atomic.Value // string
	// wxpayCert and wxpayRoots come from the embedded sandbox (otherwise
	// WECHATPAY_CERT_P12_FILE, and WECHATPAY_ROOT_CA_FILE or the system roots).
	wxpayCert  []byte
	wxpayRoots *x509.CertPool
	// alipayPrivate and alipayPublic are PEM keys from the sandbox
	// (production reads ALIPAY_APP_PRIVATE_KEY_FILE / ALIPAY_PUBLIC_KEY_FILE).
	alipayPrivate, alipayPublic string
	pii                         piiProtector
	demoStaff                   []demoAccount
	console                     *console.Console
	consoleSessions             *console.SessionStore

	stopBackground context.CancelFunc
	// background counts the long-running goroutines (event consumers, the
	// relay, the calendar reload): shutdown waits for them to let go of
	// their leases before the stores close.
	background   sync.WaitGroup
	closers      []func(context.Context) error
	shutdownOnce sync.Once
	shutdownErr  error
}

// New builds zwfw from cfg. On error, everything already started is stopped.
func New(ctx context.Context, cfg Config, log *slog.Logger) (app *App, err error) {
	a := &App{cfg: cfg, log: log, keys: redisx.Keys(cfg.RedisPrefix)}
	if a.links, err = newLinks(cfg); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = a.stopWorkers(context.Background())
			_ = a.closeAll(context.Background())
		}
	}()
	if err := a.startStores(ctx); err != nil {
		return nil, err
	}
	if cfg.Sandbox {
		a.sandbox = sandbox.New(sandbox.Options{Logger: log.With("component", "sandbox"), Now: cfg.SandboxClock,
			NotifyRetryDelays: cfg.SandboxRetryDelays, CourierAutoAdvance: cfg.SandboxCourierStep})
		if err := a.sandbox.Start(cfg.SandboxAddr); err != nil {
			return nil, fmt.Errorf("start sandbox on %s: %w", cfg.SandboxAddr, err)
		}
		a.closers = append(a.closers, a.sandbox.Close)
		a.useSandboxCredentials()
	}
	sec, created, err := loadSecrets(cfg)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("generated keys for the embedded default", "file", filepath.Join(cfg.DataDir, "secrets.json"))
	}
	a.registry = newRegistry()
	if err := a.buildServices(ctx, sec); err != nil {
		return nil, err
	}
	if err := a.buildConsole(ctx, sec); err != nil {
		return nil, err
	}
	// The stores' collections exist now: index their _id look-ups on the
	// embedded store at once rather than at its next pass (idindex.go).
	if err := mongox.IndexIDs(ctx); err != nil {
		a.log.Warn("embedded store: _id indexes not added yet", "err", err)
	}
	if cfg.SeedDemo {
		if a.demoStaff, err = a.seedDemo(ctx); err != nil {
			return nil, fmt.Errorf("seed demo data: %w", err)
		}
		if err := a.seedDemoBooking(ctx); err != nil {
			return nil, fmt.Errorf("seed demo booking data: %w", err)
		}
	}
	if a.http, err = a.buildHTTP(); err != nil {
		return nil, err
	}
	if a.debug, err = startDebug(cfg.DebugAddr); err != nil {
		return nil, err
	}
	if a.debug != nil {
		a.closers = append(a.closers, a.debug.close)
	}
	bg, cancel := context.WithCancel(context.Background())
	a.stopBackground = cancel
	if !cfg.OutboxRelayOff {
		a.goBackground(func() { _ = a.relay.Run(bg) })
	}
	a.jobs.Start(bg)
	a.goBackground(func() { a.reloadCalendar(bg) })
	if err := a.scheduleMaintenance(bg); err != nil {
		return nil, err
	}
	if err := a.enqueueInvariants(bg, time.Now()); err != nil {
		return nil, err
	}
	if err := a.enqueueCasePoll(bg, time.Now().Add(a.cfg.CasePollEvery)); err != nil {
		return nil, err
	}
	if err := a.enqueueNoShowSweep(bg, time.Now().Add(5*time.Minute)); err != nil {
		return nil, err
	}
	if err := a.enqueueReconciliation(bg, time.Now()); err != nil {
		return nil, err
	}
	if err := a.renewals.ScheduleSweep(bg, time.Now()); err != nil {
		return nil, err
	}
	if err := a.logistics.SchedulePoll(bg, time.Now()); err != nil {
		return nil, err
	}
	a.goBackground(func() { a.runResultShipments(bg) })
	a.goBackground(func() { a.runReminders(bg) })
	a.goBackground(func() { a.runSupervision(bg) })
	a.goBackground(func() { a.runRectify(bg) })
	a.goBackground(func() { a.runHomeIndex(bg) })
	a.goBackground(func() { a.runCaseFileIndex(bg) })
	if cfg.SeedDemo && a.sandbox != nil {
		a.goBackground(func() { a.seedDemoEvaluation(bg) })
	}
	return a, nil
}

// goBackground runs f until the background context ends; shutdown waits for it.
func (a *App) goBackground(f func()) {
	a.background.Add(1)
	go func() {
		defer a.background.Done()
		f()
	}()
}

// startStores connects MongoDB and Redis, starting the embedded ones when no
// URI is configured.
func (a *App) startStores(ctx context.Context) error {
	uri := a.cfg.MongoURI
	if a.cfg.EmbeddedMongo() {
		emb, err := mongox.StartEmbedded(filepath.Join(a.cfg.DataDir, "mongodb"), "127.0.0.1:0", nil)
		if err != nil {
			return err
		}
		a.embMongo = emb
		a.closers = append(a.closers, func(context.Context) error { emb.Close(); return nil })
		uri = emb.URI
	}
	client, err := mongox.Connect(ctx, uri)
	if err != nil {
		return fmt.Errorf("connect mongodb: %w", err)
	}
	a.mongo = client
	a.closers = append(a.closers, client.Disconnect)
	a.db = client.Database(a.cfg.MongoDatabase)

	rurl := a.cfg.RedisURL
	if a.cfg.EmbeddedRedis() {
		emb, err := redisx.StartEmbedded()
		if err != nil {
			return fmt.Errorf("start embedded redis: %w", err)
		}
		a.embRedis = emb
		a.closers = append(a.closers, func(context.Context) error { emb.Close(); return nil })
		rurl = emb.URL
	}
	rdb, err := redisx.Open(rurl)
	if err != nil {
		return err
	}
	if a.embRedis != nil {
		// Reads of this process's own Redis need no loopback round trip.
		rdb.AddHook(a.embRedis.DirectReads())
	}
	a.rdb = rdb
	a.closers = append(a.closers, func(context.Context) error { return rdb.Close() })
	if err := redisx.Ping(ctx, rdb); err != nil {
		// Redis is disposable: start degraded rather than not at all.
		a.log.Warn("redis unreachable at start-up; running degraded", "err", err)
	}
	return nil
}

// useSandboxCredentials points every outside-system client at the sandbox,
// with the keys the sandbox generated at start-up.
func (a *App) useSandboxCredentials() {
	wx := a.sandbox.WeChat()
	a.cfg.WeChatAPIBase = a.sandbox.URL()
	a.cfg.WeChatAppID, a.cfg.WeChatAppSecret = wx.AppID, wx.AppSecret
	sms := a.sandbox.SMS()
	a.cfg.SMSEndpoint = a.sandbox.URL()
	a.cfg.SMSAccessKeyID, a.cfg.SMSAccessKeySecret = sms.AccessKeyID, sms.AccessKeySecret
	a.cfg.SMSSignName, a.cfg.SMSTemplateLogin = sms.SignName, sms.LoginTemplateCode
	pv := a.sandbox.Province()
	a.cfg.ProvinceBaseURL, a.cfg.ProvinceAppKey, a.cfg.ProvinceAppSecret = pv.BaseURL, pv.AppKey, pv.AppSecret
	wp := a.sandbox.WeChatPay()
	a.cfg.WeChatPayAPIBase, a.cfg.WeChatPaySecureAPIBase = a.sandbox.URL(), wp.SecureBaseURL
	a.cfg.WeChatPayMchID, a.cfg.WeChatPayKey, a.cfg.WeChatPayAppAppID = wp.MchID, wp.APIKey, wp.AppAppID
	a.wxpayCert, a.wxpayRoots = wp.CertP12, wp.RootCAs
	ap := a.sandbox.Alipay()
	a.cfg.AlipayAppID, a.cfg.AlipayGateway = ap.AppID, ap.GatewayURL
	a.alipayPrivate, a.alipayPublic = ap.AppPrivateKeyPEM, ap.AlipayPublicKeyPEM
	pu := a.sandbox.Push()
	a.cfg.PushBaseURL, a.cfg.PushAppKey, a.cfg.PushMasterSecret = pu.BaseURL, pu.AppKey, pu.MasterSecret
	for _, t := range notify.SMSTemplateSpecs(a.links.H5Base()) { // the reminder templates, as approved at Aliyun
		a.sandbox.SMSGateway().AddTemplate(sbsms.Template{Code: t.Code, Name: t.Name, Kind: sbsms.KindNotification, Content: t.Content})
	}
	cr := a.sandbox.Courier()
	a.cfg.CourierBaseURL, a.cfg.CourierCustomer, a.cfg.CourierKey, a.cfg.CourierSecret = cr.BaseURL, cr.Customer, cr.Key, cr.Secret
	nt := a.sandbox.NonTax()
	a.cfg.NonTaxBaseURL, a.cfg.NonTaxAppKey, a.cfg.NonTaxAppSecret = nt.BaseURL, nt.AppKey, nt.AppSecret
}

// Handler returns the Fiber app (tests drive it directly or through Serve).
func (a *App) Handler() *fiber.App { return a.http }

// Sandbox returns the embedded sandbox, or nil when it is off.
func (a *App) Sandbox() *sandbox.Sandbox { return a.sandbox }

// Identity returns the identity service (used by tools and tests to create staff).
func (a *App) Identity() *identity.Service { return a.identity }

// Jobs returns the job queue.
func (a *App) Jobs() *jobs.Queue { return a.queue }

// Events returns the domain event log.
func (a *App) Events() *events.Log { return a.events }

// DB returns the MongoDB database.
func (a *App) DB() *mongo.Database { return a.db }

// Serve serves HTTP on ln until Shutdown.
func (a *App) Serve(ln net.Listener) error {
	err := a.http.Listener(ln)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops zwfw gracefully: stop accepting and finish in-flight
// requests, then let running jobs finish (their leases make any job cut off
// by the deadline run again after restart), then close the stores.
func (a *App) Shutdown(ctx context.Context) error {
	a.shutdownOnce.Do(func() { a.shutdownErr = a.shutdown(ctx) })
	return a.shutdownErr
}

func (a *App) shutdown(ctx context.Context) error {
	var errs []error
	if a.http != nil {
		if err := a.http.ShutdownWithContext(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http: %w", err))
		}
	}
	if err := a.stopWorkers(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := a.closeAll(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// stopWorkers lets the job runner finish its running jobs, then stops the
// background goroutines and waits until they returned (an event consumer
// hands its lease back on the way out), all within ctx. Until it returns,
// MongoDB and Redis stay connected.
func (a *App) stopWorkers(ctx context.Context) error {
	var errs []error
	if a.jobs != nil {
		if err := a.jobs.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("jobs: %w", err))
		}
	}
	if a.stopBackground != nil {
		a.stopBackground()
	}
	done := make(chan struct{})
	go func() { a.background.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("background workers still running: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

func (a *App) closeAll(ctx context.Context) error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}

// Banner says what runs where, for the start-up log.
func (a *App) Banner() string {
	var b strings.Builder
	fmt.Fprintf(&b, "zwfw 政务服务 BFF\n")
	fmt.Fprintf(&b, "  Mode         %s\n", a.cfg.Mode())
	fmt.Fprintf(&b, "  HTTP API     http://%s/api/v1   (OpenAPI: /api/v1/openapi.json, health: /livez /readyz, metrics: /metrics)\n", a.cfg.Addr)
	fmt.Fprintf(&b, "  Console      http://%s/console/   (staff console: 12345 hotline, hall check-in, supervision, 好差评, money, reminders, audit, admin; sign in with a staff account%s)\n",
		a.cfg.Addr, map[bool]string{true: ", e.g. a demo account below", false: ": zwfw -create-staff"}[len(a.demoStaff) > 0])
	if a.embMongo != nil {
		fmt.Fprintf(&b, "  MongoDB      embedded FerretDB (SQLite) at %s, files in %s\n", a.embMongo.URI, a.embMongo.Dir)
	} else {
		fmt.Fprintf(&b, "  MongoDB      %s (database %s)\n", redactURI(a.cfg.MongoURI), a.cfg.MongoDatabase)
	}
	if a.embRedis != nil {
		fmt.Fprintf(&b, "  Redis        embedded miniredis at %s (in memory)\n", a.embRedis.Addr())
	} else {
		fmt.Fprintf(&b, "  Redis        %s\n", redactURI(a.cfg.RedisURL))
	}
	if a.sandbox != nil {
		fmt.Fprintf(&b, "  Sandbox      %s  (WeChat API, SMS gateway, provincial platform; index at %s/sandbox/, docs/sandbox.md)\n", a.sandbox.URL(), a.sandbox.URL())
		fmt.Fprintf(&b, "               mini-program login: POST /api/v1/auth/wechat {\"code\":\"test:zhangsan\"}\n")
		fmt.Fprintf(&b, "               SMS codes sent:     GET %s/sandbox/sms/messages?phone=13800138000\n", a.sandbox.URL())
	} else {
		fmt.Fprintf(&b, "  WeChat API   %s (app %s)\n", orDefault(a.cfg.WeChatAPIBase, "https://api.weixin.qq.com"), a.cfg.WeChatAppID)
		fmt.Fprintf(&b, "  SMS gateway  %s\n", a.cfg.SMSEndpoint)
		fmt.Fprintf(&b, "  Province     %s (%s)\n", a.cfg.ProvinceBaseURL, a.cfg.ProvinceSignMethod)
	}
	if a.debug != nil {
		fmt.Fprintf(&b, "  Debug        http://%s/debug/pprof/   (admin only: CPU and heap profiles)\n", a.debug.addr())
	}
	for _, d := range a.demoStaff {
		fmt.Fprintf(&b, "  Demo staff   %-10s %-10s password in %s   console: http://%s%s\n", d.Username, d.Roles, d.PasswordFile, a.cfg.Addr, consoleLanding(d.Roles))
	}
	return b.String()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// redactURI hides the password of a connection string.
func redactURI(uri string) string {
	at := strings.LastIndex(uri, "@")
	scheme := strings.Index(uri, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return uri
	}
	creds := uri[scheme+3 : at]
	if user, _, ok := strings.Cut(creds, ":"); ok {
		return uri[:scheme+3] + user + ":***" + uri[at:]
	}
	return uri
}
