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
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/province"
	"zwfw/sandbox/sms"
	"zwfw/sandbox/wechat"
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
	fakes    []fake.Fake
	handler  http.Handler

	mu  sync.Mutex
	srv *http.Server
	url string
}

// New creates the fakes with freshly generated credentials. Nothing listens
// until Start; Handler works without it.
func New(opts Options) *Sandbox {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sandbox{log: log}
	s.wechat = wechat.New(wechat.Options{Now: opts.Now, Logger: log.With("fake", "wechat")})
	s.sms = sms.New(sms.Options{Now: opts.Now, Logger: log.With("fake", "sms"), FlowControl: opts.SMSFlowControl})
	s.province = province.New(province.Options{Now: opts.Now, Logger: log.With("fake", "province")})
	s.fakes = []fake.Fake{s.wechat, s.sms, s.province}

	mux := http.NewServeMux()
	for _, f := range s.fakes {
		f.Register(mux)
	}
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
	}{"zwfw outside-system fakes; state is in memory and lost on restart", s.URL(), descs})
}

// notFound answers routes no fake serves, saying so (a real API's 404 would
// leave a tester guessing whether the fake or the path is wrong).
func notFound(w http.ResponseWriter, r *http.Request) {
	fake.ControlError(w, http.StatusNotFound, "sandbox: no fake serves %s %s (see GET /sandbox/)", r.Method, r.URL.Path)
}
