package alipay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	sdk "github.com/smartwalle/alipay/v3"

	"zwfw/sandbox/alipay"
	"zwfw/sandbox/fake"
)

// t0 is 10:00 on 2 March 2026 in China.
var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

// env is a fake Alipay on a real HTTP server, a merchant notify endpoint,
// and the real SDK pointed at the fake.
type env struct {
	t     *testing.T
	s     *alipay.Server
	clock *fake.ManualClock
	url   string
	sdk   *sdk.Client

	merchant *merchant
}

func newEnv(t *testing.T, opts alipay.Options) *env {
	t.Helper()
	clock := fake.NewManualClock(t0)
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.NotifyRetryDelays == nil {
		opts.NotifyRetryDelays = []time.Duration{time.Millisecond, time.Millisecond}
	}
	s := alipay.New(opts)
	srv := httptest.NewServer(s.Handler())
	m := newMerchant(t)
	t.Cleanup(func() {
		s.Close()
		srv.Close()
	})
	e := &env{t: t, s: s, clock: clock, url: srv.URL, merchant: m}
	e.sdk = e.client(s.AppID(), s.AppPrivateKeyPEM(), s.AlipayPublicKeyPEM())
	return e
}

// client is the SDK configured as zwfw configures it.
func (e *env) client(appID, privateKey, alipayPublicKey string) *sdk.Client {
	e.t.Helper()
	c, err := sdk.New(appID, privateKey, false, sdk.WithSandboxGateway(e.url+alipay.GatewayPath),
		sdk.WithTimeLocation(time.FixedZone("CST", 8*3600)))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := c.LoadAliPayPublicKey(alipayPublicKey); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// appOrder is the order string of an app payment of amount yuan.
func (e *env) appOrder(outTradeNo, amount string, mod ...func(*sdk.TradeAppPay)) string {
	e.t.Helper()
	p := sdk.TradeAppPay{Trade: sdk.Trade{
		NotifyURL: e.merchant.url, Subject: "不动产登记费", OutTradeNo: outTradeNo,
		TotalAmount: amount, ProductCode: "QUICK_MSECURITY_PAY", PassbackParams: "pay%3A42",
	}}
	for _, m := range mod {
		m(&p)
	}
	s, err := e.sdk.TradeAppPay(p)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// paid opens and pays an app order, returning the result.
func (e *env) paid(outTradeNo, amount string) alipay.PayResult {
	e.t.Helper()
	if _, err := e.s.Open(e.appOrder(outTradeNo, amount)); err != nil {
		e.t.Fatal(err)
	}
	res, err := e.s.Pay(outTradeNo, alipay.PayOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// query is alipay.trade.query through the SDK.
func (e *env) query(outTradeNo string) *sdk.TradeQueryRsp {
	e.t.Helper()
	rsp, err := e.sdk.TradeQuery(context.Background(), sdk.TradeQuery{OutTradeNo: outTradeNo})
	if err != nil {
		e.t.Fatal(err)
	}
	return rsp
}

// control calls a /sandbox/alipay/ route and decodes the JSON answer.
func (e *env) control(method, path string, body any, out any) int {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.url+path, r)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			e.t.Fatal(err)
		}
	}
	return res.StatusCode
}

// wantSub asserts err is an Alipay error with the sub code.
func wantSub(t *testing.T, err error, sub string) {
	t.Helper()
	var e *alipay.Error
	if !errors.As(err, &e) || e.SubCode != sub {
		t.Fatalf("want %s, got %v", sub, err)
	}
}

// merchant is zwfw's notify endpoint: it records forms and answers what
// the test says (success by default).
type merchant struct {
	url string
	mu  sync.Mutex
	got []url.Values
	// answers are given in order; success once they run out.
	answers []string
}

func newMerchant(t *testing.T) *merchant {
	m := &merchant{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		m.mu.Lock()
		m.got = append(m.got, r.PostForm)
		answer := "success"
		if len(m.answers) > 0 {
			answer, m.answers = m.answers[0], m.answers[1:]
		}
		m.mu.Unlock()
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	m.url = srv.URL + "/notify/alipay"
	return m
}

func (m *merchant) forms() []url.Values {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]url.Values{}, m.got...)
}

// waitForms waits until the merchant received n notifies.
func (m *merchant) waitForms(t *testing.T, n int) []url.Values {
	t.Helper()
	waitFor(t, "notifies", func() bool { return len(m.forms()) >= n })
	return m.forms()
}

// waitFor polls cond until it holds or a generous timeout passes: tests
// wait for outcomes, never for a fixed time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
