// Package nontax fakes the non-tax payment platform (非税收入统一公共支付平台)
// of docs/nontax-gateway.md: payment notices (缴款通知书) identified by
// 20-digit payment codes with an ISO 7064 MOD 11,10 check digit, payment
// confirmations from the channels (idempotent on the channel's transaction
// id) that issue the official e-receipt (财政电子票据, with a PDF to
// download), refund registrations and the day's confirmations for
// reconciliation.
//
// The gateway is the provincial one's contract (app key, timestamp, nonce,
// HMAC-SM3 or HMAC-SHA256 over the canonical request, signed responses,
// Idempotency-Key on writes), built on the exported helpers of
// zwfw/sandbox/province, and served under BasePath (/nontax): the client's
// base URL is <sandbox URL>/nontax. Sandbox-only routes under
// /sandbox/nontax/ issue and cancel notices as a collecting agency would,
// list notices and confirmations, inject failures and count calls.
// docs/sandbox.md shows each with curl.
package nontax

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/gwserver"
	"zwfw/sandbox/province"
)

// Gateway constants.
const (
	// BasePath is where the platform is mounted on the sandbox server; the
	// API is below BasePath + "/api/v1".
	BasePath = "/nontax"
	// APIPrefix is the API's path below BasePath; signed paths start with it.
	APIPrefix = "/api/v1"
	// ReceiptPath is where e-receipt PDFs are served (unsigned: the link is
	// opened by the payer's phone and guarded by the receipt's check code).
	ReceiptPath = BasePath + "/receipts"
	// MaxSkew is how far a request's X-Gw-Timestamp may be from the
	// platform's clock (the provincial contract's value).
	MaxSkew = province.MaxSkew
	// NonceWindow is how long a nonce stays used.
	NonceWindow = province.NonceWindow
	// IdempotencyTTL is how long a write's Idempotency-Key is remembered.
	IdempotencyTTL = province.IdempotencyTTL
	// DefaultDueDays is a notice's payment period when the issuer gives none.
	DefaultDueDays = 15
	// PaidAtLeeway is how far in the platform's future a confirmation's
	// paid_at may be (the channel's clock may run a little ahead).
	PaidAtLeeway = 5 * time.Minute
)

// Options configures the fake.
type Options struct {
	// AppKey and AppSecret of the one app (zwfw) the platform knows;
	// generated when empty.
	AppKey, AppSecret string
	Now               fake.Clock // default time.Now
	Logger            *slog.Logger
	// PublicURL is the sandbox's external base URL (e.g.
	// "http://127.0.0.1:8090"), used in receipt download links; when empty
	// the links are built from the Host of the confirming request.
	PublicURL string
	// NoDemoData leaves the platform without the demo notices.
	NoDemoData bool
}

// Server is the fake non-tax payment platform. All state is in memory
// under one mutex.
type Server struct {
	appKey, appSecret string
	receiptKey        []byte // keys the receipts' check codes
	now               fake.Clock
	log               *slog.Logger
	publicURL         string
	runPrefix         string // 6 digits: payment code serials differ across restarts
	receiptPrefix     string // 3 digits: likewise for receipt numbers

	// gw authenticates, signs, stores idempotent answers, injects faults
	// and counts calls; it has its own lock.
	gw *gwserver.Gateway

	mu           sync.Mutex
	notices      map[string]*notice // by payment code
	order        []string           // payment codes, oldest first
	noticeSeq    int
	receiptSeq   int
	transactions map[string]string // transaction id -> payment code
	refundNos    map[string]string // refund no -> payment code
}

// New creates the fake, generating credentials when not given, and issues
// the demo notices (unless opts.NoDemoData) dated from the clock.
func New(opts Options) *Server {
	if opts.AppKey == "" {
		opts.AppKey = "zwfw-nontax-" + fake.RandomString(fake.Hex, 16)
	}
	if opts.AppSecret == "" {
		opts.AppSecret = fake.RandomString(fake.Alphanumeric, 40)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		appKey: opts.AppKey, appSecret: opts.AppSecret,
		receiptKey: fake.RandomBytes(32),
		now:        opts.Now.OrWall(), log: opts.Logger,
		publicURL:     opts.PublicURL,
		runPrefix:     fake.RandomString(fake.Digits, 6),
		receiptPrefix: fake.RandomString(fake.Digits, 3),
		notices:       map[string]*notice{}, transactions: map[string]string{}, refundNos: map[string]string{},
	}
	s.gw = gwserver.New(gwserver.Options{
		Name: "nontax", AppKey: opts.AppKey, AppSecret: opts.AppSecret, BasePath: BasePath,
		MaxSkew: MaxSkew, NonceWindow: NonceWindow, IdempotencyTTL: IdempotencyTTL,
		ClockOwner:  "平台",
		FaultGroups: faultGroups, FaultModes: faultModes, FaultRate: true,
		Now: s.now, Logger: s.log,
	})
	if !opts.NoDemoData {
		s.seedDemo()
	}
	return s
}

// AppKey is the app key zwfw presents (NONTAX_APP_KEY).
func (s *Server) AppKey() string { return s.appKey }

// AppSecret is the app secret zwfw signs with (NONTAX_APP_SECRET).
func (s *Server) AppSecret() string { return s.appSecret }

// Register adds the platform's API under BasePath, the receipt downloads
// and the /sandbox/nontax/ controls to mux.
func (s *Server) Register(mux *http.ServeMux) {
	for _, rt := range s.routes() {
		mux.HandleFunc(rt.method+" "+BasePath+APIPrefix+rt.path, s.gateway(rt))
	}
	// Anything else below the API: a signed 404 envelope, as a real gateway
	// answers for an unknown API.
	mux.HandleFunc(BasePath+"/api/", s.gateway(route{path: "/*", fn: s.unknownAPI}))
	mux.HandleFunc("GET "+ReceiptPath+"/{code}/{file}", s.getReceiptPDF)

	mux.HandleFunc("GET /sandbox/nontax/items", s.getItems)
	mux.HandleFunc("GET /sandbox/nontax/notices", s.getNotices)
	mux.HandleFunc("POST /sandbox/nontax/notices", s.postNotice)
	mux.HandleFunc("GET /sandbox/nontax/notices/{code}", s.getNotice)
	mux.HandleFunc("POST /sandbox/nontax/notices/{code}/cancel", s.postCancel)
	mux.HandleFunc("GET /sandbox/nontax/confirmations", s.getConfirmations)
	s.gw.RegisterControls(mux, "/sandbox/nontax") // faults and stats
}

// Handler serves the fake alone.
func (s *Server) Handler() http.Handler { return fake.Mux(s) }

// Describe implements fake.Fake.
func (s *Server) Describe() fake.Description {
	var api []fake.Endpoint
	for _, rt := range s.routes() {
		api = append(api, fake.Endpoint{Method: rt.method, Path: BasePath + APIPrefix + rt.path, What: rt.what})
	}
	api = append(api, fake.Endpoint{Method: "GET", Path: ReceiptPath + "/{code}/{number}.pdf?check_sum=", What: "an e-receipt (财政电子票据) as PDF; the link is the receipt's url (unsigned, guarded by the check code)"})
	return fake.Description{
		Name:     "nontax",
		Emulates: "non-tax payment platform (非税收入统一公共支付平台) gateway (docs/nontax-gateway.md): the provincial gateway's HMAC-SM3/HMAC-SHA256 signed requests and responses",
		API:      api,
		Controls: []fake.Endpoint{
			{Method: "GET", Path: "/sandbox/nontax/items", What: "the fee schedule: 收费项目 codes, names, standard amounts (fen) and collecting agencies"},
			{Method: "GET", Path: "/sandbox/nontax/notices?payer_id=&status=", What: "every notice (or a payer's), oldest first, with confirmation and refunds"},
			{Method: "POST", Path: "/sandbox/nontax/notices", What: `an agency issues a notice: {"payer_id","payer_name","items":[{"code","quantity","unit_price","name"}],"due_days":15,"case_number"}`},
			{Method: "GET", Path: "/sandbox/nontax/notices/{code}", What: "one notice"},
			{Method: "POST", Path: "/sandbox/nontax/notices/{code}/cancel", What: `the agency cancels an unpaid notice: {"reason"}`},
			{Method: "GET", Path: "/sandbox/nontax/confirmations?date=YYYY-MM-DD", What: "confirmations booked, all or of one day (Asia/Shanghai, by paid_at)"},
			{Method: "POST", Path: "/sandbox/nontax/faults", What: `inject failures: {"group":"notices|payments|refunds|reconciliation|*","mode":"error|down|timeout|slow|drop|lost|off","status":503,"delay_ms":2000,"count":0,"rate":0.5}`},
			{Method: "GET", Path: "/sandbox/nontax/faults", What: "faults in force"},
			{Method: "GET", Path: "/sandbox/nontax/stats", What: "calls per endpoint (calls, refused, faulted) and per request path"},
			{Method: "DELETE", Path: "/sandbox/nontax/stats", What: "reset the counters"},
		},
		Info: map[string]string{"app_key": s.appKey, "base_path": BasePath, "api_prefix": APIPrefix},
		Notes: []string{
			"every API request must be signed like the provincial gateway's (docs/nontax-gateway.md); responses are signed with the request's sign method",
			"payment codes: 6-digit division + 2-digit year + 11-digit serial + ISO 7064 MOD 11,10 check digit",
			"amounts are integer fen; POST .../payments and .../refunds require an Idempotency-Key header",
			"the demo people and companies of the province fake each have unpaid notices: GET /sandbox/nontax/notices",
		},
	}
}

// chinaTime is UTC+8 without tzdata: notice dates, the reconciliation day
// and receipt years follow the calendar day in China.
var chinaTime = time.FixedZone("CST", 8*3600)
