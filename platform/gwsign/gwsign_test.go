package gwsign

import (
	"net/url"
	"testing"
)

// The pinned vectors are the province contract's (province/sign_test.go),
// computed outside Go: Python's urllib.parse.quote for the query and
// `openssl dgst -sm3|-sha256 -mac HMAC` for the MACs. A change to
// canonicalization, field order or encoding breaks them.
func TestSigningVectorsPinned(t *testing.T) {
	const (
		ts       = "1767225600000"
		nonce    = "0123456789abcdef0123456789abcdef"
		wantCQ   = "audience=citizen&page_size=20&page_token=abc~def%2F%2B%3D&q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%20%E4%B8%AA%E4%BD%93%E6%88%B7"
		emptySM3 = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
		secret   = "s3cr3t-应用密钥"
	)
	q := url.Values{
		"q":          {"营业执照 个体户"},
		"audience":   {"citizen"},
		"page_size":  {"20"},
		"page_token": {"abc~def/+="},
	}
	cases := []struct {
		name, method, signMethod, path, query string
		body                                  []byte
		nonce                                 string
		wantSTS, wantSig                      string
	}{
		{
			name: "GET with query, HMAC-SM3", method: "get", signMethod: SignHMACSM3,
			path: "/api/catalog/items", query: CanonicalQuery(q), nonce: nonce,
			wantSTS: "GET\n/api/catalog/items\n" + wantCQ + "\n" + emptySM3 + "\nzwfw-test-app\n" + ts + "\n" + nonce,
			wantSig: "fK2WkpCPRl3EsxgwsepY+8UFUvED79HVl5dD/irAYUU=",
		},
		{
			name: "POST with body, HMAC-SHA256", method: "POST", signMethod: SignHMACSHA256,
			path: "/api/identity/realname/verify", body: []byte(`{"name":"张三","id_number":"11010519491231002X"}`),
			nonce: "fedcba9876543210fedcba9876543210",
			wantSTS: "POST\n/api/identity/realname/verify\n\n0091a10e9ff734245d0561cf55030cd2d208a92767fafb359df4d6c401576145\nzwfw-test-app\n" +
				ts + "\nfedcba9876543210fedcba9876543210",
			wantSig: "5T2pIp1Re3uldZm67l6AjhfUr0T0XjfvUJ1iG+IFQdo=",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, ok := New(c.signMethod, secret)
			if !ok || s.Method() != c.signMethod || s.Secret() != secret {
				t.Fatal("New did not build the signer")
			}
			sts := RequestStringToSign(c.method, c.path, c.query, s.BodyHash(c.body), "zwfw-test-app", ts, c.nonce)
			if sts != c.wantSTS {
				t.Fatalf("string to sign\n got %q\nwant %q", sts, c.wantSTS)
			}
			if sig := s.Sign(sts); sig != c.wantSig {
				t.Fatalf("signature %s, want %s", sig, c.wantSig)
			}
			if !s.Verify(sts, c.wantSig) {
				t.Fatal("Verify rejects the pinned signature")
			}
			if s.Verify(sts+"x", c.wantSig) || s.Verify(sts, "not base64!") || s.Verify(sts, "") {
				t.Fatal("Verify accepts a wrong signature")
			}
		})
	}

	s, _ := New(SignHMACSM3, secret)
	sts := ResponseStringToSign(200, s.BodyHash([]byte(`{"code":"0"}`)), "1767225600123", "aaaabbbbccccddddaaaabbbbccccdddd", nonce)
	want := "200\n4f7efa1d561ac17b02b371a85cb2168023eee8a57233c146e1c55172955da0f8\n1767225600123\naaaabbbbccccddddaaaabbbbccccdddd\n" + nonce
	if sts != want {
		t.Fatalf("response string to sign\n got %q\nwant %q", sts, want)
	}
	if sig := s.Sign(sts); sig != "d1aDvTXSVGJ3141aOnZ6wakwdaGY/J8tGUXdou3pBPQ=" {
		t.Fatalf("response signature %s", sig)
	}
}

func TestNewRefusesUnknownMethods(t *testing.T) {
	for _, m := range []string{"", "hmac-sm3", "HMAC-MD5", "SM3"} {
		if _, ok := New(m, "k"); ok {
			t.Errorf("New(%q) accepted", m)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	cases := []struct {
		in   url.Values
		want string
	}{
		{nil, ""},
		{url.Values{"b": {"2"}, "a": {"1"}}, "a=1&b=2"},
		{url.Values{"a": {"z", "y", "x"}}, "a=x&a=y&a=z"},
		{url.Values{"q": {"a b"}}, "q=a%20b"},
		{url.Values{"q": {"~-._"}}, "q=~-._"},
		{url.Values{"q": {"*'()!+&="}}, "q=%2A%27%28%29%21%2B%26%3D"},
		{url.Values{"q": {""}}, "q="},
		{url.Values{"名": {"值"}}, "%E5%90%8D=%E5%80%BC"},
	}
	for _, c := range cases {
		if got := CanonicalQuery(c.in); got != c.want {
			t.Errorf("CanonicalQuery(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNonceForm(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := NewNonce()
		if !IsNonce(n) || seen[n] {
			t.Fatalf("bad or repeated nonce %q", n)
		}
		seen[n] = true
	}
	for _, bad := range []string{"", "0123456789ABCDEF0123456789abcdef", "0123", "g123456789abcdef0123456789abcdef"} {
		if IsNonce(bad) {
			t.Errorf("IsNonce(%q)", bad)
		}
	}
}
