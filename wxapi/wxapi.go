// Package wxapi is zwfw's client of the WeChat server APIs, built on
// silenceper/wechat/v2. It adds what the SDK leaves to its user: request
// timeouts, routing API hosts to the sandbox through the SDK's own
// util.SetURIModifier hook, a Redis-backed token cache shared by replicas, and
// WeChat error codes turned into errors callers can act on.
package wxapi

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/miniprogram"
	miniConfig "github.com/silenceper/wechat/v2/miniprogram/config"
	"github.com/silenceper/wechat/v2/util"
)

// The official API hosts the SDK calls.
const (
	OfficialAPIBase = "https://api.weixin.qq.com"
	OfficialPayBase = "https://api.mch.weixin.qq.com"
)

var (
	routesMu sync.RWMutex
	routes   = map[string]string{}
	hookOnce sync.Once
)

// Route sends every SDK request for the official base URL to base instead
// (e.g. the sandbox). It uses the SDK's own URI hook, which is process-wide:
// one process talks to one WeChat (real or sandbox) per official host.
func Route(official, base string) {
	base = strings.TrimRight(base, "/")
	routesMu.Lock()
	if base == "" || base == official {
		delete(routes, official)
	} else {
		routes[official] = base
	}
	routesMu.Unlock()
	hookOnce.Do(func() {
		util.SetURIModifier(func(uri string) string {
			routesMu.RLock()
			defer routesMu.RUnlock()
			for official, base := range routes {
				if strings.HasPrefix(uri, official+"/") {
					return base + uri[len(official):]
				}
			}
			return uri
		})
	})
}

// Config is one mini-program's credentials and where its API lives.
type Config struct {
	AppID     string
	AppSecret string
	APIBase   string        // default OfficialAPIBase
	Timeout   time.Duration // per call; default 5 s
}

// MiniProgram is the client of one mini-program's server API.
type MiniProgram struct {
	cfg Config
	mp  *miniprogram.MiniProgram
}

// NewMiniProgram builds the client. c caches the access token (use NewRedisCache).
func NewMiniProgram(cfg Config, c cache.Cache) *MiniProgram {
	if cfg.APIBase == "" {
		cfg.APIBase = OfficialAPIBase
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	Route(OfficialAPIBase, cfg.APIBase)
	mp := miniprogram.NewMiniProgram(&miniConfig.Config{AppID: cfg.AppID, AppSecret: cfg.AppSecret, Cache: c})
	return &MiniProgram{cfg: cfg, mp: mp}
}

// SDK exposes the underlying SDK client for the calls this package does not wrap.
func (m *MiniProgram) SDK() *miniprogram.MiniProgram { return m.mp }

// AppID is the mini-program's app id.
func (m *MiniProgram) AppID() string { return m.cfg.AppID }

// Session is the result of code2Session. The session_key is deliberately not
// returned: it must never leave the server, and zwfw has no use for it yet.
type Session struct {
	OpenID  string
	UnionID string
}

// Errors of the WeChat API, by what the caller should do about them.
var (
	// ErrInvalidCode: the login code is wrong, used or expired; the user must log in again.
	ErrInvalidCode = errors.New("wechat: invalid login code")
	// ErrUnavailable: WeChat could not be reached or is busy; try later.
	ErrUnavailable = errors.New("wechat: unavailable")
)

// APIError is an errcode WeChat answered with.
type APIError struct {
	Code    int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("wechat errcode %d: %s", e.Code, e.Message) }

var (
	codePattern    = regexp.MustCompile(`^[A-Za-z0-9:_\-]{1,128}$`)
	errcodePattern = regexp.MustCompile(`errcode=(-?\d+)\s*,\s*errmsg=(.*)$`)
)

// Code2Session exchanges a wx.login code. Returns ErrInvalidCode or ErrUnavailable (wrapped).
func (m *MiniProgram) Code2Session(ctx context.Context, code string) (Session, error) {
	// The SDK puts the code into the URL unescaped: refuse anything that could add parameters.
	if !codePattern.MatchString(code) {
		return Session{}, ErrInvalidCode
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	res, err := m.mp.GetAuth().Code2SessionContext(ctx, code)
	if err != nil {
		apiErr := parseSDKError(err)
		if apiErr == nil {
			return Session{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		switch apiErr.Code {
		case 40029, 40163, 40226: // invalid code, code been used, high-risk user
			return Session{}, fmt.Errorf("%w: %v", ErrInvalidCode, apiErr)
		default:
			return Session{}, fmt.Errorf("%w: %v", ErrUnavailable, apiErr)
		}
	}
	if res.OpenID == "" {
		return Session{}, fmt.Errorf("%w: empty openid", ErrUnavailable)
	}
	return Session{OpenID: res.OpenID, UnionID: res.UnionID}, nil
}

// parseSDKError recovers the errcode from the SDK's formatted error
// ("... errcode=40029 , errmsg=invalid code"); nil when it is not an API error.
func parseSDKError(err error) *APIError {
	m := errcodePattern.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	code, convErr := strconv.Atoi(m[1])
	if convErr != nil {
		return nil
	}
	return &APIError{Code: code, Message: strings.TrimSpace(m[2])}
}
