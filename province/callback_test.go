package province

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Callbacks from the province are accepted only when signed with zwfw's
// key and secret, recent, and not replayed — with Redis, and with the
// in-memory fallback when Redis is down.
func TestVerifyCallback(t *testing.T) {
	dead := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}, MaxRetries: -1})
	t.Cleanup(func() { _ = dead.Close() })
	stores := map[string]testOpt{
		"redis":      withRedis(t),
		"redis down": func(_ *Config, d *Deps) { d.Redis, d.Keys = dead, "zwfwtest:dead:" },
		"no redis":   func(*Config, *Deps) {},
	}
	body := []byte(`{"case_number":"FZ20260000001","status":"accepted","at":"2026-11-01T10:00:00+08:00"}`)
	const path = "/api/v1/callbacks/province/cases?x=1&a=%E4%B8%AD"

	for storeName, store := range stores {
		t.Run(storeName, func(t *testing.T) {
			clock := &testClock{}
			f := newFakeProvince(t, clock)
			c := newTestClient(t, f, store)
			signed := func(method string, at time.Time, nonce, secret, appKey string, b []byte) *http.Request {
				r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
				fakeSignRequest(r, b, method, appKey, secret, at, nonce)
				return r
			}
			now := clock.Now()
			cases := []struct {
				name string
				req  *http.Request
				body []byte
				code string // "" = accepted
			}{
				{"valid SM3", signed("HMAC-SM3", now, newNonce(), testSecret, testAppKey, body), body, ""},
				{"valid SHA-256", signed("HMAC-SHA256", now, newNonce(), testSecret, testAppKey, body), body, ""},
				{"bad signature", signed("HMAC-SM3", now, newNonce(), "other-secret", testAppKey, body), body, "PROVINCE_CALLBACK_SIGNATURE_INVALID"},
				{"body altered", signed("HMAC-SM3", now, newNonce(), testSecret, testAppKey, body), append([]byte("{}"), body...), "PROVINCE_CALLBACK_SIGNATURE_INVALID"},
				{"other app key", signed("HMAC-SM3", now, newNonce(), testSecret, "someone-else", body), body, "PROVINCE_CALLBACK_SIGNATURE_INVALID"},
				{"stale timestamp", signed("HMAC-SM3", now.Add(-6*time.Minute), newNonce(), testSecret, testAppKey, body), body, "PROVINCE_CALLBACK_TIMESTAMP_SKEW"},
				{"future timestamp", signed("HMAC-SM3", now.Add(6*time.Minute), newNonce(), testSecret, testAppKey, body), body, "PROVINCE_CALLBACK_TIMESTAMP_SKEW"},
				{"unsigned", httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)), body, "PROVINCE_CALLBACK_SIGNATURE_MISSING"},
			}
			for _, tc := range cases {
				err := c.VerifyCallback(tc.req, tc.body)
				if tc.code == "" {
					if err != nil {
						t.Errorf("%s: %v", tc.name, err)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: accepted", tc.name)
					continue
				}
				wantCode(t, err, tc.code)
			}

			// Replay: the same signed request twice.
			nonce := newNonce()
			first := signed("HMAC-SM3", now, nonce, testSecret, testAppKey, body)
			if err := c.VerifyCallback(first, body); err != nil {
				t.Fatal(err)
			}
			replay := signed("HMAC-SM3", now, nonce, testSecret, testAppKey, body)
			wantCode(t, c.VerifyCallback(replay, body), "PROVINCE_CALLBACK_NONCE_REPLAYED")

			// A badly signed request does not spend the nonce of a later valid one.
			nonce = newNonce()
			_ = c.VerifyCallback(signed("HMAC-SM3", now, nonce, "other-secret", testAppKey, body), body)
			if err := c.VerifyCallback(signed("HMAC-SM3", now, nonce, testSecret, testAppKey, body), body); err != nil {
				t.Fatalf("valid callback after a forged one with its nonce: %v", err)
			}
		})
	}
}

// With Redis, a nonce seen by one replica is refused by another.
func TestVerifyCallbackReplayAcrossReplicas(t *testing.T) {
	clock := &testClock{}
	f := newFakeProvince(t, clock)
	shared := withRedis(t)
	a := newTestClient(t, f, shared)
	b := newTestClient(t, f, shared)
	body := []byte(`{}`)
	nonce := newNonce()
	mk := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/cb", bytes.NewReader(body))
		fakeSignRequest(r, body, "HMAC-SM3", testAppKey, testSecret, clock.Now(), nonce)
		return r
	}
	if err := a.VerifyCallback(mk(), body); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.VerifyCallback(mk(), body), "PROVINCE_CALLBACK_NONCE_REPLAYED")
}

// zwfw's signed answer to a callback verifies with the contract's response scheme.
func TestSignCallbackResponse(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	c := newTestClient(t, f)
	h := http.Header{}
	body := []byte(`{"code":"0","message":"成功"}`)
	reqNonce := newNonce()
	c.SignCallbackResponse(h, 200, body, reqNonce)
	want := fakeMAC("HMAC-SM3", testSecret, "200\n"+fakeDigest("HMAC-SM3", body)+"\n"+h.Get("X-Gw-Timestamp")+"\n"+h.Get("X-Gw-Nonce")+"\n"+reqNonce)
	if h.Get("X-Gw-Signature") != want {
		t.Fatalf("signature %s, want %s", h.Get("X-Gw-Signature"), want)
	}
}

func TestNonceLRU(t *testing.T) {
	l := newNonceLRU(3)
	t0 := time.Unix(1_700_000_000, 0)
	for i, n := range []string{"a", "b", "c"} {
		if !l.add(n, t0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("%s not new", n)
		}
	}
	if l.add("b", t0.Add(5*time.Second)) {
		t.Fatal("b replayed")
	}
	if !l.add("d", t0.Add(6*time.Second)) || l.order.Len() > 3 {
		t.Fatalf("capacity: %d", l.order.Len())
	}
	if !l.add("b", t0.Add(nonceTTL+2*time.Second)) {
		t.Fatal("b not forgotten after the TTL")
	}
}
