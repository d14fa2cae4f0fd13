package bff

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"zwfw/catalog"
	"zwfw/identity"
	"zwfw/notify"
	"zwfw/pii"
	"zwfw/platform/events"
	"zwfw/platform/idempotency"
	"zwfw/platform/invariants"
	"zwfw/platform/jobs"
	"zwfw/province"
	"zwfw/wxapi"
)

// buildServices creates the stores, outside-system clients and services.
func (a *App) buildServices(ctx context.Context, sec secrets) error {
	cipher, err := pii.NewCipher(map[byte][]byte{1: sec.SM4}, 1)
	if err != nil {
		return err
	}
	protector := piiProtector{cipher: cipher, index: pii.NewBlindIndex(sec.BlindIndex)}
	a.pii = protector

	store := identity.NewMongoStore(a.db)
	if err := store.EnsureIndexes(ctx); err != nil {
		return err
	}
	users := identity.NewUserCache(store, a.rdb, a.keys, 10*time.Minute, a.log)
	tokens, err := identity.NewTokens(sec.JWT, identity.Defaults().AccessTTL, nil)
	if err != nil {
		return err
	}
	mp := wxapi.NewMiniProgram(wxapi.Config{AppID: a.cfg.WeChatAppID, AppSecret: a.cfg.WeChatAppSecret, APIBase: a.cfg.WeChatAPIBase},
		wxapi.NewRedisCache(a.rdb, a.keys))
	sms := notify.NewAliyunSMS(notify.AliyunSMSConfig{
		Endpoint: a.cfg.SMSEndpoint, AccessKeyID: a.cfg.SMSAccessKeyID, AccessKeySecret: a.cfg.SMSAccessKeySecret,
		SignName: a.cfg.SMSSignName, HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	a.mp, a.sms = mp, sms
	pc, err := province.New(province.Config{
		BaseURL: a.cfg.ProvinceBaseURL, AppKey: a.cfg.ProvinceAppKey, AppSecret: a.cfg.ProvinceAppSecret,
		SignMethod: a.cfg.ProvinceSignMethod,
		Cache:      province.CacheSettings{Fresh: a.cfg.ProvinceCacheFresh, MaxStale: a.cfg.ProvinceCacheMaxStale},
		Breaker:    province.BreakerSettings{OpenTimeout: a.cfg.ProvinceBreakerOpen},
	}, province.Deps{Redis: a.rdb, Keys: a.keys, DB: a.db, Metrics: a.registry, Logger: a.log.With("component", "province")})
	if err != nil {
		return fmt.Errorf("province client: %w", err)
	}
	a.province = pc
	// Closed after the HTTP server and the jobs stopped (closers run last-in,
	// first-out), so in-flight calls finish and the exchange log is flushed.
	a.closers = append(a.closers, pc.Close)
	a.catalog = catalog.NewService(pc)

	a.identity = identity.NewService(a.identityRules(), identity.Deps{
		Users: users, Sessions: store, Codes: store, Staff: store, Tokens: tokens,
		Logins: store, Merges: store, Claims: store, WeChatPhone: wechatPhone{mp: mp},
		WeChat:      wechatLogin{mp: mp},
		SMS:         smsCodeSender{sms: sms, template: a.cfg.SMSTemplateLogin},
		PII:         protector,
		Revocations: identity.NewRedisRevocations(a.rdb, a.keys),
		Province:    pc,
		Logger:      a.log.With("component", "identity"),
	})

	a.queue = jobs.NewQueue(a.db)
	if err := a.queue.EnsureIndexes(ctx); err != nil {
		return err
	}
	a.events = events.NewLog(a.db)
	if err := a.events.EnsureIndexes(ctx); err != nil {
		return err
	}
	a.relay = events.NewRelay(a.events, outboxCollections, events.RelayOptions{Logger: a.log.With("component", "outbox")})
	if err := a.relay.EnsureIndexes(ctx); err != nil {
		return err
	}
	a.idem = idempotency.NewStore(a.db, idempotency.Options{})
	if err := a.idem.EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := a.buildCases(ctx, protector); err != nil {
		return err
	}
	if err := a.buildBooking(ctx); err != nil {
		return err
	}
	if err := a.buildPayments(ctx); err != nil {
		return err
	}
	if err := a.buildLogistics(ctx); err != nil {
		return err
	}
	if err := a.buildNotify(ctx); err != nil {
		return err
	}
	a.buildViews()
	a.jobs = jobs.NewRunner(a.db, jobs.RunnerOptions{
		Owner: runnerOwner(), Concurrency: a.cfg.JobConcurrency, LeaseDuration: a.cfg.JobLease, Logger: a.log.With("component", "jobs"),
	})
	a.registerJobs()
	a.invariants = invariants.NewRunner(a.db, a.invariantChecks, nil)
	a.registerInvariantJobs()
	a.registerCaseJobs()
	a.registerBookingJobs()
	a.registerPaymentJobs()
	a.registerLogisticsJobs()
	a.jobs.Register(notify.JobSend, a.notify.Dispatch)
	a.buildRenewals()
	a.wireMerges()
	return nil
}

// piiProtector adapts package pii to identity.Protector.
type piiProtector struct {
	cipher *pii.Cipher
	index  *pii.BlindIndex
}

func (p piiProtector) EncryptField(field, plaintext string) (string, error) {
	return p.cipher.EncryptField(field, plaintext)
}

func (p piiProtector) DecryptField(field, enc string) (string, error) {
	return p.cipher.DecryptField(field, enc)
}

func (p piiProtector) Index(field, value string) string { return p.index.Index(field, value) }

// wechatLogin adapts the WeChat client to identity.WeChatAuth.
type wechatLogin struct{ mp *wxapi.MiniProgram }

func (w wechatLogin) Code2Session(ctx context.Context, code string) (identity.WeChatIdentity, error) {
	s, err := w.mp.Code2Session(ctx, code)
	switch {
	case errors.Is(err, wxapi.ErrInvalidCode):
		return identity.WeChatIdentity{}, identity.ErrWeChatCodeInvalid.WithCause(err)
	case err != nil:
		return identity.WeChatIdentity{}, identity.ErrWeChatUnavailable.WithCause(err)
	}
	return identity.WeChatIdentity{AppID: w.mp.AppID(), OpenID: s.OpenID, UnionID: s.UnionID}, nil
}

// smsCodeSender adapts the SMS gateway client to identity.CodeSender.
type smsCodeSender struct {
	sms      *notify.AliyunSMS
	template string
}

func (s smsCodeSender) SendLoginCode(ctx context.Context, phone, code string) error {
	_, err := s.sms.Send(ctx, phone, s.template, map[string]string{"code": code})
	if err == nil {
		return nil
	}
	var se *notify.SMSError
	if errors.As(err, &se) && se.Code == "isv.BUSINESS_LIMIT_CONTROL" {
		return identity.ErrSMSTooFrequent.WithCause(err)
	}
	return identity.ErrSMSUnavailable.WithCause(err)
}

// identityRules are identity's documented rules, with the tests' override
// of the refresh-reuse grace.
func (a *App) identityRules() identity.Config {
	rules := identity.Defaults()
	switch {
	case a.cfg.RefreshReuseGrace < 0:
		rules.RefreshReuseGrace = 0
	case a.cfg.RefreshReuseGrace > 0:
		rules.RefreshReuseGrace = a.cfg.RefreshReuseGrace
	}
	return rules
}
