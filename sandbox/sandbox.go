// Package sandbox runs faithful in-process fakes of zwfw's outside systems
// on one real HTTP server, speaking their wire formats and signatures, so
// that zwfw's real clients (the WeChat SDK, the Aliyun SMS client) can be
// pointed at it unchanged. Each fake lives in its own sub-package with its
// own in-memory state; this package only generates their credentials at
// start-up (no secret lives in the repository) and mounts them side by side.
//
// To add a fake: write sandbox/<name> with a type implementing fake.Fake,
// create it in New and append it to s.fakes.
package sandbox

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"zwfw/sandbox/alipay"
	"zwfw/sandbox/courier"
	"zwfw/sandbox/fake"
	"zwfw/sandbox/nontax"
	"zwfw/sandbox/province"
	"zwfw/sandbox/push"
	"zwfw/sandbox/sms"
	"zwfw/sandbox/wechat"
	"zwfw/sandbox/wechatpay"
)

// Options configures the sandbox.
type Options struct {
	Logger *slog.Logger
	// Now is the fakes' clock (token and code expiry, signature timestamps,
	// flow control); default time.Now.
	Now func() time.Time
	// SMSFlowControl overrides the SMS gateway's per-phone limits: nil keeps
	// Aliyun's defaults (sms.DefaultFlowControl), &sms.FlowControl{} turns them off.
	SMSFlowControl *sms.FlowControl
	// NotifyRetryDelays overrides the waits between attempts of the payment
	// and courier fakes' notifies and pushes (tests use short ones); nil keeps
	// each fake's default.
	NotifyRetryDelays []time.Duration
	// CourierAutoAdvance moves every parcel one step this often (on the
	// fakes' clock); zero leaves parcels to the controls.
	CourierAutoAdvance time.Duration
}

// WeChatCredentials are the fake mini-program's credentials.
type WeChatCredentials struct {
	AppID     string
	AppSecret string
}

// SMSCredentials are the fake SMS account's keys, signature and templates.
type SMSCredentials struct {
	AccessKeyID       string
	AccessKeySecret   string
	SignName          string
	LoginTemplateCode string
}

// Sandbox is the set of fakes on one HTTP server.
type Sandbox struct {
	log      *slog.Logger
	wechat   *wechat.Server
	sms      *sms.Gateway
	province *province.Server
	wxpay    *wechatpay.Server
	alipay   *alipay.Server
	nontax   *nontax.Server
	courier  *courier.Server
	push     *push.Server
	fakes    []fake.Fake
	handler  http.Handler
	// payClock is the payment fakes' clock (see clock.go).
	payClock *fake.OffsetClock

	mu     sync.Mutex
	srv    *http.Server
	url    string
	tlsURL string
}

// New creates the fakes with freshly generated credentials. Nothing listens
// until Start; Handler works without it.
func New(opts Options) *Sandbox {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sandbox{log: log, payClock: fake.NewOffsetClock(opts.Now)}
	s.wechat = wechat.New(wechat.Options{Now: opts.Now, Logger: log.With("fake", "wechat")})
	s.sms = sms.New(sms.Options{Now: opts.Now, Logger: log.With("fake", "sms"), FlowControl: opts.SMSFlowControl})
	s.province = province.New(province.Options{Now: opts.Now, Logger: log.With("fake", "province")})
	s.wxpay = wechatpay.New(wechatpay.Options{MiniProgramAppID: s.wechat.AppID(), Now: s.payClock.Now, Logger: log.With("fake", "wechatpay"),
		NotifyRetryDelays: opts.NotifyRetryDelays})
	s.alipay = alipay.New(alipay.Options{Now: s.payClock.Now, Logger: log.With("fake", "alipay"), NotifyRetryDelays: opts.NotifyRetryDelays})
	s.nontax = nontax.New(nontax.Options{Now: s.payClock.Now, Logger: log.With("fake", "nontax")})
	s.courier = courier.New(courier.Options{Now: opts.Now, Logger: log.With("fake", "courier"),
		PushRetryDelays: opts.NotifyRetryDelays, AutoAdvance: opts.CourierAutoAdvance})
	s.push = push.New(push.Options{Now: opts.Now, Logger: log.With("fake", "push")})
	s.fakes = []fake.Fake{s.wechat, s.sms, s.province, s.wxpay, s.alipay, s.nontax, s.courier, s.push}

	mux := http.NewServeMux()
	for _, f := range s.fakes {
		f.Register(mux)
	}
	mux.HandleFunc("GET /sandbox/clock", s.getClock)
	mux.HandleFunc("POST /sandbox/clock", s.postClock)
	mux.HandleFunc("DELETE /sandbox/clock", s.deleteClock)
	mux.HandleFunc("GET /sandbox/{$}", s.index)
	mux.HandleFunc("/", notFound)
	s.handler = mux
	return s
}

// Handler serves every fake (for httptest or embedding in another server).
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves in
// the background until Close.
func (s *Sandbox) Start(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("sandbox: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.url = "http://" + ln.Addr().String()
	// WeChat Pay's /secapi/ (refunds) needs the merchant's client
	// certificate: it has its own TLS listener beside the plain one.
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	tlsURL, err := s.wxpay.StartTLS(net.JoinHostPort(host, "0"))
	if err != nil {
		_ = ln.Close()
		return err
	}
	s.tlsURL = tlsURL
	go func(srv *http.Server) {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox server stopped", "err", err)
		}
	}(s.srv)
	s.log.Info("sandbox listening", "url", s.url)
	return nil
}

// URL is the base URL the sandbox serves on, e.g. "http://127.0.0.1:41234";
// empty before Start.
func (s *Sandbox) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the server, letting requests in flight finish within ctx.
func (s *Sandbox) Close(ctx context.Context) error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	s.province.Close() // stops pending callback retries
	s.wxpay.Close()
	s.alipay.Close()
	s.courier.Close()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// WeChat returns the mini-program credentials generated at start-up.
func (s *Sandbox) WeChat() WeChatCredentials {
	return WeChatCredentials{AppID: s.wechat.AppID(), AppSecret: s.wechat.AppSecret()}
}

// SMS returns the SMS account's credentials generated at start-up.
func (s *Sandbox) SMS() SMSCredentials {
	return SMSCredentials{
		AccessKeyID: s.sms.AccessKeyID(), AccessKeySecret: s.sms.AccessKeySecret(),
		SignName: s.sms.SignName(), LoginTemplateCode: sms.LoginTemplateCode,
	}
}

// ProvinceCredentials are the app key and secret zwfw uses at the fake
// provincial gateway, and the gateway's base URL.
type ProvinceCredentials struct {
	BaseURL   string
	AppKey    string
	AppSecret string
}

// Province returns the provincial gateway's credentials; BaseURL is empty before Start.
func (s *Sandbox) Province() ProvinceCredentials {
	base := s.URL()
	if base != "" {
		base += "/province"
	}
	return ProvinceCredentials{BaseURL: base, AppKey: s.province.AppKey(), AppSecret: s.province.AppSecret()}
}

// ProvinceServer is the provincial platform fake, for tests that drive it from Go.
func (s *Sandbox) ProvinceServer() *province.Server { return s.province }

// WeChatServer is the WeChat fake, for tests that drive it from Go.
func (s *Sandbox) WeChatServer() *wechat.Server { return s.wechat }

// SMSGateway is the SMS fake, for tests that drive it from Go.
func (s *Sandbox) SMSGateway() *sms.Gateway { return s.sms }

// WeChatPayCredentials are the fake merchant's: ids, API key, the
// merchant's PKCS#12 certificate (password = MchID) and the CA that signed
// the /secapi/ listener's certificate.
type WeChatPayCredentials struct {
	MchID, APIKey, MiniProgramAppID, AppAppID string
	CertP12                                   []byte
	RootCAs                                   *x509.CertPool
	SecureBaseURL                             string // https base of /secapi/; empty before Start
}

// WeChatPay returns the merchant's credentials generated at start-up.
func (s *Sandbox) WeChatPay() WeChatPayCredentials {
	s.mu.Lock()
	tlsURL := s.tlsURL
	s.mu.Unlock()
	return WeChatPayCredentials{MchID: s.wxpay.MchID(), APIKey: s.wxpay.APIKey(), MiniProgramAppID: s.wxpay.MiniProgramAppID(),
		AppAppID: s.wxpay.AppAppID(), CertP12: s.wxpay.MerchantP12(), RootCAs: s.wxpay.RootCAs(), SecureBaseURL: tlsURL}
}

// AlipayCredentials are the fake app's keys and the gateway's public key.
type AlipayCredentials struct {
	AppID, AppPrivateKeyPEM, AlipayPublicKeyPEM string
	GatewayURL                                  string // empty before Start
}

// Alipay returns the Alipay app's credentials generated at start-up.
func (s *Sandbox) Alipay() AlipayCredentials {
	gw := s.URL()
	if gw != "" {
		gw += alipay.GatewayPath
	}
	return AlipayCredentials{AppID: s.alipay.AppID(), AppPrivateKeyPEM: s.alipay.AppPrivateKeyPEM(),
		AlipayPublicKeyPEM: s.alipay.AlipayPublicKeyPEM(), GatewayURL: gw}
}

// NonTax returns the non-tax platform's credentials; BaseURL is empty before Start.
func (s *Sandbox) NonTax() ProvinceCredentials {
	base := s.URL()
	if base != "" {
		base += nontax.BasePath
	}
	return ProvinceCredentials{BaseURL: base, AppKey: s.nontax.AppKey(), AppSecret: s.nontax.AppSecret()}
}

// CourierCredentials are the courier account's keys and the aggregator's base URL.
type CourierCredentials struct {
	BaseURL, Customer, Key, Secret string
}

// Courier returns the courier account generated at start-up.
func (s *Sandbox) Courier() CourierCredentials {
	base := s.URL()
	if base != "" {
		base += courier.BasePath
	}
	return CourierCredentials{BaseURL: base, Customer: s.courier.Customer(), Key: s.courier.Key(), Secret: s.courier.Secret()}
}

// PushCredentials are the push gateway's app key and master secret.
type PushCredentials struct {
	BaseURL, AppKey, MasterSecret string
}

// Push returns the push gateway's credentials generated at start-up.
func (s *Sandbox) Push() PushCredentials {
	return PushCredentials{BaseURL: s.URL(), AppKey: s.push.AppKey(), MasterSecret: s.push.MasterSecret()}
}

// WeChatPayServer, AlipayServer, NonTaxServer, CourierServer and
// PushServer are the fakes, for tests that drive them from Go.
func (s *Sandbox) WeChatPayServer() *wechatpay.Server { return s.wxpay }

// AlipayServer is the Alipay fake.
func (s *Sandbox) AlipayServer() *alipay.Server { return s.alipay }

// NonTaxServer is the non-tax platform fake.
func (s *Sandbox) NonTaxServer() *nontax.Server { return s.nontax }

// CourierServer is the courier fake.
func (s *Sandbox) CourierServer() *courier.Server { return s.courier }

// PushServer is the push gateway fake.
func (s *Sandbox) PushServer() *push.Server { return s.push }

// index: GET /sandbox/ lists the fakes, their routes and conventions.
func (s *Sandbox) index(w http.ResponseWriter, _ *http.Request) {
	descs := make([]fake.Description, 0, len(s.fakes))
	for _, f := range s.fakes {
		descs = append(descs, f.Describe())
	}
	fake.WriteJSON(w, http.StatusOK, struct {
		Sandbox string             `json:"sandbox"`
		URL     string             `json:"url"`
		Fakes   []fake.Description `json:"fakes"`
		Clock   []fake.Endpoint    `json:"clock"`
	}{"zwfw outside-system fakes; state is in memory and lost on restart", s.URL(), descs, clockControls})
}

// notFound answers routes no fake serves, saying so (a real API's 404 would
// leave a tester guessing whether the fake or the path is wrong).
func notFound(w http.ResponseWriter, r *http.Request) {
	fake.ControlError(w, http.StatusNotFound, "sandbox: no fake serves %s %s (see GET /sandbox/)", r.Method, r.URL.Path)
}
