package wechatpay_test

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/pay"
	"github.com/silenceper/wechat/v2/pay/config"
	"github.com/silenceper/wechat/v2/util"
	"golang.org/x/crypto/pkcs12"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/wechatpay"
)

// The SDK's URI hook is process-wide: it sends api.mch.weixin.qq.com to the
// fake the running test started, so tests here do not run in parallel.
var target atomic.Pointer[string]

func TestMain(m *testing.M) {
	util.SetURIModifier(func(uri string) string {
		const official = "https://api.mch.weixin.qq.com"
		if base := target.Load(); base != nil && strings.HasPrefix(uri, official+"/") {
			return *base + strings.TrimPrefix(uri, official)
		}
		return uri
	})
	os.Exit(m.Run())
}

// t0 is 10:00 in Shanghai.
var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

// env is a fake on a real plain-HTTP server and a notify receiver.
type env struct {
	*wechatpay.Server
	t     *testing.T
	clock *fake.ManualClock
	url   string
	recv  *receiver
}

func newEnv(t *testing.T, mod ...func(*wechatpay.Options)) *env {
	t.Helper()
	clock := fake.NewManualClock(t0)
	opts := wechatpay.Options{Now: clock.Now, NotifyRetryDelays: []time.Duration{time.Millisecond, time.Millisecond}}
	for _, m := range mod {
		m(&opts)
	}
	s := wechatpay.New(opts)
	srv := httptest.NewServer(s.Handler())
	recv := newReceiver()
	t.Cleanup(func() { s.Close(); srv.Close(); recv.srv.Close() })
	target.Store(&srv.URL)
	return &env{Server: s, t: t, clock: clock, url: srv.URL, recv: recv}
}

// sdk is the SDK's pay client for appID.
func (e *env) sdk(appID string) *pay.Pay {
	return pay.NewPay(&config.Config{AppID: appID, MchID: e.MchID(), Key: e.APIKey(), NotifyURL: e.recv.srv.URL + "/notify"})
}

// call signs params (appid, mch_id, nonce_str added when absent) and POSTs
// them to path on base, returning the parsed answer.
func (e *env) call(client *http.Client, base, path string, params map[string]string, signType string) (wechatpay.Message, int) {
	e.t.Helper()
	p := map[string]string{"appid": e.MiniProgramAppID(), "mch_id": e.MchID(), "nonce_str": fake.RandomString(fake.Alphanumeric, 32)}
	if signType != wechatpay.SignMD5 {
		p["sign_type"] = signType
	}
	for k, v := range params {
		p[k] = v
	}
	var msg wechatpay.Message
	for k, v := range p {
		if v != "" {
			msg = append(msg, wechatpay.Field{Name: k, Value: v})
		}
	}
	msg = append(msg, wechatpay.Field{Name: "sign", Value: wechatpay.Sign(p, e.APIKey(), signType)})
	res, err := client.Post(base+path, "text/xml", bytes.NewReader(msg.Encode()))
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	answer, err := wechatpay.ParseMessage(body)
	if err != nil {
		e.t.Fatalf("%s answered %q: %v", path, body, err)
	}
	return answer, res.StatusCode
}

// order places a JSAPI order of amount fen with MD5 and returns its prepay_id.
func (e *env) order(outTradeNo string, amount string) string {
	e.t.Helper()
	ans, _ := e.call(http.DefaultClient, e.url, "/pay/unifiedorder", map[string]string{
		"body": "不动产登记费", "out_trade_no": outTradeNo, "total_fee": amount, "spbill_create_ip": "10.0.0.1",
		"notify_url": e.recv.srv.URL + "/notify", "trade_type": "JSAPI", "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
	}, wechatpay.SignMD5)
	if ans.Get("result_code") != "SUCCESS" {
		e.t.Fatalf("unifiedorder: %v", ans)
	}
	return ans.Get("prepay_id")
}

// tlsClient presents the merchant's certificate decoded the way the SDK
// decodes it (golang.org/x/crypto/pkcs12.ToPEM) and trusts the fake's CA.
func (e *env) tlsClient(withCert bool) *http.Client {
	e.t.Helper()
	cfg := &tls.Config{RootCAs: e.RootCAs()}
	if withCert {
		blocks, err := pkcs12.ToPEM(e.MerchantP12(), e.MchID())
		if err != nil {
			e.t.Fatalf("SDK decoder cannot read the p12: %v", err)
		}
		var pemData []byte
		for _, b := range blocks {
			pemData = append(pemData, pem.EncodeToMemory(b)...)
		}
		cert, err := tls.X509KeyPair(pemData, pemData)
		if err != nil {
			e.t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 5 * time.Second}
}

// receiver is zwfw's notify endpoint: it records bodies and answers
// SUCCESS once failFirst attempts have failed.
type receiver struct {
	srv       *httptest.Server
	mu        sync.Mutex
	bodies    [][]byte
	failFirst int
	got       chan struct{}
}

func newReceiver() *receiver {
	r := &receiver{got: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		fail := len(r.bodies) <= r.failFirst
		r.mu.Unlock()
		r.got <- struct{}{}
		if fail {
			_, _ = w.Write([]byte(`<xml><return_code><![CDATA[FAIL]]></return_code></xml>`))
			return
		}
		_, _ = w.Write([]byte(`<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>`))
	}))
	return r
}

// wait waits for n more deliveries.
func (r *receiver) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-r.got:
		case <-time.After(5 * time.Second):
			t.Fatal("notify not delivered")
		}
	}
}

func (r *receiver) all() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}
