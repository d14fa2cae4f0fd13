// Package wechatpay is zwfw's WeChat Pay API v2 adapter: it implements
// payments.Gateway for the mini-program (WeChatJSAPI) and the mobile app
// (WeChatApp) on silenceper/wechat/v2's pay packages, one SDK pay.Pay per
// bound app id.
//
// Where the SDK falls short, this package fills in with the SDK's own
// helpers rather than a second implementation:
//   - the SDK's refund builds its TLS client from a certificate file path
//     and the system roots only (util.httpWithTLS), so it can reach neither
//     the sandbox nor a private CA: Refund signs with the SDK
//     (refund.GetSignParam + util.ParamSign) and posts over its own
//     mutual-TLS client (Config.CertP12, Config.RootCAs);
//   - refundquery and downloadbill are not in the SDK: they are signed with
//     util.ParamSign and sent with util.HTTPPostContext, which follows the
//     SDK's URI hook (wxapi.Route) like every other SDK call;
//   - notify.PaidVerifySign signs only the fields its PaidResult struct
//     declares, so a genuine notify carrying any other field fails it (and
//     it dereferences a missing sign): paid notifies are verified over every
//     field with util.OrderParam + util.CalculateSign (see verifySign);
//   - order calls take no context: they run under Config.Timeout and a
//     recover (the SDK dereferences return_code without a nil check).
package wechatpay

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/pay"
	"github.com/silenceper/wechat/v2/pay/config"
	"github.com/silenceper/wechat/v2/pay/notify"
	"github.com/silenceper/wechat/v2/util"
	gopkcs12 "software.sslmate.com/src/go-pkcs12"

	"zwfw/payments"
	"zwfw/wxapi"
)

// Config is the merchant's WeChat Pay v2 configuration.
type Config struct {
	MiniProgramAppID string // app id of the mini-program (WeChatJSAPI)
	AppAppID         string // open-platform app id of the mobile app (WeChatApp)
	MchID            string // merchant id
	Key              string // v2 API key (32 characters)
	SignType         string // "MD5" (default) or "HMAC-SHA256"
	// CertP12 is the merchant's API certificate (apiclient_cert.p12),
	// password = MchID; refunds present it.
	CertP12 []byte
	// RootCAs verifies the /secapi/ server; nil = the system roots.
	RootCAs         *x509.CertPool
	NotifyURL       string        // default paid-notify URL (PrepayRequest.NotifyURL wins)
	RefundNotifyURL string        // default refund-notify URL (RefundRequest.NotifyURL wins)
	Timeout         time.Duration // per call; default 10 s
	// SecureAPIBase is where /secapi/ (client-certificate) calls go:
	// default wxapi.OfficialPayBase; the sandbox's StartTLS URL in sandbox
	// mode. Other calls follow wxapi.Route.
	SecureAPIBase string
	// BillReadyAfter is how long after a day ends (Asia/Shanghai) WeChat's
	// bill for it is final; before that "No Bill Exist" means "not yet".
	// Default 10 h (WeChat produces bills from 9:00 the next day).
	BillReadyAfter time.Duration
	Now            func() time.Time // default time.Now; only for bill readiness
}

// Client is the WeChat Pay gateway. It is safe for concurrent use.
type Client struct {
	cfg       Config
	apps      []*app // the mini-program's first, then the app's
	byChannel map[payments.Channel]*app
	secure    *http.Client // mutual TLS for /secapi/
	notify    *notify.Notify
}

// app is one bound app id with its SDK client.
type app struct {
	id  string
	cfg *config.Config
	pay *pay.Pay
}

var _ payments.Gateway = (*Client)(nil)

// shanghai is Asia/Shanghai (UTC+8 without daylight saving since 1991).
var shanghai = time.FixedZone("CST", 8*3600)

// New checks the configuration and builds the client. Returns an error
// when the merchant id, key or both app ids are missing, the sign type is
// unknown, or CertP12 does not decode with the MchID password.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.MchID == "":
		return nil, errors.New("wechatpay: MchID is required")
	case len(cfg.Key) != 32:
		return nil, errors.New("wechatpay: Key must be the 32-character v2 API key")
	case cfg.MiniProgramAppID == "" && cfg.AppAppID == "":
		return nil, errors.New("wechatpay: at least one app id is required")
	}
	switch cfg.SignType {
	case "":
		cfg.SignType = util.SignTypeMD5
	case util.SignTypeMD5, util.SignTypeHMACSHA256:
	default:
		return nil, fmt.Errorf("wechatpay: unknown SignType %q", cfg.SignType)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.SecureAPIBase == "" {
		cfg.SecureAPIBase = wxapi.OfficialPayBase
	}
	cfg.SecureAPIBase = strings.TrimRight(cfg.SecureAPIBase, "/")
	if cfg.BillReadyAfter <= 0 {
		cfg.BillReadyAfter = 10 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	secure, err := mutualTLSClient(cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, byChannel: map[payments.Channel]*app{}, secure: secure}
	for _, a := range []struct {
		id string
		ch payments.Channel
	}{{cfg.MiniProgramAppID, payments.WeChatJSAPI}, {cfg.AppAppID, payments.WeChatApp}} {
		if a.id == "" {
			continue
		}
		sdkCfg := &config.Config{AppID: a.id, MchID: cfg.MchID, Key: cfg.Key, NotifyURL: cfg.NotifyURL}
		ap := &app{id: a.id, cfg: sdkCfg, pay: pay.NewPay(sdkCfg)}
		c.apps = append(c.apps, ap)
		c.byChannel[a.ch] = ap
	}
	c.notify = c.apps[0].pay.GetNotify()
	return c, nil
}

// mutualTLSClient is the HTTP client of /secapi/ calls: the merchant's
// certificate from CertP12 (decoded with go-pkcs12, password = MchID) and
// RootCAs.
func mutualTLSClient(cfg Config) (*http.Client, error) {
	if len(cfg.CertP12) == 0 {
		return nil, errors.New("wechatpay: CertP12 (the merchant API certificate) is required for refunds")
	}
	key, leaf, chain, err := gopkcs12.DecodeChain(cfg.CertP12, cfg.MchID)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: decode CertP12 with the mch_id password: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
	for _, ca := range chain {
		cert.Certificate = append(cert.Certificate, ca.Raw)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		RootCAs:      cfg.RootCAs,
	}
	return &http.Client{Transport: tr}, nil
}

// Provider implements payments.Gateway.
func (c *Client) Provider() payments.Provider { return payments.WeChatPay }

// ownsApp reports whether id is one of the merchant's bound app ids.
func (c *Client) ownsApp(id string) bool {
	for _, a := range c.apps {
		if a.id == id {
			return true
		}
	}
	return false
}
