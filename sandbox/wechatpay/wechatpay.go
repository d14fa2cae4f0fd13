// Package wechatpay fakes WeChat Pay API v2 (https://api.mch.weixin.qq.com)
// for one merchant with two bound app ids — the mini-program's and a mobile
// app's — speaking the real XML wire format with real v2 signatures (MD5 and
// HMAC-SHA256 per sign_type): every request's sign is verified, every
// answer and paid notify is signed, and refund notifies carry req_info
// encrypted with AES-256-ECB under md5(API key), as silenceper/wechat/v2's
// notify.DecryptReqInfo expects.
//
// API: /pay/unifiedorder, /pay/orderquery, /pay/closeorder,
// /pay/refundquery, /pay/downloadbill on plain HTTP (Register), and
// /secapi/pay/refund, which needs the merchant's client certificate and is
// therefore only served on the mutual-TLS listener of StartTLS. The fake
// generates at New a private CA, the server's certificate and the
// merchant's PKCS#12 (MerchantP12, password = mch_id).
//
// Sandbox-only routes under /sandbox/wechatpay/ stand in for the payer and
// for WeChat's side: the user pays (the signed paid notify goes to the
// order's notify_url, retried until zwfw answers SUCCESS, or dropped, or
// sent twice), money arrives for an order the merchant closed (a surplus),
// refunds settle, and orders and notifies can be listed.
package wechatpay

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"zwfw/sandbox/fake"
)

// Defaults.
const (
	// PrepayTTL is how long a prepay_id can be used (WeChat: 2 hours); an
	// identical unifiedorder after that gets a new one.
	PrepayTTL = 2 * time.Hour
	// MinExpire is the shortest time_expire WeChat accepts, from now.
	MinExpire = time.Minute
	// MaxRefundsPerOrder is WeChat's limit of partial refunds of one order.
	MaxRefundsPerOrder = 50
	// RefundWindow is how long after payment a refund is accepted (one year).
	RefundWindow = 365 * 24 * time.Hour
)

// DefaultNotifyRetryDelays are the waits before the 2nd, 3rd, ... attempt to
// deliver a notify. WeChat's own schedule (15s/15s/30s/3m/... over 24 h) is
// too slow for a sandbox; the fake retries a few times, quickly.
var DefaultNotifyRetryDelays = []time.Duration{1 * time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second}

// shanghai is Asia/Shanghai: China has kept UTC+8 without daylight saving
// since 1991, so a fixed zone is exact and needs no tzdata.
var shanghai = time.FixedZone("CST", 8*3600)

// Options configures the fake.
type Options struct {
	// MiniProgramAppID is the mini-program bound to the merchant (the
	// WeChat fake's app id); generated when empty.
	MiniProgramAppID string
	// AppAppID is the mobile app's open-platform app id; generated when empty.
	AppAppID string
	// MchID (10 digits) and APIKey (32 characters); generated when empty.
	MchID, APIKey string
	Now           fake.Clock // default time.Now
	Logger        *slog.Logger
	// HTTPClient delivers notifies; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// NotifyRetryDelays: waits between notify attempts; nil =
	// DefaultNotifyRetryDelays.
	NotifyRetryDelays []time.Duration
	// RefundDelay is how long, on the fake clock, a refund stays
	// PROCESSING; 0 = it succeeds at the next request or Advance.
	RefundDelay time.Duration
}

// Server is the fake WeChat Pay merchant API. All state is in memory under
// one mutex.
type Server struct {
	mchID, apiKey       string
	miniAppID, appAppID string
	now                 fake.Clock
	log                 *slog.Logger
	httpClient          *http.Client
	retryDelays         []time.Duration
	refundDelay         time.Duration
	pki                 *pki

	ctx    context.Context // cancelled by Close: stops notify retries
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	orders     map[string]*order // by out_trade_no
	orderList  []*order          // creation order
	byTxn      map[string]*order // by transaction_id
	refunds    map[string]*refund
	notifies   []*Notify
	notifyMode NotifyMode
	seq        int // payments and refunds, in the order they happened
	tlsServer  *http.Server
	closed     bool
}

// New creates the fake with freshly generated credentials and certificates.
func New(opts Options) *Server {
	if opts.MiniProgramAppID == "" {
		opts.MiniProgramAppID = "wx" + fake.RandomString(fake.Hex, 16)
	}
	if opts.AppAppID == "" {
		opts.AppAppID = "wx" + fake.RandomString(fake.Hex, 16)
	}
	if opts.MchID == "" {
		opts.MchID = "1" + fake.RandomString(fake.Digits, 9)
	}
	if opts.APIKey == "" {
		opts.APIKey = fake.RandomString(fake.Alphanumeric, 32)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.NotifyRetryDelays == nil {
		opts.NotifyRetryDelays = DefaultNotifyRetryDelays
	}
	p, err := newPKI(opts.MchID)
	if err != nil {
		panic("wechatpay: generate certificates: " + err.Error()) // crypto/rand and x509 do not fail on valid templates
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		mchID: opts.MchID, apiKey: opts.APIKey,
		miniAppID: opts.MiniProgramAppID, appAppID: opts.AppAppID,
		now: opts.Now.OrWall(), log: opts.Logger,
		httpClient: opts.HTTPClient, retryDelays: opts.NotifyRetryDelays,
		refundDelay: opts.RefundDelay, pki: p,
		ctx: ctx, cancel: cancel,
		orders: map[string]*order{}, byTxn: map[string]*order{}, refunds: map[string]*refund{},
		notifyMode: NotifySend,
	}
}

// MchID is the merchant id (WECHATPAY_MCH_ID).
func (s *Server) MchID() string { return s.mchID }

// APIKey is the merchant's v2 API key (WECHATPAY_KEY); a secret, generated at New.
func (s *Server) APIKey() string { return s.apiKey }

// MiniProgramAppID is the mini-program app id bound to the merchant.
func (s *Server) MiniProgramAppID() string { return s.miniAppID }

// AppAppID is the mobile app's app id bound to the merchant.
func (s *Server) AppAppID() string { return s.appAppID }

// MerchantP12 is the merchant's API client certificate and key as PKCS#12
// (apiclient_cert.p12), password = MchID, in the legacy encoding
// golang.org/x/crypto/pkcs12 reads.
func (s *Server) MerchantP12() []byte { return append([]byte(nil), s.pki.p12...) }

// RootCAs trusts the fake's private CA, which issued the TLS server's
// certificate (and the merchant's).
func (s *Server) RootCAs() *x509.CertPool { return s.pki.roots.Clone() }

// RootCAPEM is the same CA as PEM, for a zwfw in another process to trust
// through its configuration (WECHATPAY_ROOT_CA_FILE).
func (s *Server) RootCAPEM() []byte { return append([]byte(nil), s.pki.caPEM...) }

// Register adds the emulated API routes and the /sandbox/wechatpay/
// controls to mux. /secapi/ routes answer only on the StartTLS listener.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /pay/unifiedorder", s.api(s.unifiedOrder))
	mux.HandleFunc("POST /pay/orderquery", s.api(s.orderQuery))
	mux.HandleFunc("POST /pay/closeorder", s.api(s.closeOrder))
	mux.HandleFunc("POST /pay/refundquery", s.api(s.refundQuery))
	mux.HandleFunc("POST /pay/downloadbill", s.downloadBill)
	mux.HandleFunc("POST /secapi/pay/refund", s.requireClientCert(s.api(s.refund)))

	mux.HandleFunc("POST /sandbox/wechatpay/pay", s.postPay)
	mux.HandleFunc("POST /sandbox/wechatpay/surplus", s.postSurplus)
	mux.HandleFunc("GET /sandbox/wechatpay/orders", s.getOrders)
	mux.HandleFunc("GET /sandbox/wechatpay/orders/{out_trade_no}", s.getOrder)
	mux.HandleFunc("GET /sandbox/wechatpay/notifies", s.getNotifies)
	mux.HandleFunc("GET /sandbox/wechatpay/notify-mode", s.getNotifyMode)
	mux.HandleFunc("POST /sandbox/wechatpay/notify-mode", s.postNotifyMode)
	mux.HandleFunc("POST /sandbox/wechatpay/advance", s.postAdvance)
}

// Handler serves the fake alone (plain HTTP; see StartTLS for /secapi/).
func (s *Server) Handler() http.Handler { return fake.Mux(s) }

// Describe implements fake.Fake.
func (s *Server) Describe() fake.Description {
	return fake.Description{
		Name:     "wechatpay",
		Emulates: "WeChat Pay API v2 (https://api.mch.weixin.qq.com): XML, MD5/HMAC-SHA256 signatures, mutual TLS for /secapi/",
		API: []fake.Endpoint{
			{Method: "POST", Path: "/pay/unifiedorder", What: "unified order (trade_type JSAPI with openid, or APP) -> prepay_id"},
			{Method: "POST", Path: "/pay/orderquery", What: "order state: trade_state SUCCESS/REFUND/NOTPAY/CLOSED, ORDERNOTEXIST"},
			{Method: "POST", Path: "/pay/closeorder", What: "close an unpaid order (ORDERPAID when paid)"},
			{Method: "POST", Path: "/secapi/pay/refund", What: "refund; mutual TLS with the merchant certificate only (StartTLS listener)"},
			{Method: "POST", Path: "/pay/refundquery", What: "refund state: refund_count, out_refund_no_$n, refund_status_$n ..."},
			{Method: "POST", Path: "/pay/downloadbill", What: "daily bill (bill_type ALL/SUCCESS/REFUND), after the day ends (Asia/Shanghai)"},
		},
		Controls: []fake.Endpoint{
			{Method: "POST", Path: "/sandbox/wechatpay/pay", What: `the user pays: {"out_trade_no" (or "params": the wx.requestPayment/PayReq parameters), "amount_fen": override, "notify": "send|drop|twice"}`},
			{Method: "POST", Path: "/sandbox/wechatpay/surplus", What: `money arrives for an order the merchant closed: {"out_trade_no", "amount_fen", "notify"}`},
			{Method: "GET", Path: "/sandbox/wechatpay/orders", What: "every order with its refunds, oldest first"},
			{Method: "GET", Path: "/sandbox/wechatpay/orders/{out_trade_no}", What: "one order"},
			{Method: "GET", Path: "/sandbox/wechatpay/notifies", What: "notifies sent (paid and refund), with attempts and zwfw's answers"},
			{Method: "GET", Path: "/sandbox/wechatpay/notify-mode", What: "the default notify mode"},
			{Method: "POST", Path: "/sandbox/wechatpay/notify-mode", What: `default for notifies without their own mode: {"notify": "send|drop|twice"}`},
			{Method: "POST", Path: "/sandbox/wechatpay/advance", What: "apply the fake clock: settle refunds whose delay has passed (and send their notifies)"},
		},
		Info: map[string]string{
			"mch_id":             s.mchID,
			"miniprogram_app_id": s.miniAppID,
			"app_app_id":         s.appAppID,
		},
		Notes: []string{
			"the API key and the merchant certificate are generated at start-up; /secapi/pay/refund needs the StartTLS listener and the merchant's client certificate",
			"a refund is PROCESSING until its delay passes on the fake clock, then SUCCESS, and its notify goes to its notify_url",
			"bills exist for days that have ended (Asia/Shanghai) and had trades; otherwise: No Bill Exist (error_code 20002)",
		},
	}
}

// nextSeq numbers a payment or refund. Callers hold s.mu.
func (s *Server) nextSeq() int {
	s.seq++
	return s.seq
}

// Close stops the TLS listener and pending notify retries and waits for
// deliveries in flight.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.tlsServer
	s.tlsServer = nil
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	if srv != nil {
		_ = srv.Close()
	}
	s.wg.Wait()
}
