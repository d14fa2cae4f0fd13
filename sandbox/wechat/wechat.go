// Package wechat fakes the WeChat mini-program server API
// (https://api.weixin.qq.com) for one mini-program: login (code2Session),
// access tokens (cgi-bin/token and cgi-bin/stable_token) and subscribe
// messages, with WeChat's error codes and field rules. It speaks the wire
// format silenceper/wechat/v2 sends and expects: every answer is HTTP 200
// with an errcode in the JSON body, as WeChat does (the SDK treats any other
// status as a transport failure and loses the errcode).
//
// Sandbox-only routes under /sandbox/wechat/ stand in for what happens on the
// phone: issuing wx.login codes, a user accepting subscribe messages
// (wx.requestSubscribeMessage), and reading what was "delivered".
package wechat

import (
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"zwfw/sandbox/fake"
)

// Defaults of WeChat's lifetimes.
const (
	DefaultCodeTTL  = 5 * time.Minute // a wx.login code is valid for 5 minutes
	DefaultTokenTTL = 2 * time.Hour   // access_token expires_in 7200
	// TokenGrace is how long a superseded access token keeps working after a
	// new one is fetched from cgi-bin/token (WeChat's documented 5 minutes).
	TokenGrace = 5 * time.Minute
	// TestCodePrefix marks reusable demo login codes: "test:<name>".
	TestCodePrefix = "test:"
)

// Options configures the fake.
type Options struct {
	// AppID and AppSecret of the mini-program; generated when empty.
	AppID, AppSecret string
	Now              fake.Clock // default time.Now
	Logger           *slog.Logger
	CodeTTL          time.Duration // default DefaultCodeTTL
	TokenTTL         time.Duration // default DefaultTokenTTL
}

// Server is the fake WeChat API of one mini-program. All state is in memory.
type Server struct {
	appID, appSecret string
	now              fake.Clock
	log              *slog.Logger
	codeTTL          time.Duration
	tokenTTL         time.Duration

	mu         sync.Mutex
	codes      map[string]*loginCode
	phoneCodes map[string]*phoneCode
	tokens     map[string]*accessToken
	stable     string // the current stable_token, "" when none
	consents   map[consentKey]int
	messages   []Message
	msgSeq     int64
}

type loginCode struct {
	name    string
	expires time.Time
	used    bool
}

type accessToken struct {
	expires time.Time
	// superseded tokens were replaced (or revoked); once past expires they
	// answer 40001 rather than 42001, as WeChat does.
	superseded bool
	stable     bool
}

type consentKey struct{ openID, templateID string }

// Message is a subscribe message the fake accepted ("delivered").
type Message struct {
	MsgID            int64             `json:"msgid"`
	ToUser           string            `json:"touser"`
	TemplateID       string            `json:"template_id"`
	Page             string            `json:"page,omitempty"`
	MiniprogramState string            `json:"miniprogram_state,omitempty"`
	Lang             string            `json:"lang,omitempty"`
	Data             map[string]string `json:"data"` // keyword -> value
	Time             time.Time         `json:"time"`
}

// Consent is how many more messages of a template a user accepted.
type Consent struct {
	OpenID     string `json:"openid"`
	TemplateID string `json:"template_id"`
	Remaining  int    `json:"remaining"`
}

// New creates the fake, generating the app's credentials when not given.
func New(opts Options) *Server {
	if opts.AppID == "" {
		opts.AppID = "wx" + fake.RandomString(fake.Hex, 16)
	}
	if opts.AppSecret == "" {
		opts.AppSecret = fake.RandomString(fake.Hex, 32)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CodeTTL <= 0 {
		opts.CodeTTL = DefaultCodeTTL
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	return &Server{
		appID: opts.AppID, appSecret: opts.AppSecret,
		now: opts.Now.OrWall(), log: opts.Logger,
		codeTTL: opts.CodeTTL, tokenTTL: opts.TokenTTL,
		codes:      map[string]*loginCode{},
		phoneCodes: map[string]*phoneCode{},
		tokens:     map[string]*accessToken{},
		consents:   map[consentKey]int{},
	}
}

// AppID is the mini-program's app id.
func (s *Server) AppID() string { return s.appID }

// AppSecret is the mini-program's app secret.
func (s *Server) AppSecret() string { return s.appSecret }

// Register adds the emulated API routes and the /sandbox/wechat/ controls to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /sns/jscode2session", s.code2Session)
	mux.HandleFunc("GET /cgi-bin/token", s.token)
	mux.HandleFunc("POST /cgi-bin/stable_token", s.stableToken)
	mux.HandleFunc("POST /cgi-bin/message/subscribe/send", s.subscribeSend)
	mux.HandleFunc("POST /wxa/business/getuserphonenumber", s.getUserPhoneNumber)

	mux.HandleFunc("POST /sandbox/wechat/codes", s.postCode)
	mux.HandleFunc("POST /sandbox/wechat/phonecodes", s.postPhoneCode)
	mux.HandleFunc("POST /sandbox/wechat/consents", s.postConsent)
	mux.HandleFunc("GET /sandbox/wechat/consents", s.getConsents)
	mux.HandleFunc("GET /sandbox/wechat/messages", s.getMessages)
	mux.HandleFunc("POST /sandbox/wechat/tokens/revoke", s.postRevokeTokens)
}

// Handler serves the fake alone.
func (s *Server) Handler() http.Handler { return fake.Mux(s) }

// Describe implements fake.Fake.
func (s *Server) Describe() fake.Description {
	return fake.Description{
		Name:     "wechat",
		Emulates: "WeChat mini-program server API (https://api.weixin.qq.com)",
		API: []fake.Endpoint{
			{Method: "GET", Path: "/sns/jscode2session", What: "code2Session: appid, secret, js_code, grant_type=authorization_code"},
			{Method: "GET", Path: "/cgi-bin/token", What: "access token: grant_type=client_credential, appid, secret"},
			{Method: "POST", Path: "/cgi-bin/stable_token", What: "stable access token: {grant_type, appid, secret, force_refresh}"},
			{Method: "POST", Path: "/cgi-bin/message/subscribe/send", What: "subscribe message: ?access_token=, {touser, template_id, page, miniprogram_state, lang, data}"},
			{Method: "POST", Path: "/wxa/business/getuserphonenumber", What: `phone number of a getPhoneNumber code: ?access_token=, {"code"} -> phone_info{phoneNumber, purePhoneNumber, countryCode, watermark{timestamp, appid}}`},
		},
		Controls: []fake.Endpoint{
			{Method: "POST", Path: "/sandbox/wechat/codes", What: `issue a one-time wx.login code (5 min): {"name":"zhangsan"} -> {"code","openid","unionid"}`},
			{Method: "POST", Path: "/sandbox/wechat/phonecodes", What: `the user allows getPhoneNumber: {"phone":"13800138000"} -> {"code"} (one-time, 5 min)`},
			{Method: "POST", Path: "/sandbox/wechat/consents", What: `a user accepts subscribe messages: {"openid" or "name", "template_id", "count"}`},
			{Method: "GET", Path: "/sandbox/wechat/consents?openid=", What: "remaining consents"},
			{Method: "GET", Path: "/sandbox/wechat/messages?touser=", What: "subscribe messages delivered (oldest first); name= works too"},
			{Method: "POST", Path: "/sandbox/wechat/tokens/revoke", What: "invalidate every access token now (calls then get 40001)"},
		},
		Info: map[string]string{"appid": s.appID},
		Notes: []string{
			`js_code "test:<name>" logs in as a stable user derived from <name> (reusable)`,
			"any other js_code must come from POST /sandbox/wechat/codes and works once",
		},
	}
}

// OpenIDFor is the openid a "test:<name>" login code (or a code issued for
// name) logs in as: "o" + 27 characters, like a real 28-character openid.
// It depends on the app, as openids do.
func OpenIDFor(appID, name string) string {
	sum := sha256.Sum256([]byte("openid|" + appID + "|" + name))
	return "o" + base64.RawURLEncoding.EncodeToString(sum[:])[:27]
}

// UnionIDFor is the unionid of name. Unlike the openid it does not depend
// on the app id (a unionid is one person across all apps of an open-platform
// account), so the same name is the same person after the sandbox restarts
// with newly generated credentials.
func UnionIDFor(name string) string {
	sum := sha256.Sum256([]byte("unionid|" + name))
	return "o" + base64.RawURLEncoding.EncodeToString(sum[:])[:27]
}

// IssueCode is the Go form of POST /sandbox/wechat/codes: a one-time login
// code for name, valid for the code TTL.
func (s *Server) IssueCode(name string) string {
	// 32 characters like a real wx.login code; alphanumeric so that it is safe
	// in the URL the SDK builds without escaping.
	code := fake.RandomString(fake.Alphanumeric, 32)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c, lc := range s.codes { // forget codes nobody can use any more
		if now.After(lc.expires) {
			delete(s.codes, c)
		}
	}
	s.codes[code] = &loginCode{name: name, expires: now.Add(s.codeTTL)}
	return code
}

// GrantConsent is the Go form of POST /sandbox/wechat/consents: openid
// accepted n more messages of templateID. It returns the remaining count.
func (s *Server) GrantConsent(openID, templateID string, n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := consentKey{openID, templateID}
	s.consents[k] += n
	return s.consents[k]
}

// Consents returns the remaining consents of openID (all users when empty).
func (s *Server) Consents(openID string) []Consent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Consent{}
	for k, n := range s.consents {
		if openID == "" || k.openID == openID {
			out = append(out, Consent{OpenID: k.openID, TemplateID: k.templateID, Remaining: n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].OpenID != out[j].OpenID {
			return out[i].OpenID < out[j].OpenID
		}
		return out[i].TemplateID < out[j].TemplateID
	})
	return out
}

// Messages returns the subscribe messages delivered to touser (all when
// empty), oldest first.
func (s *Server) Messages(touser string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Message{}
	for _, m := range s.messages {
		if touser == "" || m.ToUser == touser {
			out = append(out, m)
		}
	}
	return out
}

// RevokeTokens invalidates every access token issued so far, as happens
// when another process fetches a token or the secret is reset: calls with
// them get 40001. Lets tests check that a client recovers.
func (s *Server) RevokeTokens() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.superseded = true
		if t.expires.After(now) {
			t.expires = now
		}
	}
	s.stable = ""
}
