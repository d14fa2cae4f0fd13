// Package push fakes an app push gateway speaking JPush (极光推送) Push API
// v3, which zwfw uses to send notifications to the citizens' iOS and Android
// apps.
//
// The emulated API is POST /v3/push (and POST /v3/push/validate, which checks
// a push without sending it) with HTTP Basic auth base64(appKey:masterSecret)
// and JPush's push object as JSON body:
//
//	{"platform": "all" | ["android", "ios"],
//	 "audience": "all" | {"registration_id": ["..."]},
//	 "notification": {"alert": "...",
//	     "android": {"alert", "title", "builder_id", "extras": {...}},
//	     "ios": {"alert": "..." | {"title", "body"}, "sound", "badge", "extras": {...}}},
//	 "message": {"msg_content", "title", "content_type", "extras"},
//	 "options": {"sendno", "time_to_live", "apns_production"}}
//
// A success is HTTP 200 {"sendno": "<sendno>", "msg_id": "<id>"} (both
// strings, as JPush answers); a failure is {"error": {"code", "message"}}
// with JPush's code and HTTP status: 1001 (405, not POST), 1002 (400, a
// mandatory field is missing), 1003 (400, a field is invalid), 1004 (401,
// auth failed), 1005 (400, a platform's part over MaxPayloadBytes), 1011
// (400, no target: every registration id is unknown, uninstalled or of
// another platform; the answer carries a msg_id, as JPush's does), 2002 (429,
// over the per-minute rate limit), 1000 (500, internal error).
//
// Where JPush's documentation leaves room, the fake decides, consistently:
//   - The rate limit is a fixed one-minute window per app key (JPush's
//     "time window"). While a limit is set, every authenticated answer
//     carries X-Rate-Limit-Limit, X-Rate-Limit-Remaining and
//     X-Rate-Limit-Reset (seconds until the window resets); with no limit
//     set (the default) the headers are left out.
//   - Audiences other than registration_id (tag, alias, segment, ...) are
//     accepted but match no device, since the sandbox's devices carry none.
//   - An alert left out everywhere (top level and platform) is 1003; an
//     alert given as "" is accepted, as JPush documents (the notification
//     is then not shown, but the log still records it).
//   - "down" answers every API request 503 with an HTML page, as the load
//     balancer in front of a dead gateway does; "error_rate" answers a
//     fraction of authenticated requests 500 with code 1000.
//
// Sandbox-only routes under /sandbox/push/ stand in for the phones: an app
// installed (a device registered, its registration id handed to zwfw) or
// uninstalled, the notifications each device received, and faults.
package push

import (
	"encoding/base64"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"zwfw/sandbox/fake"
)

// Platforms a device can be.
const (
	PlatformAndroid = "android"
	PlatformIOS     = "ios"
)

// JPush's limits the fake enforces.
const (
	// MaxRegistrationIDs is how many registration ids one push may name.
	MaxRegistrationIDs = 1000
	// MaxTimeToLive is the longest options.time_to_live (10 days, in seconds).
	MaxTimeToLive = 10 * 24 * 3600
	// DefaultTimeToLive is time_to_live when left out (1 day).
	DefaultTimeToLive = 24 * 3600
	// MaxPayloadBytes bounds, as JSON, what one platform receives: its
	// notification object (or the shared alert) plus the message (JPush:
	// 4000 bytes for Android; the fake applies it to iOS as well).
	MaxPayloadBytes = 4000
	// RateWindow is JPush's rate-limit time window.
	RateWindow = time.Minute
)

// Options configures the fake.
type Options struct {
	// AppKey and MasterSecret of the JPush app; generated when empty.
	AppKey, MasterSecret string
	Now                  fake.Clock // default time.Now
	Logger               *slog.Logger
}

// Server is the fake push gateway of one JPush app. All state is in memory;
// it is safe for concurrent use.
type Server struct {
	appKey, masterSecret string
	now                  fake.Clock
	log                  *slog.Logger
	random               func() float64 // draws for error_rate; tests may replace it

	mu          sync.Mutex
	devices     map[string]*Device
	order       []string // registration ids in order of first registration
	messages    []Message
	faults      Faults
	windowStart time.Time // current rate-limit window
	windowUsed  int
	lastMsgID   uint64
	stats       Stats
}

// New creates the fake, generating the app's credentials when not given:
// like JPush's, the app key and master secret are 24 hex characters.
func New(opts Options) *Server {
	if opts.AppKey == "" {
		opts.AppKey = fake.RandomString(fake.Hex, 24)
	}
	if opts.MasterSecret == "" {
		opts.MasterSecret = fake.RandomString(fake.Hex, 24)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{
		appKey: opts.AppKey, masterSecret: opts.MasterSecret,
		now: opts.Now.OrWall(), log: opts.Logger,
		random:  rand.Float64,
		devices: map[string]*Device{},
		// JPush msg_ids are large, increasing decimals; start somewhere random.
		lastMsgID: 18100000000000000 + rand.Uint64N(1_000_000_000_000),
	}
}

// AppKey is the JPush app key (public: the app's SDK carries it too).
func (s *Server) AppKey() string { return s.appKey }

// MasterSecret is the JPush master secret, known only to the app's server.
func (s *Server) MasterSecret() string { return s.masterSecret }

// BasicAuth is the Authorization header value JPush expects:
// "Basic " + base64(appKey + ":" + masterSecret). For tests that call the
// API by hand.
func (s *Server) BasicAuth() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(s.appKey+":"+s.masterSecret))
}

// Register adds the emulated JPush routes and the /sandbox/push/ controls to mux.
func (s *Server) Register(mux *http.ServeMux) {
	// Any method: JPush answers a GET with its own 1001, not a bare 405.
	mux.HandleFunc("/v3/push", s.push)
	mux.HandleFunc("/v3/push/validate", s.validate)

	mux.HandleFunc("POST /sandbox/push/devices", s.postDevice)
	mux.HandleFunc("GET /sandbox/push/devices", s.getDevices)
	mux.HandleFunc("DELETE /sandbox/push/devices/{id}", s.deleteDevice)
	mux.HandleFunc("GET /sandbox/push/messages", s.getMessages)
	mux.HandleFunc("POST /sandbox/push/faults", s.postFaults)
	mux.HandleFunc("GET /sandbox/push/faults", s.getFaults)
	mux.HandleFunc("DELETE /sandbox/push/faults", s.deleteFaults)
	mux.HandleFunc("GET /sandbox/push/stats", s.getStats)
}

// Handler serves the fake alone.
func (s *Server) Handler() http.Handler { return fake.Mux(s) }

// Describe implements fake.Fake. The master secret stays out of it.
func (s *Server) Describe() fake.Description {
	return fake.Description{
		Name:     "push",
		Emulates: "JPush (极光推送) Push API v3 (api.jpush.cn): app notifications to iOS and Android by registration id, HTTP Basic auth base64(appKey:masterSecret)",
		API: []fake.Endpoint{
			{Method: "POST", Path: "/v3/push", What: `push object {"platform", "audience": {"registration_id": [...]}, "notification", "message", "options"} -> {"sendno", "msg_id"}; errors {"error": {"code", "message"}}`},
			{Method: "POST", Path: "/v3/push/validate", What: "the same checks as /v3/push, nothing is sent"},
		},
		Controls: []fake.Endpoint{
			{Method: "POST", Path: "/sandbox/push/devices", What: `install the app on a device: {"platform": "android"|"ios", "registration_id" (optional)} -> the device with its registration id`},
			{Method: "GET", Path: "/sandbox/push/devices", What: "devices, installed or not"},
			{Method: "DELETE", Path: "/sandbox/push/devices/{registration_id}", What: "uninstall the app: later pushes to it fail with 1011"},
			{Method: "GET", Path: "/sandbox/push/messages?registration_id=", What: "what reached each device (oldest first): alert, title, extras, time"},
			{Method: "POST", Path: "/sandbox/push/faults", What: `{"down": bool, "rate_limit_per_minute": n, "error_rate": 0..1}; fields left out keep their value`},
			{Method: "GET", Path: "/sandbox/push/faults", What: "faults in force"},
			{Method: "DELETE", Path: "/sandbox/push/faults", What: "clear every fault"},
			{Method: "GET", Path: "/sandbox/push/stats", What: "API requests counted by outcome"},
		},
		Info: map[string]string{"app_key": s.appKey},
		Notes: []string{
			"zwfw's push base URL is the sandbox's root URL (the fake serves /v3/push as api.jpush.cn does)",
			"the master secret is generated at start-up: Go MasterSecret(); `make sandbox` prints it",
		},
	}
}

// nextMsgID issues a msg_id; the caller holds s.mu.
func (s *Server) nextMsgID() uint64 {
	s.lastMsgID += 1 + rand.Uint64N(7) // gaps, as other apps share JPush's sequence
	return s.lastMsgID
}
