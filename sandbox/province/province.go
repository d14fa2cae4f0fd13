// Package province fakes the provincial integrated government-service
// platform (省一体化政务服务平台) behind the gateway of
// docs/province-gateway.md: app key, timestamp, nonce and HMAC-SM3 (or
// HMAC-SHA256) request signatures, signed responses, idempotent writes, and
// the platform's services: the item catalog of 福州市 (事项目录 and 办事指南),
// unified identity (real-name and company checks against a population and a
// company registry), e-licences (电子证照, with 亮证 verify codes) and cases
// (办件) with status-change callbacks.
//
// The gateway is served under BasePath (/province), so the client's base URL
// is <sandbox URL>/province. Sandbox-only routes under /sandbox/province/
// list the demo people and companies, move cases along as a department's
// clerk would, inject failures (errors, timeouts, slowness) per endpoint
// group and count calls per endpoint. docs/sandbox.md shows each with curl.
package province

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/gwserver"
)

// Gateway constants.
const (
	// BasePath is where the gateway is mounted on the sandbox server.
	BasePath = "/province"
	// MaxSkew is how far a request's X-Gw-Timestamp may be from the gateway's clock.
	MaxSkew = 300 * time.Second
	// NonceWindow is how long a nonce stays used.
	NonceWindow = 10 * time.Minute
	// VerifyCodeTTL is how long a licence verify code (亮证码) works.
	VerifyCodeTTL = 5 * time.Minute
	// IdempotencyTTL is how long a write's Idempotency-Key is remembered.
	IdempotencyTTL = 24 * time.Hour
)

// DefaultCallbackRetryDelays are the waits before the 2nd, 3rd and 4th
// attempt to deliver a case callback.
var DefaultCallbackRetryDelays = []time.Duration{1 * time.Second, 5 * time.Second, 30 * time.Second}

// Options configures the fake.
type Options struct {
	// AppKey and AppSecret of the one app (zwfw) the gateway knows;
	// generated when empty.
	AppKey, AppSecret string
	Now               fake.Clock // default time.Now
	Logger            *slog.Logger
	// CallbackURL receives case status changes; optional, settable later.
	CallbackURL string
	// HTTPClient delivers callbacks; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// CallbackRetryDelays: waits between callback attempts; nil =
	// DefaultCallbackRetryDelays (4 attempts in all).
	CallbackRetryDelays []time.Duration
}

// Server is the fake provincial platform. Its catalog is fixed at start-up;
// everything else is in memory under one mutex.
type Server struct {
	appKey, appSecret string
	now               fake.Clock
	log               *slog.Logger
	httpClient        *http.Client
	retryDelays       []time.Duration
	cat               *catalog

	ctx    context.Context // cancelled by Close: stops callback retries
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// gw authenticates, signs, stores idempotent answers, injects faults
	// and counts calls; it has its own lock.
	gw *gwserver.Gateway

	mu          sync.Mutex
	people      map[string]*person // by ID number
	companies   map[string]*company
	licenses    []*license
	codes       map[string]*verifyCode
	cases       map[string]*caseRecord
	caseOrder   []string
	caseSeq     int
	callbackURL string
	deliveries  []*Delivery
}

// New creates the fake with its demo data, generating credentials when not given.
func New(opts Options) *Server {
	if opts.AppKey == "" {
		opts.AppKey = "zwfw-" + fake.RandomString(fake.Hex, 16)
	}
	if opts.AppSecret == "" {
		opts.AppSecret = fake.RandomString(fake.Alphanumeric, 40)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.CallbackRetryDelays == nil {
		opts.CallbackRetryDelays = DefaultCallbackRetryDelays
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		appKey: opts.AppKey, appSecret: opts.AppSecret,
		now: opts.Now.OrWall(), log: opts.Logger,
		httpClient: opts.HTTPClient, retryDelays: opts.CallbackRetryDelays,
		cat: buildCatalog(),
		ctx: ctx, cancel: cancel,
		people: map[string]*person{}, companies: map[string]*company{},
		codes: map[string]*verifyCode{}, cases: map[string]*caseRecord{},
		callbackURL: opts.CallbackURL,
	}
	s.gw = gwserver.New(gwserver.Options{
		Name: "province", AppKey: opts.AppKey, AppSecret: opts.AppSecret, BasePath: BasePath,
		MaxSkew: MaxSkew, NonceWindow: NonceWindow, IdempotencyTTL: IdempotencyTTL,
		ReplayRefusals: true, FaultGroups: faultGroups, FaultModes: faultModes,
		Now: s.now, Logger: s.log,
	})
	s.seedRegistries(s.now())
	return s
}

// AppKey is the app key zwfw presents (PROVINCE_APP_KEY).
func (s *Server) AppKey() string { return s.appKey }

// AppSecret is the app secret zwfw signs with (PROVINCE_APP_SECRET).
func (s *Server) AppSecret() string { return s.appSecret }

// SetCallbackURL sets where case status changes are POSTed ("" = nowhere).
func (s *Server) SetCallbackURL(u string) {
	s.mu.Lock()
	s.callbackURL = u
	s.mu.Unlock()
}

// CallbackURL is where case status changes are POSTed.
func (s *Server) CallbackURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callbackURL
}

// Close stops pending callback retries and waits for deliveries in flight.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// Register adds the gateway routes under BasePath and the
// /sandbox/province/ controls to mux.
func (s *Server) Register(mux *http.ServeMux) {
	for _, rt := range s.routes() {
		mux.HandleFunc(rt.method+" "+BasePath+rt.path, s.gateway(rt))
	}
	// Anything else below the base path: a signed 404 envelope, as the
	// real gateway answers for an unknown API.
	mux.HandleFunc(BasePath+"/", s.gateway(route{group: "", method: "", path: "/*", fn: s.unknownAPI}))

	mux.HandleFunc("GET /sandbox/province/people", s.getPeople)
	mux.HandleFunc("GET /sandbox/province/companies", s.getCompanies)
	mux.HandleFunc("GET /sandbox/province/licenses", s.getLicenses)
	mux.HandleFunc("POST /sandbox/province/licenses/{id}/renew", s.postRenewLicense)
	s.gw.RegisterControls(mux, "/sandbox/province") // faults and stats
	mux.HandleFunc("GET /sandbox/province/cases", s.getCases)
	mux.HandleFunc("GET /sandbox/province/cases/{case_number}", s.getCase)
	mux.HandleFunc("POST /sandbox/province/cases/{case_number}/advance", s.postAdvance)
	mux.HandleFunc("GET /sandbox/province/callback", s.getCallback)
	mux.HandleFunc("POST /sandbox/province/callback", s.postCallback)
}

// Handler serves the fake alone.
func (s *Server) Handler() http.Handler { return fake.Mux(s) }

// Describe implements fake.Fake.
func (s *Server) Describe() fake.Description {
	var api []fake.Endpoint
	for _, rt := range s.routes() {
		api = append(api, fake.Endpoint{Method: rt.method, Path: BasePath + rt.path, What: rt.what})
	}
	return fake.Description{
		Name:     "province",
		Emulates: "provincial integrated government-service platform gateway (docs/province-gateway.md): HMAC-SM3/HMAC-SHA256 signed requests and responses",
		API:      api,
		Controls: []fake.Endpoint{
			{Method: "GET", Path: "/sandbox/province/people", What: "demo people of the population registry (names, ID numbers) and people verified in sandbox mode"},
			{Method: "GET", Path: "/sandbox/province/companies", What: "demo companies (USCC, legal representative, agents)"},
			{Method: "GET", Path: "/sandbox/province/licenses?holder_id=", What: "e-licences with unmasked numbers"},
			{Method: "POST", Path: "/sandbox/province/licenses/{id}/renew", What: `the issuer renews a licence: {"expires_on":"YYYY-MM-DD"}; the old one is revoked, a new one (new id) issued today`},
			{Method: "POST", Path: "/sandbox/province/faults", What: `inject failures: {"group":"catalog|identity|licenses|cases|*","mode":"error|timeout|slow|drop|off","status":503,"delay_ms":2000,"count":0}`},
			{Method: "GET", Path: "/sandbox/province/faults", What: "faults in force"},
			{Method: "GET", Path: "/sandbox/province/stats", What: "calls per endpoint (calls, refused, faulted) and per request path"},
			{Method: "DELETE", Path: "/sandbox/province/stats", What: "reset the counters"},
			{Method: "GET", Path: "/sandbox/province/cases", What: "every case, newest last, with query password and history"},
			{Method: "GET", Path: "/sandbox/province/cases/{case_number}", What: "one case"},
			{Method: "POST", Path: "/sandbox/province/cases/{case_number}/advance", What: `a clerk moves the case: {"status":"accepted|rejected_at_intake|supplement_requested|completed_approved|completed_denied","note","materials":["m2"],"supplement_due":"YYYY-MM-DD (optional; else the guide's supplement_days apply)","result":"electronic|mail|hall"}`},
			{Method: "POST", Path: "/sandbox/province/callback", What: `set the callback URL for status changes: {"url":"http://..."} ("" = off)`},
			{Method: "GET", Path: "/sandbox/province/callback", What: "callback URL and the delivery log"},
		},
		Info: map[string]string{"app_key": s.appKey, "base_path": BasePath},
		Notes: []string{
			"every gateway request must be signed (docs/province-gateway.md); responses are signed with the request's sign method",
			"real-name check: an unregistered but check-digit-valid ID number with a 2-4 character Chinese name matches, and binds that name",
			"case writes (POST /province/api/cases...) require an Idempotency-Key header",
		},
	}
}

// chinaTime is UTC+8 without tzdata: dates on licences and case numbers
// follow the calendar day in China.
var chinaTime = time.FixedZone("CST", 8*3600)
