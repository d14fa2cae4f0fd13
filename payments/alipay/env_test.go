package alipay_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"zwfw/payments"
	"zwfw/payments/alipay"
	fakealipay "zwfw/sandbox/alipay"
	"zwfw/sandbox/fake"
)

// t0 is 10:00 on 2 March 2026 in Shanghai.
var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

var shanghai = time.FixedZone("CST", 8*3600)

// env is the Alipay fake on a real HTTP server, zwfw's notify route
// (ParseNotify + Ack) on another, and the adapter pointed at both.
type env struct {
	t     *testing.T
	fake  *fakealipay.Server
	clock *fake.ManualClock
	url   string
	c     *alipay.Client

	notifyURL string
	mu        sync.Mutex
	got       []payments.Notification
	errs      []error
}

func newEnv(t *testing.T, opts fakealipay.Options) *env {
	t.Helper()
	e := &env{t: t, clock: fake.NewManualClock(t0)}
	opts.Now = e.clock.Now
	opts.NotifyRetryDelays = []time.Duration{time.Millisecond}
	e.fake = fakealipay.New(opts)
	srv := httptest.NewServer(e.fake.Handler())
	notify := httptest.NewServer(http.HandlerFunc(e.receive))
	t.Cleanup(func() {
		e.fake.Close()
		srv.Close()
		notify.Close()
	})
	e.url, e.notifyURL = srv.URL, notify.URL+"/api/v1/payments/notify/alipay"
	e.c = e.client(e.fake.AppID())
	return e
}

// client is the adapter for appID with the fake's keys, on the fake's clock.
func (e *env) client(appID string) *alipay.Client { return e.clientWith(appID, e.clock.Now) }

// clientWith is client on another clock.
func (e *env) clientWith(appID string, now func() time.Time) *alipay.Client {
	e.t.Helper()
	c, err := alipay.New(alipay.Config{
		AppID: appID, AppPrivateKey: e.fake.AppPrivateKeyPEM(), AlipayPublicKey: e.fake.AlipayPublicKeyPEM(),
		Gateway: e.url + fakealipay.GatewayPath, NotifyURL: e.notifyURL, ReturnURL: "https://zwfw.example.cn/pay/return",
		Timeout: 5 * time.Second, Now: now,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// receive is zwfw's notify route as the BFF will run it.
func (e *env) receive(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	n, err := e.c.ParseNotify(r.Context(), payments.InboundNotify{Body: body, ContentType: r.Header.Get("Content-Type"), Form: form})
	e.mu.Lock()
	if err != nil {
		e.errs = append(e.errs, err)
	} else {
		e.got = append(e.got, n)
	}
	e.mu.Unlock()
	ack, ct := e.c.Ack(err == nil)
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(ack)
}

// notifications waits for n verified notifies.
func (e *env) notifications(n int) []payments.Notification {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		e.mu.Lock()
		got, errs := append([]payments.Notification{}, e.got...), e.errs
		e.mu.Unlock()
		if len(errs) > 0 {
			e.t.Fatalf("notify refused: %v", errs)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %d notifies, got %d", n, len(got))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// prepay asks the adapter for an order of the channel.
func (e *env) prepay(ch payments.Channel, outTradeNo string, amount payments.Fen) payments.Prepay {
	e.t.Helper()
	p, err := e.c.Prepay(context.Background(), payments.PrepayRequest{
		Channel: ch, OutTradeNo: outTradeNo, Amount: amount, Subject: "不动产登记费",
		ExpiresAt: e.clock.Now().Add(30 * time.Minute), Attach: "pay:42/a b&c",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// open is the payer opening the prepay in the Alipay app or browser.
func (e *env) open(p payments.Prepay) string {
	e.t.Helper()
	var no string
	var err error
	if p.OrderString != "" {
		no, err = e.fake.Open(p.OrderString)
	} else {
		u, perr := url.Parse(p.PayURL)
		if perr != nil {
			e.t.Fatal(perr)
		}
		no, err = e.fake.OpenWap(u)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return no
}

// paid prepays, opens and pays an app order, and waits for its notify.
func (e *env) paid(outTradeNo string, amount payments.Fen) {
	e.t.Helper()
	before := len(e.notifications(0))
	e.open(e.prepay(payments.AlipayApp, outTradeNo, amount))
	if _, err := e.fake.Pay(outTradeNo, fakealipay.PayOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.notifications(before + 1)
}
