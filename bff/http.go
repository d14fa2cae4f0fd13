package bff

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"zwfw/apperr"
	"zwfw/cases"
	"zwfw/handlers"
	"zwfw/identity"
	"zwfw/logistics"
	"zwfw/platform/ratelimit"
	"zwfw/platform/redisx"
)

// buildHTTP assembles the Fiber app: server limits, middleware in order, and
// the route table.
func (a *App) buildHTTP() (*fiber.App, error) {
	cfg := a.cfg
	proxies := splitList(cfg.TrustedProxies)
	var methods *allowIndex // the route table's, once built
	app := fiber.New(fiber.Config{
		AppName:                 "zwfw",
		BodyLimit:               cfg.BodyLimit,
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            30 * time.Second,
		IdleTimeout:             120 * time.Second,
		ErrorHandler:            errorHandler(a.log, func(path string) string { return methods.allow(path) }),
		DisableStartupMessage:   true,
		EnableTrustedProxyCheck: len(proxies) > 0,
		TrustedProxies:          proxies,
		ProxyHeader:             proxyHeader(proxies),
	})
	metrics := newHTTPMetrics(a.registry)
	listen, stopListening := context.WithCancel(context.Background())
	go a.resp.listen(listen)
	a.closers = append(a.closers, func(context.Context) error { stopListening(); return nil })
	limiter := ratelimit.New(a.rdb, a.keys)
	if a.embRedis != nil {
		// This process's own Redis: no other replica shares its counters,
		// and counting in memory spares a Lua VM per request.
		limiter = ratelimit.NewInProcess(a.rdb)
	}
	lim := &limits{limiter: limiter, revoke: identity.NewRedisRevocations(a.rdb, a.keys), identity: a.identity,
		perUser: ratelimit.PerMinute(cfg.RatePerUser), degraded: func() { metrics.degraded.Inc() }}

	app.Use(requestID())
	app.Use(observe(newAccessLog(a.log, cfg.AccessLogSample, cfg.AccessLogSlow), metrics))
	app.Use(recoverPanics(a.log))
	app.Use(a.clientDetection())
	app.Use(cors.New(cors.Config{
		AllowOrigins:  strings.Join(splitList(cfg.CORSOrigins), ","),
		AllowMethods:  "GET,POST,PUT,PATCH,DELETE,OPTIONS",
		AllowHeaders:  "Authorization,Content-Type,Idempotency-Key,X-Request-ID,X-Client,If-None-Match",
		ExposeHeaders: "X-Request-ID,Retry-After,X-RateLimit-Remaining,ETag",
		MaxAge:        600,
	}))

	health := &handlers.Health{Checks: []handlers.Check{
		{Name: "mongodb", Critical: true, Probe: func(ctx context.Context) error { return a.mongo.Ping(ctx, nil) }},
		{Name: "redis", Critical: false, Probe: func(ctx context.Context) error { return redisx.Ping(ctx, a.rdb) }},
		// The province owns official records, but zwfw keeps serving (catalog
		// from cache, submissions queued) while it is down: degraded, not unready.
		{Name: "province", Critical: false, Probe: a.province.Health},
	}}
	app.Get("/livez", health.Live)
	app.Get("/readyz", health.Ready)
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{})))

	// Callbacks are authenticated by their signatures and come from a few
	// provider IPs in bursts (a day's notifies retried): not limited per IP.
	doc, err := LoadOpenAPI()
	if err != nil {
		return nil, err
	}
	// Operations openapi.yaml marks deprecated answer with Deprecation and Sunset.
	notices, err := deprecations(doc)
	if err != nil {
		return nil, err
	}
	app.Use(deprecationHeaders(notices))
	spec, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	// Every route below has its request checked against openapi.yaml.
	validator, err := newRequestValidator(doc, cfg.JSONBodyLimit, apperr.Lookup)
	if err != nil {
		return nil, err
	}
	// Every limit of a request is counted in one round trip (limits.go).
	api := validatedRouter{validate: validator.validate, settle: lim.settle,
		Router: app.Group("/api/v1", lim.entry(ratelimit.PerMinute(cfg.RatePerIP)))}
	api.Get("/openapi.json", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(spec)
	})

	auth := &handlers.Auth{Svc: a.identity, BodyLimit: cfg.JSONBodyLimit}
	loginLimit := lim.limit(ratelimit.PerMinute(cfg.RateLoginIP), byIP("login"))
	smsLimit := lim.limit(ratelimit.Limit{Rate: cfg.RateSMSPerIP, Period: time.Hour, Burst: cfg.RateSMSPerIP}, byIP("sms"))
	idem := idempotent(a.idem, idempotencyRequired(doc))
	signedIn := func(roles ...identity.Role) []fiber.Handler {
		// Every signed-in write claims its Idempotency-Key before the handler runs.
		return []fiber.Handler{lim.signedIn(roles...), validator.validate, idem}
	}

	api.Post("/auth/wechat", loginLimit, auth.WeChat)
	api.Post("/auth/sms/send", smsLimit, auth.SMSSend)
	api.Post("/auth/sms/verify", loginLimit, auth.SMSVerify)
	api.Post("/auth/staff", loginLimit, auth.Staff)
	api.Post("/auth/refresh", loginLimit, auth.Refresh)
	api.Post("/auth/logout", append(signedIn(), auth.Logout)...)
	api.Get("/me", append(signedIn(), auth.Me)...)
	hm := &handlers.Home{Svc: a.home, Links: a.links}
	api.Get("/home", append(signedIn(identity.RoleCitizen, identity.RoleBusiness), conditional(cachePrivate), hm.Get)...)

	cat := &handlers.Catalog{Svc: a.catalog}
	// Ready answers in memory (respcache.go): the catalog for a tenth of the
	// time the province's copy stays fresh, at most 30 s (an entry is kept
	// from when it was served, not fetched: it must not outlive that copy's
	// freshness by much); none when that is under a second. A stale answer
	// is never kept.
	catalogTTL := min(cfg.ProvinceCacheFresh/10, 30*time.Second)
	if cfg.ProvinceCacheFresh < time.Second {
		catalogTTL = 0
	}
	catalogRoute := cachedRoute{scope: func(*fiber.Ctx) string { return "catalog" }, ttl: catalogTTL}
	guideRoute := catalogRoute
	guideRoute.etag = true
	api.Get("/items", a.resp.wrap(catalogRoute, cat.Search))
	api.Get("/items/:code", conditional(cachePublic), a.resp.wrap(guideRoute, cat.Guide))
	api.Get("/halls", a.resp.wrap(catalogRoute, cat.Halls))
	api.Get("/departments", a.resp.wrap(catalogRoute, cat.Departments))

	me := &handlers.Me{Svc: a.identity, BodyLimit: cfg.JSONBodyLimit, Observe: a.observeLicences}
	public := []identity.Role{identity.RoleCitizen, identity.RoleBusiness}
	// Real-name checks are a guessing oracle for names and ID numbers: few per user.
	verifyLimit := lim.limit(ratelimit.Limit{Rate: 10, Period: time.Hour, Burst: 10}, byUser("realname"))
	api.Post("/me/realname", append(signedIn(public...), verifyLimit, me.RealName)...)
	api.Post("/me/companies", append(signedIn(public...), verifyLimit, me.BindCompany)...)
	api.Get("/me/licenses", append(signedIn(public...), me.Licenses)...)
	api.Get("/me/licenses/:id", append(signedIn(public...), me.License)...)
	api.Get("/staff/licenses/verify", append(signedIn(identity.RoleStaff, identity.RoleAdmin), me.CheckLicense)...)
	lg := &handlers.Logins{Svc: a.identity, BodyLimit: cfg.JSONBodyLimit}
	api.Get("/me/logins", append(signedIn(public...), lg.List)...)
	// Each link spends a one-time proof (an SMS code, a WeChat code): limited like logins.
	api.Post("/me/logins/wechat-phone", append(signedIn(public...), loginLimit, lg.LinkWeChatPhone)...)
	api.Post("/me/logins/sms", append(signedIn(public...), loginLimit, lg.LinkSMS)...)
	api.Post("/me/logins/wechat", append(signedIn(public...), loginLimit, lg.LinkWeChat)...)
	api.Delete("/me/logins/:id", append(signedIn(public...), lg.Unlink)...)

	cs := &handlers.Cases{Svc: a.cases, Blobs: materialBlobs{a.blobs}, Calendar: a.calendar.Times(), BodyLimit: cfg.JSONBodyLimit,
		Reveal: func(enc string) string { v, _ := a.pii.DecryptField("query_password", enc); return v },
		Files:  a.files, Links: a.links}
	api.Post("/cases", append(signedIn(public...), cs.Create)...)
	api.Get("/cases", append(signedIn(public...), cs.List)...)
	api.Get("/cases/:id", append(signedIn(public...), conditional(cachePrivate), cs.Get)...)
	api.Post("/cases/:id/materials", append(signedIn(public...), cs.Upload)...)
	api.Patch("/cases/:id", append(signedIn(public...), cs.EditDraft)...)
	api.Put("/cases/:id/materials/:slot", append(signedIn(public...), cs.ReplaceMaterial)...)
	api.Delete("/cases/:id/materials/:slot", append(signedIn(public...), cs.RemoveMaterial)...)
	api.Get("/evaluation-reasons", handlers.EvaluationReasons)
	api.Post("/cases/:id/submit", append(signedIn(public...), cs.Submit)...)
	api.Post("/cases/:id/supplement", append(signedIn(public...), cs.Supplement)...)
	api.Post("/cases/:id/withdraw", append(signedIn(public...), cs.Withdraw)...)
	api.Post("/cases/:id/evaluation", append(signedIn(public...), cs.Evaluate)...)
	cb := &handlers.ProvinceCallbacks{Verify: a.province.VerifyCallback, Sign: a.province.SignCallbackResponse,
		Cases: a.cases, BodyLimit: cfg.JSONBodyLimit}
	api.Post("/callbacks/province", cb.CaseStatus)

	publicByIP := lim.limit(ratelimit.PerMinute(cfg.RateLoginIP), byIP("case-lookup"))
	publicByNumber := lim.limit(ratelimit.PerMinute(cfg.RateLoginIP), byParam("case-lookup", "number"))
	api.Get("/public/cases/:number", publicByIP, publicByNumber, cs.PublicLookup)
	hl := &handlers.Hotline{Cases: cs, Audit: a.audit}
	api.Get("/hotline/cases", append(signedIn(identity.RoleHotline), hl.Lookup)...)
	au := &handlers.Audit{Log: a.audit, Staff: a.identity}
	api.Get("/admin/audit", append(signedIn(identity.RoleAdmin), au.List)...)

	bk := &handlers.Bookings{Svc: a.booking, Identity: a.identity, BodyLimit: cfg.JSONBodyLimit, Names: displayNames{a}}
	// A week of slots: dropped on every change of the hall (a booking
	// included); keyed by the booking clock's minute too, as what is
	// bookable follows the clock (booking windows open and close on minutes).
	bookingNow := cfg.BookingClock
	if bookingNow == nil {
		bookingNow = time.Now
	}
	api.Get("/halls/:id/slots", a.resp.wrap(cachedRoute{
		scope: func(c *fiber.Ctx) string { return hallScope(c.Params("id")) },
		key: func(c *fiber.Ctx) string {
			return string(c.Request().URI().RequestURI()) + "|" + strconv.FormatInt(bookingNow().Unix()/60, 10)
		},
		ttl: 5 * time.Second,
	}, bk.Slots))
	api.Post("/bookings", append(signedIn(public...), bk.Book)...)
	api.Get("/bookings", append(signedIn(public...), bk.List)...)
	api.Get("/bookings/:id", append(signedIn(public...), conditional(cachePrivate), bk.Get)...)
	api.Post("/bookings/:id/cancel", append(signedIn(public...), bk.Cancel)...)
	api.Post("/bookings/:id/reschedule", append(signedIn(public...), bk.Reschedule)...)
	api.Post("/staff/bookings/checkin", append(signedIn(identity.RoleStaff), bk.CheckIn)...)
	api.Put("/admin/halls/:id/config", append(signedIn(identity.RoleAdmin), bk.PutHallConfig)...)
	api.Post("/admin/halls/:id/closures", append(signedIn(identity.RoleAdmin), bk.AddClosure)...)
	pay := &handlers.Payments{Svc: a.payments, BodyLimit: cfg.JSONBodyLimit}
	// Payment codes are printed on paper: looking one up is cheap to try, so few per user.
	lookupLimit := lim.limit(ratelimit.Limit{Rate: 30, Period: time.Hour, Burst: 10}, byUser("payment-lookup"))
	api.Get("/payments", append(signedIn(public...), pay.List)...)
	api.Get("/payments/lookup", append(signedIn(public...), lookupLimit, pay.Lookup)...)
	api.Get("/payments/:id", append(signedIn(public...), conditional(cachePrivate), pay.Get)...)
	api.Post("/payments/:id/pay", append(signedIn(public...), pay.Pay)...)
	api.Get("/admin/payments/anomalies", append(signedIn(identity.RoleAdmin), pay.Anomalies)...)
	api.Get("/admin/payments/:id", append(signedIn(identity.RoleStaff, identity.RoleAdmin), pay.AdminGet)...)
	api.Post("/admin/payments/:id/refund", append(signedIn(identity.RoleStaff, identity.RoleAdmin), pay.Refund)...)
	api.Post("/admin/reconciliation/run", append(signedIn(identity.RoleAdmin), pay.RunReconciliation)...)
	api.Get("/admin/reconciliation", append(signedIn(identity.RoleAdmin), pay.Reconciliation)...)
	api.Post("/callbacks/wechatpay/notify", pay.WeChatPayNotify)
	api.Post("/callbacks/alipay/notify", pay.AlipayNotify)

	shp := &handlers.Shipments{Svc: a.logistics, Cases: a.cases, BodyLimit: cfg.JSONBodyLimit,
		Ref: func(_ context.Context, c *cases.Case) logistics.CaseRef { return caseRef(c) }}
	api.Post("/cases/:id/shipments", append(signedIn(public...), shp.Create)...)
	api.Get("/cases/:id/shipments", append(signedIn(public...), shp.ListForCase)...)
	api.Get("/shipments/:id", append(signedIn(public...), conditional(cachePrivate), shp.Get)...)
	api.Post("/shipments/:id/cancel", append(signedIn(public...), shp.Cancel)...)
	api.Post("/callbacks/courier/:carrier", shp.Push)

	nt := &handlers.Notifications{Svc: a.notify, BodyLimit: cfg.JSONBodyLimit, Links: a.links}
	api.Get("/me/subscriptions", append(signedIn(public...), nt.Templates)...)
	api.Post("/me/subscriptions", append(signedIn(public...), nt.Subscriptions)...)
	api.Post("/me/devices", append(signedIn(public...), nt.Devices)...)
	api.Get("/me/notification-settings", append(signedIn(public...), nt.GetSettings)...)
	api.Put("/me/notification-settings", append(signedIn(public...), nt.PutSettings)...)
	api.Patch("/me/notification-settings", append(signedIn(public...), nt.PatchSettings)...)
	api.Get("/me/notifications", append(signedIn(public...), nt.Inbox)...)
	api.Post("/me/notifications/:id/read", append(signedIn(public...), nt.Read)...)
	api.Get("/admin/notifications/failed", append(signedIn(identity.RoleAdmin), nt.AdminFailed)...)

	inv := &handlers.Invariants{Run: a.invariants.Run, Latest: a.invariants.Latest}
	api.Post("/admin/invariants/run", append(signedIn(identity.RoleAdmin), inv.RunNow)...)
	api.Get("/admin/invariants", append(signedIn(identity.RoleAdmin), inv.Last)...)

	calH := &handlers.Calendar{Cal: a.calendar, BodyLimit: cfg.JSONBodyLimit}
	api.Get("/admin/calendar", append(signedIn(identity.RoleAdmin), calH.Show)...)
	api.Put("/admin/calendar/overrides/:date", append(signedIn(identity.RoleAdmin), calH.PutOverride)...)

	// The staff console (HTML pages, its own cookie session): logins share the API's per-IP budget.
	a.console.Mount(app, loginLimit)

	if missing := validator.undocumented(app.GetRoutes(true)); len(missing) > 0 {
		return nil, fmt.Errorf("openapi.yaml does not document %s", strings.Join(missing, ", "))
	}
	methods = newAllowIndex(app.GetRoutes(true))
	return app, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// proxyHeader believes X-Forwarded-For only when trusted proxies are configured.
func proxyHeader(proxies []string) string {
	if len(proxies) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}
