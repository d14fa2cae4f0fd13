package province

import (
	"net/url"
	"testing"
)

// The pinned vectors were computed outside Go (Python's urllib.parse.quote
// for the query, `openssl dgst -sm3|-sha256 -mac HMAC` for the MACs). A
// change to canonicalization, field order or encoding breaks them.
func TestSigningVectorsPinned(t *testing.T) {
	const (
		ts       = "1767225600000"
		nonce    = "0123456789abcdef0123456789abcdef"
		wantCQ   = "audience=citizen&page_size=20&page_token=abc~def%2F%2B%3D&q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%20%E4%B8%AA%E4%BD%93%E6%88%B7"
		emptySM3 = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
	)
	q := url.Values{
		"q":          {"营业执照 个体户"},
		"audience":   {"citizen"},
		"page_size":  {"20"},
		"page_token": {"abc~def/+="},
	}
	body := []byte(`{"name":"张三","id_number":"11010519491231002X"}`)
	cases := []struct {
		name, method, signMethod, path, query string
		body                                  []byte
		nonce                                 string
		wantSTS, wantSig                      string
	}{
		{
			name: "GET with query, HMAC-SM3", method: "GET", signMethod: SignHMACSM3,
			path: "/api/catalog/items", query: canonicalQuery(q), nonce: nonce,
			wantSTS: "GET\n/api/catalog/items\n" + wantCQ + "\n" + emptySM3 + "\nzwfw-test-app\n" + ts + "\n" + nonce,
			wantSig: "fK2WkpCPRl3EsxgwsepY+8UFUvED79HVl5dD/irAYUU=",
		},
		{
			name: "POST with body, HMAC-SHA256", method: "POST", signMethod: SignHMACSHA256,
			path: "/api/identity/realname/verify", body: body, nonce: "fedcba9876543210fedcba9876543210",
			wantSTS: "POST\n/api/identity/realname/verify\n\n0091a10e9ff734245d0561cf55030cd2d208a92767fafb359df4d6c401576145\nzwfw-test-app\n" +
				ts + "\nfedcba9876543210fedcba9876543210",
			wantSig: "5T2pIp1Re3uldZm67l6AjhfUr0T0XjfvUJ1iG+IFQdo=",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, ok := newSigner(c.signMethod, "s3cr3t-应用密钥")
			if !ok {
				t.Fatal("unknown sign method")
			}
			sts := requestStringToSign(c.method, c.path, c.query, s.bodyHash(c.body), "zwfw-test-app", ts, c.nonce)
			if sts != c.wantSTS {
				t.Fatalf("string to sign\n got %q\nwant %q", sts, c.wantSTS)
			}
			if sig := s.sign(sts); sig != c.wantSig {
				t.Fatalf("signature %s, want %s", sig, c.wantSig)
			}
			if !s.verify(sts, c.wantSig) {
				t.Fatal("verify rejects the pinned signature")
			}
		})
	}

	t.Run("response, HMAC-SM3", func(t *testing.T) {
		s, _ := newSigner(SignHMACSM3, "s3cr3t-应用密钥")
		sts := responseStringToSign(200, s.bodyHash([]byte(`{"code":"0"}`)), "1767225600123", "aaaabbbbccccddddaaaabbbbccccdddd", nonce)
		want := "200\n4f7efa1d561ac17b02b371a85cb2168023eee8a57233c146e1c55172955da0f8\n1767225600123\naaaabbbbccccddddaaaabbbbccccdddd\n" + nonce
		if sts != want {
			t.Fatalf("response string to sign\n got %q\nwant %q", sts, want)
		}
		if sig := s.sign(sts); sig != "d1aDvTXSVGJ3141aOnZ6wakwdaGY/J8tGUXdou3pBPQ=" {
			t.Fatalf("response signature %s", sig)
		}
	})
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
		if got := canonicalQuery(c.in); got != c.want {
			t.Errorf("canonicalQuery(%v) = %q, want %q", c.in, got, c.want)
		}
		// The fake's independent implementation agrees.
		if got := fakeCanonicalQuery(c.want); c.in != nil && got != c.want {
			t.Errorf("fake canonical query of %q = %q", c.want, got)
		}
	}
}

func TestNonceForm(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := newNonce()
		if !isNonce(n) || seen[n] {
			t.Fatalf("bad or repeated nonce %q", n)
		}
		seen[n] = true
	}
	for _, bad := range []string{"", "0123456789ABCDEF0123456789abcdef", "0123", "g123456789abcdef0123456789abcdef"} {
		if isNonce(bad) {
			t.Errorf("isNonce(%q)", bad)
		}
	}
}
