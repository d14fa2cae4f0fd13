// Package push sends app notifications to citizens' phones (iOS and Android)
// through JPush (极光推送) Push API v3, one registration id (one installed
// app) at a time. The sandbox's push fake (zwfw/sandbox/push) speaks the same
// API.
//
// A send is POST {BaseURL}/v3/push with HTTP Basic auth
// base64(appKey:masterSecret) and the push object
//
//	{"platform": "all",
//	 "audience": {"registration_id": ["<id>"]},
//	 "notification": {"alert": body,
//	     "android": {"alert": body, "title": title, "extras": {...}},
//	     "ios": {"alert": {"title": title, "body": body}, "sound": "default", "badge": "+1", "extras": {...}}},
//	 "options": {"sendno": n, "time_to_live": seconds, "apns_production": bool}}
//
// "platform" is "all" because zwfw stores a registration id, not its
// platform; JPush shows each device its own platform's part. The badge is
// "+1" as JPush's own server libraries default to; the app clears it.
//
// JPush has no idempotency key: a send retried after a timeout (the first
// may have gone through) can show the notification twice. Callers that
// cannot accept that should not retry ErrTemporary errors from transport
// failures; 5xx answers and rate limits did not send.
package push

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults.
const (
	DefaultBaseURL    = "https://api.jpush.cn"
	DefaultTimeout    = 10 * time.Second
	DefaultTimeToLive = 24 * time.Hour      // JPush's own default
	MaxTimeToLive     = 10 * 24 * time.Hour // JPush keeps offline messages at most 10 days
)

// Config configures the client.
type Config struct {
	// BaseURL of the JPush API; default DefaultBaseURL, the sandbox's root
	// URL in the sandbox.
	BaseURL string
	// AppKey and MasterSecret of the JPush app.
	AppKey, MasterSecret string
	// Production selects APNs's production environment for iOS
	// (options.apns_production): true for App Store / enterprise builds,
	// false for development builds, which get nothing otherwise.
	Production bool
	// Timeout bounds one send, connection included; default DefaultTimeout.
	Timeout time.Duration
	// TimeToLive is how long JPush keeps a notification for a phone that is
	// offline; default DefaultTimeToLive, at most MaxTimeToLive.
	TimeToLive time.Duration
}

// Message is one notification to one installed app.
type Message struct {
	// RegistrationID is the id JPush's SDK gave the app on the phone.
	RegistrationID string
	// Title is shown above Body; empty shows the app's name.
	Title string
	// Body is the notification's text; required.
	Body string
	// Extras travel with the notification to the app (e.g. the page to open).
	Extras map[string]string
}

// Client sends notifications through JPush. Safe for concurrent use.
type Client struct {
	endpoint   string
	auth       string
	production bool
	timeout    time.Duration
	ttl        int64 // seconds
	hc         *http.Client
	sendNo     atomic.Int64
}

// New builds a client. A nil hc uses a client of its own (never
// http.DefaultClient, whose transport other code may change); the timeout
// comes from cfg, per send, so a shared hc may have none.
func New(cfg Config, hc *http.Client) *Client {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if hc == nil {
		hc = &http.Client{}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	ttl := cfg.TimeToLive
	switch {
	case ttl <= 0:
		ttl = DefaultTimeToLive
	case ttl > MaxTimeToLive:
		ttl = MaxTimeToLive
	}
	c := &Client{
		endpoint:   base + "/v3/push",
		auth:       "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.AppKey+":"+cfg.MasterSecret)),
		production: cfg.Production,
		timeout:    cfg.Timeout,
		ttl:        int64(ttl / time.Second),
		hc:         hc,
	}
	// sendno matches a request to its answer in JPush's logs; start at a
	// random point so replicas' numbers do not all collide.
	var b [4]byte
	_, _ = rand.Read(b[:])
	c.sendNo.Store(int64(binary.BigEndian.Uint32(b[:]) >> 2))
	return c
}
