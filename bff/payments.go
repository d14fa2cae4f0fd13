package bff

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"zwfw/identity"
	"zwfw/payments"
	"zwfw/payments/alipay"
	"zwfw/payments/nontax"
	"zwfw/payments/wechatpay"
	"zwfw/platform/jobs"
	"zwfw/wxapi"
)

// Callback routes outside systems call (under the public base URL).
const (
	pathWeChatPayNotify = "/api/v1/callbacks/wechatpay/notify"
	pathAlipayNotify    = "/api/v1/callbacks/alipay/notify"
)

// buildPayments wires non-tax fee payment: the non-tax platform client, the
// WeChat Pay and Alipay adapters and the service.
func (a *App) buildPayments(ctx context.Context) error {
	store := payments.NewMongoStore(a.db)
	if err := store.EnsureIndexes(ctx); err != nil {
		return err
	}
	if a.cfg.PublicBaseURL != "" {
		a.publicBase.Store(strings.TrimRight(a.cfg.PublicBaseURL, "/"))
	}
	treasury, err := nontax.New(nontax.Config{
		BaseURL: a.cfg.NonTaxBaseURL, AppKey: a.cfg.NonTaxAppKey, AppSecret: a.cfg.NonTaxAppSecret,
		SignMethod: a.cfg.NonTaxSignMethod, Logger: a.log.With("component", "nontax"),
		// Signed timestamps must agree with the sandbox when its clock is moved.
		Now: a.paymentClock(),
	}, nil)
	if err != nil {
		return fmt.Errorf("non-tax platform client: %w", err)
	}
	wx, err := a.weChatPay()
	if err != nil {
		return fmt.Errorf("wechat pay: %w", err)
	}
	ali, err := a.alipayClient()
	if err != nil {
		return fmt.Errorf("alipay: %w", err)
	}
	a.payments = payments.NewService(payments.Deps{
		Store: store, Treasury: treasury, Gateways: []payments.Gateway{wx, ali},
		People: payers{a.identity}, Queue: a.queue, Index: a.pii.Index,
		Settings: payments.Settings{
			NotifyURL: func(p payments.Provider) string {
				if p == payments.Alipay {
					return a.callbackURL(pathAlipayNotify)
				}
				return a.callbackURL(pathWeChatPayNotify)
			},
			RefundNotifyURL: func() string { return a.callbackURL(pathWeChatPayNotify) },
			ReturnURL:       func() string { return a.cfg.H5ReturnURL },
			OrderTTL:        a.cfg.PayOrderTTL, QueryAfter: a.cfg.PayQueryAfter, QueryEvery: a.cfg.PayQueryEvery,
		},
		Logger: a.log.With("component", "payments"),
	})
	return nil
}

// callbackURL is path under the public base URL ("" before it is known).
func (a *App) callbackURL(path string) string {
	base, _ := a.publicBase.Load().(string)
	if base == "" {
		return ""
	}
	return base + path
}

func (a *App) weChatPay() (*wechatpay.Client, error) {
	if a.cfg.WeChatPayAPIBase != "" {
		wxapi.Route(wxapi.OfficialPayBase, a.cfg.WeChatPayAPIBase)
	}
	cert := a.wxpayCert
	if cert == nil && a.cfg.WeChatPayCertFile != "" {
		b, err := os.ReadFile(a.cfg.WeChatPayCertFile)
		if err != nil {
			return nil, err
		}
		cert = b
	}
	roots := a.wxpayRoots
	if roots == nil && a.cfg.WeChatPayRootCAFile != "" {
		// A private CA (the standalone sandbox's, or a corporate TLS
		// proxy's) is trusted through configuration, not code.
		b, err := os.ReadFile(a.cfg.WeChatPayRootCAFile)
		if err != nil {
			return nil, fmt.Errorf("WECHATPAY_ROOT_CA_FILE: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("WECHATPAY_ROOT_CA_FILE %s: no PEM certificate in it", a.cfg.WeChatPayRootCAFile)
		}
	}
	return wechatpay.New(wechatpay.Config{
		MiniProgramAppID: a.cfg.WeChatAppID, AppAppID: a.cfg.WeChatPayAppAppID, MchID: a.cfg.WeChatPayMchID,
		Key: a.cfg.WeChatPayKey, SignType: a.cfg.WeChatPaySignType, CertP12: cert, RootCAs: roots,
		SecureAPIBase: a.cfg.WeChatPaySecureAPIBase, Timeout: 10 * time.Second,
		Now: a.paymentClock(), // whether a day's bill should exist: the sandbox's day when its clock is moved
	})
}

func (a *App) alipayClient() (*alipay.Client, error) {
	priv, pub := a.alipayPrivate, a.alipayPublic
	for _, f := range []struct {
		dst  *string
		path string
	}{{&priv, a.cfg.AlipayPrivateKeyFile}, {&pub, a.cfg.AlipayPublicKeyFile}} {
		if *f.dst == "" && f.path != "" {
			b, err := os.ReadFile(f.path)
			if err != nil {
				return nil, err
			}
			*f.dst = string(b)
		}
	}
	return alipay.New(alipay.Config{
		AppID: a.cfg.AlipayAppID, AppPrivateKey: priv, AlipayPublicKey: pub, Gateway: a.cfg.AlipayGateway,
		Timeout: 10 * time.Second, HTTPClient: &http.Client{Timeout: 15 * time.Second},
		Now: a.paymentClock(), // whether a day's bill should exist yet
	})
}

// registerPaymentJobs binds the payments jobs and the daily reconciliation,
// which queues the next day's run when it is done.
func (a *App) registerPaymentJobs() {
	for typ, h := range a.payments.Jobs() {
		a.jobs.Register(typ, h)
	}
	a.jobs.Register(payments.JobReconcile, func(ctx context.Context, j *jobs.Job) error {
		if err := a.payments.HandleReconcile(ctx, j); err != nil {
			return err
		}
		return a.enqueueReconciliation(ctx, time.Now().Add(24*time.Hour))
	})
}

func (a *App) enqueueReconciliation(ctx context.Context, at time.Time) error {
	_, _, err := a.queue.Enqueue(ctx, payments.ReconcileJob(at))
	return err
}

// payers adapts identity to payments.People: a user pays for themselves
// (once real-name verified) and for the companies they represent.
type payers struct{ svc *identity.Service }

func (p payers) Payer(ctx context.Context, userID string) (payments.Payer, error) {
	u, err := p.svc.Me(ctx, &identity.Principal{UserID: userID})
	if err != nil {
		return payments.Payer{}, err
	}
	out := payments.Payer{OpenID: u.WeChatOpenID}
	if !u.RealNameVerified {
		return out, nil
	}
	ap, err := p.svc.ApplicantOf(ctx, userID)
	if err != nil {
		return payments.Payer{}, err
	}
	if ap.IDNumber != "" {
		out.IDs = append(out.IDs, ap.IDNumber)
	}
	for uscc := range ap.Companies {
		out.IDs = append(out.IDs, uscc)
	}
	if len(out.IDs) > 1 {
		slices.Sort(out.IDs[1:]) // stable order: the person first, then companies
	}
	return out, nil
}
