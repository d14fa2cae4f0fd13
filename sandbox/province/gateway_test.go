package province

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBodyHashAndHMACVectors(t *testing.T) {
	// SM3("") and SHA-256("") are published constants.
	if got := BodyHash(MethodSM3, nil); got != "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b" {
		t.Fatalf("SM3 of empty body = %s", got)
	}
	if got := BodyHash(MethodSHA256, []byte{}); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("SHA-256 of empty body = %s", got)
	}
	// SM3("abc") from GB/T 32905-2016 appendix A.
	if got := BodyHash(MethodSM3, []byte("abc")); got != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" {
		t.Fatalf("SM3(abc) = %s", got)
	}
	// HMAC-SM3, cross-checked with OpenSSL 3:
	// printf abc | openssl dgst -sm3 -hmac key -binary | base64
	if got := Sign("key", MethodSM3, "abc"); got != "KOYyVufFoIex8HMmXcUwkhY/e4JylzXQbyjxCvnVI5M=" {
		t.Fatalf("HMAC-SM3 = %s", got)
	}
	// RFC 4231 test case 2.
	want, _ := hex.DecodeString("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
	if got := Sign("Jefe", MethodSHA256, "what do ya want for nothing?"); got != base64.StdEncoding.EncodeToString(want) {
		t.Fatalf("HMAC-SHA256 = %s", got)
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"b=2&a=1&a=0", "a=0&a=1&b=2"},
		{"q=%E8%90%A5%E4%B8%9A+%E6%89%A7%E7%85%A7", "q=%E8%90%A5%E4%B8%9A%20%E6%89%A7%E7%85%A7"}, // + in a query is a space
		{"q=营业执照", "q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7"},
		{"t=~x*y&s=a%2Fb", "s=a%2Fb&t=~x%2Ay"},
		{"page_token=&q=", "page_token=&q="},
		{"flag", "flag="},
	}
	for _, tt := range tests {
		got, err := CanonicalQuery(tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("CanonicalQuery(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
	sts, _ := StringToSign("get", "/api/catalog/items", "q=x", nil, MethodSM3, "k", "1700000000000", "0123456789abcdef0123456789abcdef")
	want := "GET\n/api/catalog/items\nq=x\n1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b\nk\n1700000000000\n0123456789abcdef0123456789abcdef"
	if sts != want {
		t.Fatalf("string to sign:\n%q\nwant\n%q", sts, want)
	}
}

func TestSignedRequestsAreAccepted(t *testing.T) {
	for _, method := range []string{MethodSM3, MethodSHA256} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.signMethod = method
			a := e.do("GET", "/api/catalog/items?q="+url.QueryEscape("营业 执照")+"&page_size=5&audience=business", nil).ok(t)
			if a.Header.Get(HeaderSignMethod) != method {
				t.Fatalf("response sign method %q", a.Header.Get(HeaderSignMethod))
			}
			e.do("POST", "/api/identity/realname/verify", map[string]string{"name": "张三", "id_number": zhangSan.IDNumber}).ok(t)
		})
	}
}

func TestSignMethodHeaderDefaultsToSM3(t *testing.T) {
	e := newEnv(t, Options{})
	req, _ := e.signed("GET", "/api/catalog/halls", nil)
	req.Header.Del(HeaderSignMethod) // signed with SM3, header left out
	e.send(req).ok(t)
}

func TestGatewayRefusesBadRequests(t *testing.T) {
	tests := map[string]struct {
		change func(e *env, r *http.Request)
		code   string
	}{
		"no app key":   {func(e *env, r *http.Request) { r.Header.Del(HeaderAppKey) }, CodeSignatureMissing},
		"no timestamp": {func(e *env, r *http.Request) { r.Header.Del(HeaderTimestamp) }, CodeSignatureMissing},
		"no nonce":     {func(e *env, r *http.Request) { r.Header.Del(HeaderNonce) }, CodeSignatureMissing},
		"no signature": {func(e *env, r *http.Request) { r.Header.Del(HeaderSignature) }, CodeSignatureMissing},
		"unknown app key": {func(e *env, r *http.Request) {
			_ = SignRequest(r, nil, "someone-else", e.s.AppSecret(), "", e.clock.Now())
		}, CodeAppKeyUnknown},
		"wrong secret": {func(e *env, r *http.Request) {
			_ = SignRequest(r, nil, e.s.AppKey(), "not-the-secret", "", e.clock.Now())
		}, CodeSignatureInvalid},
		"signature of another method": {func(e *env, r *http.Request) { r.Header.Set(HeaderSignMethod, MethodSHA256) }, CodeSignatureInvalid},
		"unsupported sign method":     {func(e *env, r *http.Request) { r.Header.Set(HeaderSignMethod, "HMAC-MD5") }, CodeSignatureInvalid},
		"tampered query":              {func(e *env, r *http.Request) { r.URL.RawQuery = "q=%E5%85%AC%E5%8F%B8" }, CodeSignatureInvalid},
		"tampered path":               {func(e *env, r *http.Request) { r.URL.Path = BasePath + "/api/catalog/halls/" }, CodeSignatureInvalid},
		"malformed nonce":             {func(e *env, r *http.Request) { r.Header.Set(HeaderNonce, "NOT-HEX") }, CodeSignatureInvalid},
		"timestamp in seconds": {func(e *env, r *http.Request) {
			r.Header.Set(HeaderTimestamp, strconv.FormatInt(e.clock.Now().Unix(), 10))
		}, CodeTimestampSkew},
		"timestamp 301 s late": {func(e *env, r *http.Request) {
			_ = SignRequest(r, nil, e.s.AppKey(), e.s.AppSecret(), "", e.clock.Now().Add(-301*time.Second))
		}, CodeTimestampSkew},
		"timestamp 301 s early": {func(e *env, r *http.Request) {
			_ = SignRequest(r, nil, e.s.AppKey(), e.s.AppSecret(), "", e.clock.Now().Add(301*time.Second))
		}, CodeTimestampSkew},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, Options{})
			req, _ := e.signed("GET", "/api/catalog/halls?q=x", nil)
			tt.change(e, req)
			a := e.send(req)
			a.want(t, http.StatusUnauthorized, tt.code)
			calls, refused := 0, 0
			for _, st := range e.s.Stats().Endpoints {
				calls, refused = calls+st.Calls, refused+st.Refused
			}
			if calls != 1 || refused != 1 {
				t.Fatalf("stats %+v", e.s.Stats())
			}
		})
	}
}

func TestTamperedBodyIsRefused(t *testing.T) {
	e := newEnv(t, Options{})
	req, _ := e.signed("POST", "/api/identity/realname/verify", map[string]string{"name": "张三", "id_number": zhangSan.IDNumber})
	other, _ := e.newRequest("POST", "/api/identity/realname/verify", map[string]string{"name": "李四", "id_number": liSi.IDNumber})
	req.Body, req.ContentLength = other.Body, other.ContentLength
	e.send(req).want(t, http.StatusUnauthorized, CodeSignatureInvalid)
}

func TestSkewWithinWindowIsAccepted(t *testing.T) {
	e := newEnv(t, Options{})
	for _, d := range []time.Duration{-299 * time.Second, 299 * time.Second} {
		req, _ := e.newRequest("GET", "/api/catalog/halls", nil)
		if err := SignRequest(req, nil, e.s.AppKey(), e.s.AppSecret(), "", e.clock.Now().Add(d)); err != nil {
			t.Fatal(err)
		}
		e.send(req).ok(t)
	}
}

// signWithNonce signs req with a chosen nonce (SignRequest draws its own).
func signWithNonce(t *testing.T, e *env, req *http.Request, nonce string) {
	t.Helper()
	ts := strconv.FormatInt(e.clock.Now().UnixMilli(), 10)
	sts, err := StringToSign(req.Method, strings.TrimPrefix(req.URL.EscapedPath(), BasePath), req.URL.RawQuery, nil, MethodSM3, e.s.AppKey(), ts, nonce)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(HeaderAppKey, e.s.AppKey())
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignMethod, MethodSM3)
	req.Header.Set(HeaderSignature, Sign(e.s.AppSecret(), MethodSM3, sts))
}

func TestNonceReplay(t *testing.T) {
	e := newEnv(t, Options{})
	req, _ := e.signed("GET", "/api/catalog/halls", nil)
	replay := req.Clone(req.Context())
	e.send(req).ok(t)
	e.send(replay).want(t, http.StatusUnauthorized, CodeNonceReplayed)

	// A nonce stays used for 10 minutes, even in a freshly signed request ...
	nonce := NewNonce()
	req, _ = e.newRequest("GET", "/api/catalog/halls", nil)
	signWithNonce(t, e, req, nonce)
	e.send(req).ok(t)
	e.clock.Advance(9 * time.Minute)
	req, _ = e.newRequest("GET", "/api/catalog/halls", nil)
	signWithNonce(t, e, req, nonce)
	e.send(req).want(t, http.StatusUnauthorized, CodeNonceReplayed)
	// ... and is forgotten after.
	e.clock.Advance(61 * time.Second)
	req, _ = e.newRequest("GET", "/api/catalog/halls", nil)
	signWithNonce(t, e, req, nonce)
	e.send(req).ok(t)
}

// A forged request must not burn the nonce of the genuine one.
func TestRefusedRequestDoesNotUseTheNonce(t *testing.T) {
	e := newEnv(t, Options{})
	req, _ := e.signed("GET", "/api/catalog/halls", nil)
	forged := req.Clone(req.Context())
	forged.Header.Set(HeaderSignature, Sign("guess", MethodSM3, "x"))
	e.send(forged).want(t, http.StatusUnauthorized, CodeSignatureInvalid)
	e.send(req).ok(t)
}

func TestResponsesAreSigned(t *testing.T) {
	e := newEnv(t, Options{})
	for _, method := range []string{MethodSM3, MethodSHA256} {
		e.signMethod = method
		req, _ := e.signed("GET", "/api/catalog/items/nope", nil)
		req.Header.Set(HeaderCorrelationID, "corr-42")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := make([]byte, 0)
		buf := make([]byte, 4096)
		for {
			n, err := res.Body.Read(buf)
			body = append(body, buf[:n]...)
			if err != nil {
				break
			}
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || res.Header.Get(HeaderCorrelationID) != "corr-42" {
			t.Fatalf("HTTP %d, correlation %q", res.StatusCode, res.Header.Get(HeaderCorrelationID))
		}
		if err := VerifyResponse(res.StatusCode, res.Header, body, e.s.AppSecret(), method, req.Header.Get(HeaderNonce)); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		// Bound to the request: another request's nonce, the status and the body all count.
		if VerifyResponse(res.StatusCode, res.Header, body, e.s.AppSecret(), method, NewNonce()) == nil {
			t.Fatal("response signature does not cover the request nonce")
		}
		if VerifyResponse(200, res.Header, body, e.s.AppSecret(), method, req.Header.Get(HeaderNonce)) == nil {
			t.Fatal("response signature does not cover the status")
		}
		if VerifyResponse(res.StatusCode, res.Header, append(body, ' '), e.s.AppSecret(), method, req.Header.Get(HeaderNonce)) == nil {
			t.Fatal("response signature does not cover the body")
		}
		if VerifyResponse(res.StatusCode, http.Header{}, body, e.s.AppSecret(), method, req.Header.Get(HeaderNonce)) == nil {
			t.Fatal("unsigned response accepted")
		}
	}
	// Refusals are signed too (send checks), and so is an unknown API.
	e.signMethod = ""
	e.do("GET", "/api/nothing-here", nil).want(t, http.StatusNotFound, CodeAPINotFound)
	req, _ := e.newRequest("GET", "/api/catalog/halls", nil)
	e.send(req).want(t, http.StatusUnauthorized, CodeSignatureMissing)
}

func TestSignatureMismatchShowsTheStringToSign(t *testing.T) {
	e := newEnv(t, Options{})
	req, _ := e.signed("GET", "/api/catalog/halls?item_code=x", nil)
	req.Header.Set(HeaderSignature, "AAAA")
	a := e.send(req)
	a.want(t, http.StatusUnauthorized, CodeSignatureInvalid)
	var d struct {
		StringToSign string `json:"string_to_sign"`
	}
	a.into(t, &d)
	if !strings.HasPrefix(d.StringToSign, "GET\n/api/catalog/halls\nitem_code=x\n") {
		t.Fatalf("string_to_sign %q", d.StringToSign)
	}
}
