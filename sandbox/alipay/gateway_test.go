package alipay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	sdk "github.com/smartwalle/alipay/v3"

	"zwfw/sandbox/alipay"
	"zwfw/sandbox/fake"
)

// rawReply is a gateway answer taken apart.
type rawReply struct {
	key    string // the response key
	err    alipay.Error
	signed bool
}

// post sends values to the gateway as the SDK would and takes the answer apart.
func (e *env) post(values url.Values) rawReply {
	e.t.Helper()
	res, err := http.PostForm(e.url+alipay.GatewayPath, values)
	if err != nil {
		e.t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(readAll(e.t, res)), &raw); err != nil {
		e.t.Fatal(err)
	}
	var r rawReply
	for k, v := range raw {
		if k == "sign" {
			r.signed = true
			continue
		}
		r.key = k
		_ = json.Unmarshal(v, &r.err)
	}
	return r
}

// signed is the request the SDK builds for a trade query, changed by mod and
// signed again with the app key.
func (e *env) signed(mod func(url.Values)) url.Values {
	e.t.Helper()
	v, err := e.sdk.URLValues(sdk.TradeQuery{OutTradeNo: "X"})
	if err != nil {
		e.t.Fatal(err)
	}
	mod(v)
	v.Del("sign")
	sig, err := e.sdk.SignValues(v)
	if err != nil {
		e.t.Fatal(err)
	}
	v.Set("sign", base64.StdEncoding.EncodeToString(sig))
	return v
}

func TestGatewayChecksCommonParameters(t *testing.T) {
	e := newEnv(t, alipay.Options{})
	tests := []struct {
		name   string
		mod    func(url.Values)
		resign bool
		key    string
		sub    string
	}{
		{"valid", func(url.Values) {}, true, "alipay_trade_query_response", alipay.SubTradeNotExist},
		{"tampered biz_content", func(v url.Values) { v.Set("biz_content", `{"out_trade_no":"Y"}`) }, false, "alipay_trade_query_response", alipay.SubInvalidSignature},
		{"missing sign", func(v url.Values) { v.Del("sign") }, false, "alipay_trade_query_response", alipay.SubMissingSignature},
		{"garbage sign", func(v url.Values) { v.Set("sign", "!!") }, false, "alipay_trade_query_response", alipay.SubInvalidSignature},
		{"other app", func(v url.Values) { v.Set("app_id", "2021000000000000") }, true, "alipay_trade_query_response", alipay.SubInvalidAppID},
		{"no app", func(v url.Values) { v.Del("app_id") }, true, "alipay_trade_query_response", alipay.SubMissingAppID},
		{"RSA1", func(v url.Values) { v.Set("sign_type", "RSA") }, true, "alipay_trade_query_response", alipay.SubInvalidSignType},
		{"gbk", func(v url.Values) { v.Set("charset", "gbk") }, true, "alipay_trade_query_response", alipay.SubInvalidCharset},
		{"version", func(v url.Values) { v.Set("version", "2.0") }, true, "alipay_trade_query_response", alipay.SubInvalidVersion},
		{"timestamp format", func(v url.Values) { v.Set("timestamp", "2026-03-02T10:00:00+08:00") }, true, "alipay_trade_query_response", alipay.SubInvalidTimestamp},
		{"no timestamp", func(v url.Values) { v.Del("timestamp") }, true, "alipay_trade_query_response", alipay.SubMissingTimestamp},
		{"encrypted", func(v url.Values) { v.Set("encrypt_type", "AES") }, true, "alipay_trade_query_response", alipay.SubInvalidEncrypt},
		{"bad biz_content", func(v url.Values) { v.Set("biz_content", "{") }, true, "alipay_trade_query_response", alipay.SubInvalidBizContent},
		{"no biz_content", func(v url.Values) { v.Del("biz_content") }, true, "alipay_trade_query_response", alipay.SubMissingBizContent},
		{"unknown method", func(v url.Values) { v.Set("method", "alipay.trade.pay.everything") }, true, "error_response", alipay.SubInvalidMethod},
		{"no method", func(v url.Values) { v.Del("method") }, true, "error_response", alipay.SubMissingMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v url.Values
			if tt.resign {
				v = e.signed(tt.mod)
			} else {
				v, _ = e.sdk.URLValues(sdk.TradeQuery{OutTradeNo: "X"})
				tt.mod(v)
			}
			r := e.post(v)
			if r.key != tt.key || r.err.SubCode != tt.sub {
				t.Fatalf("got %s %+v", r.key, r.err)
			}
			// Only answers to requests that passed the checks are signed.
			authenticated := tt.sub == alipay.SubTradeNotExist || tt.sub == alipay.SubInvalidBizContent || tt.sub == alipay.SubMissingBizContent
			if r.signed != authenticated {
				t.Fatalf("signed = %v for %s", r.signed, tt.sub)
			}
		})
	}
	// The refusal of a bad signature shows the string the gateway verified.
	v, _ := e.sdk.URLValues(sdk.TradeQuery{OutTradeNo: "X"})
	v.Set("sign", base64.StdEncoding.EncodeToString(make([]byte, 256)))
	if r := e.post(v); !strings.Contains(r.err.SubMsg, "method=alipay.trade.query") || strings.Contains(r.err.SubMsg, "sign=") {
		t.Fatalf("sub_msg: %s", r.err.SubMsg)
	}
}

func TestSDKRefusesWhatTheGatewayRefuses(t *testing.T) {
	e := newEnv(t, alipay.Options{})
	ctx := context.Background()
	other := testKey(t)

	// Another app id, or the right id with another key: refused, unsigned.
	c := e.client("2021000000000001", e.s.AppPrivateKeyPEM(), e.s.AlipayPublicKeyPEM())
	_, err := c.TradeQuery(ctx, sdk.TradeQuery{OutTradeNo: "X"})
	var se *sdk.Error
	if !errors.As(err, &se) || se.SubCode != alipay.SubInvalidAppID {
		t.Fatalf("foreign app: %v", err)
	}
	c = e.client(e.s.AppID(), other.private, e.s.AlipayPublicKeyPEM())
	if _, err = c.TradeQuery(ctx, sdk.TradeQuery{OutTradeNo: "X"}); !errors.As(err, &se) || se.SubCode != alipay.SubInvalidSignature {
		t.Fatalf("wrong key: %v", err)
	}
	// A client that trusts another "Alipay" key refuses the gateway's answers:
	// the gateway really signs them.
	c = e.client(e.s.AppID(), e.s.AppPrivateKeyPEM(), other.public)
	if _, err = c.TradeQuery(ctx, sdk.TradeQuery{OutTradeNo: "X"}); err == nil || !strings.Contains(err.Error(), "verification") {
		t.Fatalf("answer verified with the wrong key: %v", err)
	}
}

func TestTimestampSkewWhenAsked(t *testing.T) {
	clock := fake.NewManualClock(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	e := newEnv(t, alipay.Options{Now: clock.Now, MaxTimestampSkew: 15 * time.Minute})
	// The SDK stamps with its own clock, far from the gateway's year 2000.
	r := e.post(e.signed(func(url.Values) {}))
	if r.err.SubCode != alipay.SubInvalidTimestamp {
		t.Fatalf("skewed: %+v", r.err)
	}
	stamp := func(d time.Duration) func(url.Values) {
		return func(v url.Values) {
			v.Set("timestamp", clock.Now().Add(d).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05"))
		}
	}
	if r := e.post(e.signed(stamp(14 * time.Minute))); r.err.SubCode != alipay.SubTradeNotExist {
		t.Fatalf("within skew: %+v", r.err)
	}
	if r := e.post(e.signed(stamp(-16 * time.Minute))); r.err.SubCode != alipay.SubInvalidTimestamp {
		t.Fatalf("beyond skew: %+v", r.err)
	}
}

func TestKeysLoadInTheSDK(t *testing.T) {
	s := alipay.New(alipay.Options{})
	if len(s.AppID()) != 16 || !strings.HasPrefix(s.AppID(), "2021") || len(s.SellerID()) != 16 || !strings.HasPrefix(s.SellerID(), "2088") {
		t.Fatalf("ids %s %s", s.AppID(), s.SellerID())
	}
	if !strings.HasPrefix(s.AppPrivateKeyPEM(), "-----BEGIN RSA PRIVATE KEY-----") || !strings.HasPrefix(s.AlipayPublicKeyPEM(), "-----BEGIN PUBLIC KEY-----") {
		t.Fatal("PEM types")
	}
	if s.AlipayPublicKeyPEM() == s.AppPublicKeyPEM() {
		t.Fatal("the app and the gateway share a key")
	}
	if s2 := alipay.New(alipay.Options{}); s2.AppPrivateKeyPEM() == s.AppPrivateKeyPEM() || s2.AppID() == s.AppID() {
		t.Fatal("keys are not generated per fake")
	}
	if d := s.Describe(); d.Info["app_id"] != s.AppID() || strings.Contains(strings.Join(d.Notes, " "), "PRIVATE KEY") {
		t.Fatalf("describe: %+v", d)
	}
}

type keyPair struct{ private, public string }

// testKey is a fresh RSA key pair in PEM (PKCS#8 private, PKIX public).
func testKey(t *testing.T) keyPair {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(k)
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return keyPair{
		private: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
		public:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
	}
}
