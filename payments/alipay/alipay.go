// Package alipay is zwfw's Alipay channel: payments.Gateway for the
// alipay_app and alipay_wap channels, on smartwalle/alipay/v3 in
// public-key mode (the app signs with its RSA2 private key, Alipay's
// answers and notifies are verified with the Alipay public key).
//
// Pointed at the sandbox (Config.Gateway = <sandbox URL>/alipay/gateway.do)
// it talks to sandbox/alipay, which speaks the same wire format.
package alipay

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdk "github.com/smartwalle/alipay/v3"

	"zwfw/payments"
)

// DefaultTimeout bounds one call to Alipay (and one bill download) when
// Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config is one Alipay merchant app.
type Config struct {
	AppID string // 16 digits (ALIPAY_APP_ID)
	// AppPrivateKey is the app's RSA2 private key: PEM (PKCS#1 or PKCS#8)
	// or the bare base64 Alipay's key tool writes.
	AppPrivateKey string
	// AlipayPublicKey is the "Alipay public key" of the app (PKIX, PEM or base64).
	AlipayPublicKey string
	// Gateway is a sandbox gateway URL (…/gateway.do); empty = production
	// (https://openapi.alipay.com/gateway.do).
	Gateway string
	// NotifyURL and ReturnURL are used when a PrepayRequest leaves them empty.
	NotifyURL string
	ReturnURL string
	Timeout   time.Duration // per call; default DefaultTimeout
	// HTTPClient carries the calls; default a new client. Its Timeout is
	// replaced by Timeout.
	HTTPClient *http.Client
	// Now tells when a day's bill should exist (Bill); default time.Now.
	Now func() time.Time
}

// Client is the Alipay gateway of one app. It is safe for concurrent use.
type Client struct {
	sdk   *sdk.Client
	appID string
	cfg   Config
	http  *http.Client
	now   func() time.Time
}

var _ payments.Gateway = (*Client)(nil)

// New builds the client: it parses both keys and points the SDK at the
// gateway. It returns an error for a missing app id or a key the SDK
// cannot load.
func New(cfg Config) (*Client, error) {
	cfg.AppID = strings.TrimSpace(cfg.AppID)
	cfg.AppPrivateKey = strings.TrimSpace(cfg.AppPrivateKey)
	cfg.AlipayPublicKey = strings.TrimSpace(cfg.AlipayPublicKey)
	switch {
	case cfg.AppID == "":
		return nil, errors.New("alipay: app id is required")
	case cfg.AppPrivateKey == "":
		return nil, errors.New("alipay: app private key is required")
	case cfg.AlipayPublicKey == "":
		return nil, errors.New("alipay: Alipay public key is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient // a copy: the caller's client keeps its own timeout
		hc = &c
	}
	hc.Timeout = cfg.Timeout
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	production := cfg.Gateway == ""
	opts := []sdk.OptionFunc{sdk.WithHTTPClient(hc), sdk.WithTimeLocation(shanghai)}
	if production {
		opts = append(opts, sdk.WithProductionGateway(""))
	} else {
		opts = append(opts, sdk.WithSandboxGateway(cfg.Gateway))
	}
	c, err := sdk.New(cfg.AppID, cfg.AppPrivateKey, production, opts...)
	if err != nil {
		return nil, fmt.Errorf("alipay: app private key: %w", err)
	}
	if err := c.LoadAliPayPublicKey(cfg.AlipayPublicKey); err != nil {
		return nil, fmt.Errorf("alipay: Alipay public key: %w", err)
	}
	return &Client{sdk: c, appID: cfg.AppID, cfg: cfg, http: hc, now: cfg.Now}, nil
}

// Provider implements payments.Gateway.
func (c *Client) Provider() payments.Provider { return payments.Alipay }

// Ack is the answer Alipay expects to a notify: the plain text success
// stops its retries; anything else (fail) makes it retry.
func (c *Client) Ack(success bool) ([]byte, string) {
	if success {
		return []byte("success"), "text/plain; charset=utf-8"
	}
	return []byte("fail"), "text/plain; charset=utf-8"
}
