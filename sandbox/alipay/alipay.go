// Package alipay fakes the Alipay open platform (支付宝开放平台) for one
// merchant app: the OpenAPI gateway (gateway.do) with RSA2 request and
// response signatures, the client-side app pay and WAP pay flows, the
// asynchronous trade notify (trade_status_sync) with retries, and the daily
// trade bill (业务明细, a zip of GBK CSV files). It speaks exactly what
// smartwalle/alipay/v3 sends and expects, so zwfw's adapter
// (payments/alipay) runs against it unchanged.
//
// Keys: at New the fake generates the gateway's RSA-2048 key pair (whose
// public half is the "Alipay public key" zwfw verifies with) and the app's
// RSA-2048 key pair (whose private half zwfw signs with; in production the
// merchant generates it and uploads the public half). Both are handed out
// through Go accessors only, never written anywhere.
//
// App pay and WAP pay never reach Alipay's server from zwfw: the app hands
// the order string to the Alipay app, the browser opens the WAP URL. The
// fake therefore takes them through Open / OpenWap (or the cashier page
// the WAP URL opens, or POST /sandbox/alipay/pay), creating the trade on
// first sight as Alipay does when the cashier opens it; "the payer pays"
// with Pay. Sandbox-only routes under /sandbox/alipay/ drive and inspect it;
// docs/sandbox.md shows each with curl.
package alipay

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"zwfw/sandbox/fake"
)

// Paths the fake serves.
const (
	// GatewayPath is the OpenAPI gateway; zwfw's gateway URL is
	// <sandbox URL>/alipay/gateway.do.
	GatewayPath = "/alipay/gateway.do"
	// BillPath serves the bill files whose URLs
	// alipay.data.dataservice.bill.downloadurl.query hands out.
	BillPath = "/alipay/bill/downloadBillFile.resource"
	// ControlPath prefixes the sandbox-only routes.
	ControlPath = "/sandbox/alipay"
)

// BillURLTTL is how long a bill download URL works (Alipay: 30 seconds).
const BillURLTTL = 30 * time.Second

// DefaultNotifyRetryDelays are the waits before the 2nd, 3rd and 4th
// attempt to deliver a notify. Alipay itself retries over 25 hours
// (4m, 10m, 10m, 1h, 2h, 6h, 15h); the sandbox keeps it short.
var DefaultNotifyRetryDelays = []time.Duration{1 * time.Second, 5 * time.Second, 30 * time.Second}

// Options configures the fake.
type Options struct {
	Now    fake.Clock // default time.Now
	Logger *slog.Logger
	// NotifyRetryDelays are the waits between notify attempts; nil =
	// DefaultNotifyRetryDelays, empty = a single attempt.
	NotifyRetryDelays []time.Duration
	// HTTPClient delivers notifies; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// MaxTimestampSkew, when positive, refuses requests whose timestamp is
	// further than this from the fake's clock (Alipay allows 15 minutes).
	// Zero checks the format only: the SDK stamps requests with the wall
	// clock while tests step the fake's clock.
	MaxTimestampSkew time.Duration
	// BillUTF8 writes bills in UTF-8 instead of GBK (Alipay writes GBK).
	BillUTF8 bool
}

// Server is the fake Alipay gateway of one merchant app. All state is in
// memory under one mutex.
type Server struct {
	appID    string // the merchant app (16 digits)
	sellerID string // the merchant's Alipay user id (PID, 2088 + 12 digits)
	appKey   *rsa.PrivateKey
	gwKey    *rsa.PrivateKey // the "Alipay" key: signs responses and notifies
	billKey  []byte          // signs bill download URLs

	now         fake.Clock
	log         *slog.Logger
	httpClient  *http.Client
	retryDelays []time.Duration
	maxSkew     time.Duration
	billUTF8    bool

	ctx    context.Context // cancelled by Close: stops notify retries
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	trades   map[string]*trade // by out_trade_no
	byNo     map[string]*trade // by trade_no
	order    []*trade          // creation order
	notifies []*notifyRecord
}

// New creates the fake with freshly generated keys and app id.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.NotifyRetryDelays == nil {
		opts.NotifyRetryDelays = DefaultNotifyRetryDelays
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		appID:    "2021" + fake.RandomString(fake.Digits, 12),
		sellerID: "2088" + fake.RandomString(fake.Digits, 12),
		appKey:   mustKey(),
		gwKey:    mustKey(),
		billKey:  fake.RandomBytes(32),

		now: opts.Now.OrWall(), log: opts.Logger,
		httpClient: opts.HTTPClient, retryDelays: opts.NotifyRetryDelays,
		maxSkew: opts.MaxTimestampSkew, billUTF8: opts.BillUTF8,
		ctx: ctx, cancel: cancel,
		trades: map[string]*trade{}, byNo: map[string]*trade{},
	}
}

// mustKey generates an RSA-2048 key, the size Alipay requires for RSA2.
func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return k
}

// AppID is the merchant app's id (ALIPAY_APP_ID).
func (s *Server) AppID() string { return s.appID }

// SellerID is the merchant's Alipay user id (seller_id in notifies, the
// account in bills).
func (s *Server) SellerID() string { return s.sellerID }

// Close stops pending notify retries and waits for deliveries in flight.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// Register adds the gateway, the bill download route and the
// /sandbox/alipay/ controls to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+GatewayPath, s.gateway)
	mux.HandleFunc("GET "+GatewayPath, s.gateway)
	mux.HandleFunc("GET "+BillPath, s.downloadBill)

	mux.HandleFunc("POST "+ControlPath+"/open", s.postOpen)
	mux.HandleFunc("POST "+ControlPath+"/pay", s.postPay)
	mux.HandleFunc("POST "+ControlPath+"/cashier", s.postCashier)
	mux.HandleFunc("GET "+ControlPath+"/trades", s.getTrades)
	mux.HandleFunc("GET "+ControlPath+"/notifies", s.getNotifies)
}

// Handler serves the fake alone.
func (s *Server) Handler() http.Handler { return fake.Mux(s) }

// Describe implements fake.Fake.
func (s *Server) Describe() fake.Description {
	return fake.Description{
		Name:     "alipay",
		Emulates: "Alipay open platform gateway (openapi.alipay.com/gateway.do): RSA2-signed requests and responses, app and WAP pay, trade notifies, daily trade bills",
		API: []fake.Endpoint{
			{Method: "POST", Path: GatewayPath, What: "OpenAPI: method=alipay.trade.query | alipay.trade.close | alipay.trade.refund | alipay.trade.fastpay.refund.query | alipay.data.dataservice.bill.downloadurl.query"},
			{Method: "GET", Path: GatewayPath, What: "WAP cashier: the URL TradeWapPay builds (method=alipay.trade.wap.pay) opens a cashier page with a pay button"},
			{Method: "GET", Path: BillPath, What: "bill zip (业务明细 + 汇总, GBK CSV) from a download URL; valid 30 s"},
		},
		Controls: []fake.Endpoint{
			{Method: "POST", Path: ControlPath + "/open", What: `the payer opens the cashier: {"order_string"} (app pay) or {"pay_url"} (WAP) -> the trade, WAIT_BUYER_PAY`},
			{Method: "POST", Path: ControlPath + "/pay", What: `the payer pays: {"order_string"|"pay_url"|"out_trade_no", "amount":"override yuan", "notify":"send|drop|twice", "surplus":true pays a trade the merchant closed}`},
			{Method: "POST", Path: ControlPath + "/cashier", What: "the WAP cashier page's pay button (form out_trade_no=): pays, then redirects to return_url with the signed sync-return parameters"},
			{Method: "GET", Path: ControlPath + "/trades?out_trade_no=", What: "trades with their refunds, oldest first"},
			{Method: "GET", Path: ControlPath + "/notifies?out_trade_no=", What: "notifies with their form fields and delivery attempts, oldest first"},
		},
		Info: map[string]string{"app_id": s.appID, "seller_id": s.sellerID, "gateway": GatewayPath},
		Notes: []string{
			"keys are generated at start-up: the app private key and the Alipay public key come from Go (AppPrivateKeyPEM, AlipayPublicKeyPEM) or make sandbox",
			"a trade exists once the payer opened its order string or WAP URL (open/pay controls, or the cashier page); before that alipay.trade.query says ACQ.TRADE_NOT_EXIST",
			"a day's bill is available once the day (Asia/Shanghai) has ended on the sandbox clock; before that isp.bill_not_exist",
			"notifies are answered by the plain text success; anything else is retried",
		},
	}
}

// chinaTime is UTC+8 without tzdata: Alipay's timestamps and bill days
// follow the calendar in China.
var chinaTime = time.FixedZone("CST", 8*3600)

// Alipay's time formats.
const (
	timeLayout   = "2006-01-02 15:04:05"
	refundLayout = "2006-01-02 15:04:05.000" // gmt_refund carries milliseconds
	dateLayout   = "2006-01-02"
)

func fmtTime(t time.Time) string { return t.In(chinaTime).Format(timeLayout) }
