package wechatpay

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"zwfw/payments"
	"zwfw/sandbox/fake"
	fakepay "zwfw/sandbox/wechatpay"
	"zwfw/wxapi"
)

// t0 is 10:00 on 2026-03-02 in Shanghai.
var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

// tenv is the adapter against the sandbox fake over real HTTP and mutual
// TLS, with zwfw's notify endpoint (ParseNotify + Ack) behind notifyURL.
// wxapi.Route is process-wide, so tests here do not run in parallel.
type tenv struct {
	t         *testing.T
	fake      *fakepay.Server
	clock     *fake.ManualClock
	c         *Client
	tlsURL    string
	notifyURL string

	mu       sync.Mutex
	received []received
	got      chan struct{}
}

type received struct {
	n   payments.Notification
	err error
}

func newTestEnv(t testing.TB, signType string) *tenv {
	t.Helper()
	clock := fake.NewManualClock(t0)
	f := fakepay.New(fakepay.Options{Now: clock.Now, NotifyRetryDelays: []time.Duration{time.Millisecond}})
	plain := httptest.NewServer(f.Handler())
	tlsURL, err := f.StartTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wxapi.Route(wxapi.OfficialPayBase, plain.URL)
	e := &tenv{fake: f, clock: clock, tlsURL: tlsURL, got: make(chan struct{}, 100)}
	if tt, ok := t.(*testing.T); ok {
		e.t = tt
	}
	recv := httptest.NewServer(http.HandlerFunc(e.receive))
	e.notifyURL = recv.URL + "/api/v1/callbacks/wechatpay"
	t.Cleanup(func() {
		f.Close()
		plain.Close()
		recv.Close()
		wxapi.Route(wxapi.OfficialPayBase, "")
	})
	e.c, err = New(Config{
		MiniProgramAppID: f.MiniProgramAppID(), AppAppID: f.AppAppID(), MchID: f.MchID(), Key: f.APIKey(),
		SignType: signType, CertP12: f.MerchantP12(), RootCAs: f.RootCAs(),
		NotifyURL: e.notifyURL, RefundNotifyURL: e.notifyURL + "/refund",
		Timeout: 5 * time.Second, SecureAPIBase: tlsURL, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// receive is zwfw's callback route in miniature.
func (e *tenv) receive(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n, err := e.c.ParseNotify(r.Context(), payments.InboundNotify{Body: body, ContentType: r.Header.Get("Content-Type")})
	e.mu.Lock()
	e.received = append(e.received, received{n, err})
	e.mu.Unlock()
	ack, ct := e.c.Ack(err == nil)
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(ack)
	e.got <- struct{}{}
}

// waitNotify waits for the next notify zwfw received.
func (e *tenv) waitNotify() received {
	e.t.Helper()
	select {
	case <-e.got:
	case <-time.After(5 * time.Second):
		e.t.Fatal("no notify")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.received[len(e.received)-1]
}

// prepay places an order through the adapter.
func (e *tenv) prepay(ch payments.Channel, outTradeNo string, amount payments.Fen) (payments.Prepay, error) {
	return e.c.Prepay(context.Background(), payments.PrepayRequest{
		Channel: ch, OutTradeNo: outTradeNo, Amount: amount, Subject: "不动产登记费",
		OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", ClientIP: "10.1.2.3",
		ExpiresAt: e.clock.Now().Add(30 * time.Minute), Attach: "payment-" + outTradeNo,
	})
}

// paid places and pays an order (the payer pays with the returned params).
func (e *tenv) paid(ch payments.Channel, outTradeNo string, amount payments.Fen) {
	e.t.Helper()
	pp, err := e.prepay(ch, outTradeNo, amount)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.fake.PayParams(pp.Params, fakepay.PayOptions{}); err != nil {
		e.t.Fatal(err)
	}
	if r := e.waitNotify(); r.err != nil {
		e.t.Fatal(r.err)
	}
}
