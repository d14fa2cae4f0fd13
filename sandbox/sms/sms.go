// Package sms fakes an SMS gateway speaking Aliyun's Dysmsapi RPC protocol
// (dysmsapi.aliyuncs.com, Action=SendSms, Version=2017-05-25): the POP
// signature (HMAC-SHA1 over the sorted parameters), timestamp window,
// nonce replay protection, the account's signatures and templates, template
// variables, and Aliyun-like per-phone flow control, each failing with
// Aliyun's error code.
//
// As on Aliyun, gateway errors (credentials, signature, timestamp, nonce,
// missing parameters) come back with HTTP 400/404, while business errors
// (isv.*) come back with HTTP 200 and Code != "OK".
//
// Sandbox-only routes under /sandbox/sms/ show the messages "sent" (so a
// tester can read a login code) and inject failures for the next send.
package sms

import (
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"zwfw/sandbox/fake"
)

// Protocol constants.
const (
	Action          = "SendSms"
	Version         = "2017-05-25"
	TimestampLayout = "2006-01-02T15:04:05Z"
	// Window is how far a request's Timestamp may be from the gateway's
	// clock, and how long a SignatureNonce stays used.
	Window = 15 * time.Minute
	// HostID is what Aliyun names itself in error bodies.
	HostID = "dysmsapi.aliyuncs.com"
)

// FlowControl is the per-phone, per-template sending limit; a zero field is
// no limit. Minute and hour windows slide; the day is the calendar day in
// China (UTC+8), as Aliyun counts it.
type FlowControl struct {
	PerMinute int `json:"per_minute"`
	PerHour   int `json:"per_hour"`
	PerDay    int `json:"per_day"`
}

// DefaultFlowControl is Aliyun's default for verification codes: 1 a minute,
// 5 an hour, 10 a day to one phone.
var DefaultFlowControl = FlowControl{PerMinute: 1, PerHour: 5, PerDay: 10}

// Options configures the gateway.
type Options struct {
	// AccessKeyID and AccessKeySecret of the account; generated when empty.
	AccessKeyID, AccessKeySecret string
	// SignNames are the approved signatures; default DefaultSignName.
	SignNames []string
	// Templates are the approved templates; default DefaultTemplates().
	Templates []Template
	// FlowControl: nil = DefaultFlowControl; &FlowControl{} = no limits.
	FlowControl *FlowControl
	Now         fake.Clock // default time.Now
	Logger      *slog.Logger
}

// Gateway is the fake SMS gateway. All state is in memory.
type Gateway struct {
	keyID, keySecret string
	now              fake.Clock
	log              *slog.Logger

	mu        sync.Mutex
	signNames map[string]bool
	signName  string // the first, reported as the account's signature
	templates map[string]Template
	flow      FlowControl
	sent      map[flowKey][]time.Time // accepted sends, for flow control
	nonces    map[string]time.Time
	nonceLog  []nonceEntry // nonces in order of use, to forget them after Window
	messages  []Message
	failures  []Failure
}

type flowKey struct{ phone, template string }

type nonceEntry struct {
	nonce string
	at    time.Time
}

// Message is one SMS the gateway accepted ("sent").
type Message struct {
	Phone        string            `json:"phone"`
	SignName     string            `json:"sign_name"`
	TemplateCode string            `json:"template_code"`
	Params       map[string]string `json:"params"`
	Content      string            `json:"content"` // as the phone shows it: 【签名】text
	BizID        string            `json:"biz_id"`
	OutID        string            `json:"out_id,omitempty"`
	RequestID    string            `json:"request_id"`
	Time         time.Time         `json:"time"`
}

// Failure makes the next send (to Phone, or to any phone when empty) fail
// with Code. Message and Status default to Aliyun's for known codes.
// Code FailDropConnection closes the connection without an answer.
type Failure struct {
	Phone   string `json:"phone,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
	Status  int    `json:"status,omitempty"`
	Count   int    `json:"count,omitempty"` // sends to fail; default 1
}

// FailDropConnection is a Failure code that drops the connection: the
// client sees a network error, not an answer.
const FailDropConnection = "sandbox.DROP_CONNECTION"

// New creates the gateway, generating the account's keys when not given.
func New(opts Options) *Gateway {
	if opts.AccessKeyID == "" {
		// Aliyun AccessKey IDs look like LTAI5t + 18 characters.
		opts.AccessKeyID = "LTAI5t" + fake.RandomString(fake.Alphanumeric, 18)
	}
	if opts.AccessKeySecret == "" {
		opts.AccessKeySecret = fake.RandomString(fake.Alphanumeric, 30)
	}
	if len(opts.SignNames) == 0 {
		opts.SignNames = []string{DefaultSignName}
	}
	if opts.Templates == nil {
		opts.Templates = DefaultTemplates()
	}
	flow := DefaultFlowControl
	if opts.FlowControl != nil {
		flow = *opts.FlowControl
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{
		keyID: opts.AccessKeyID, keySecret: opts.AccessKeySecret,
		now: opts.Now.OrWall(), log: opts.Logger,
		signNames: map[string]bool{}, signName: opts.SignNames[0],
		templates: map[string]Template{}, flow: flow,
		sent: map[flowKey][]time.Time{}, nonces: map[string]time.Time{},
	}
	for _, n := range opts.SignNames {
		g.signNames[n] = true
	}
	for _, t := range opts.Templates {
		g.templates[t.Code] = t
	}
	return g
}

// AccessKeyID of the account.
func (g *Gateway) AccessKeyID() string { return g.keyID }

// AccessKeySecret of the account.
func (g *Gateway) AccessKeySecret() string { return g.keySecret }

// SignName is the account's (first) approved signature.
func (g *Gateway) SignName() string { return g.signName }

// Register adds the Dysmsapi RPC endpoint (POST or GET on "/") and the
// /sandbox/sms/ controls to mux.
func (g *Gateway) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /{$}", g.rpc)
	mux.HandleFunc("GET /{$}", g.rpc)

	mux.HandleFunc("GET /sandbox/sms/messages", g.getMessages)
	mux.HandleFunc("POST /sandbox/sms/failures", g.postFailure)
	mux.HandleFunc("GET /sandbox/sms/failures", g.getFailures)
	mux.HandleFunc("GET /sandbox/sms/templates", g.getTemplates)
}

// Handler serves the gateway alone.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	g.Register(mux)
	return mux
}

// Describe implements fake.Fake.
func (g *Gateway) Describe() fake.Description {
	info := map[string]string{"access_key_id": g.keyID, "sign_name": g.signName}
	for _, t := range g.Templates() {
		info["template "+t.Code] = t.Name
	}
	return fake.Description{
		Name:     "sms",
		Emulates: "Aliyun SMS (dysmsapi.aliyuncs.com) SendSms, RPC style, Version 2017-05-25, HMAC-SHA1 signature",
		API: []fake.Endpoint{
			{Method: "POST", Path: "/", What: "Action=SendSms (form body or query): PhoneNumbers, SignName, TemplateCode, TemplateParam, OutId + POP common parameters and Signature"},
		},
		Controls: []fake.Endpoint{
			{Method: "GET", Path: "/sandbox/sms/messages?phone=", What: "messages accepted (oldest first), with params and rendered content"},
			{Method: "POST", Path: "/sandbox/sms/failures", What: `fail the next send: {"phone" (optional), "code": "isv.BUSINESS_LIMIT_CONTROL", "message", "status", "count"}; code "` + FailDropConnection + `" drops the connection`},
			{Method: "GET", Path: "/sandbox/sms/failures", What: "failures still pending"},
			{Method: "GET", Path: "/sandbox/sms/templates", What: "the account's templates"},
		},
		Info: info,
	}
}

// Templates returns the account's templates by code.
func (g *Gateway) Templates() []Template {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Template, 0, len(g.templates))
	for _, t := range g.templates {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// AddTemplate approves a template (e.g. a reminder) on the account.
func (g *Gateway) AddTemplate(t Template) {
	g.mu.Lock()
	g.templates[t.Code] = t
	g.mu.Unlock()
}

// SetFlowControl changes the per-phone limits; FlowControl{} turns them off.
func (g *Gateway) SetFlowControl(fc FlowControl) {
	g.mu.Lock()
	g.flow = fc
	g.mu.Unlock()
}

// Messages returns the messages accepted for phone (all when empty),
// oldest first.
func (g *Gateway) Messages(phone string) []Message {
	phone = normalizePhone(phone)
	g.mu.Lock()
	defer g.mu.Unlock()
	out := []Message{}
	for _, m := range g.messages {
		if phone == "" || m.Phone == phone {
			out = append(out, m)
		}
	}
	return out
}

// InjectFailure queues f for the next matching send.
func (g *Gateway) InjectFailure(f Failure) {
	f.Phone = normalizePhone(f.Phone)
	if f.Count <= 0 {
		f.Count = 1
	}
	if f.Status == 0 || f.Message == "" {
		status, msg := knownError(f.Code)
		if f.Status == 0 {
			f.Status = status
		}
		if f.Message == "" {
			f.Message = msg
		}
	}
	g.mu.Lock()
	g.failures = append(g.failures, f)
	g.mu.Unlock()
}

// Failures returns the failures still pending.
func (g *Gateway) Failures() []Failure {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Failure{}, g.failures...)
}

// takeFailure consumes one pending failure matching any of phones.
func (g *Gateway) takeFailure(phones []string) (Failure, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, f := range g.failures {
		match := f.Phone == ""
		for _, p := range phones {
			match = match || normalizePhone(p) == f.Phone
		}
		if !match {
			continue
		}
		f.Count--
		if f.Count == 0 {
			g.failures = append(g.failures[:i], g.failures[i+1:]...)
		} else {
			g.failures[i] = f
		}
		return f, true
	}
	return Failure{}, false
}
