package province

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm3"
)

// Sign methods of the gateway contract (header X-Gw-Sign-Method).
const (
	SignHMACSM3    = "HMAC-SM3"    // 国密 HMAC with SM3; the default
	SignHMACSHA256 = "HMAC-SHA256" // HMAC with SHA-256
)

// Header names of the gateway contract.
const (
	hdrAppKey        = "X-Gw-App-Key"
	hdrTimestamp     = "X-Gw-Timestamp"
	hdrNonce         = "X-Gw-Nonce"
	hdrSignMethod    = "X-Gw-Sign-Method"
	hdrSignature     = "X-Gw-Signature"
	hdrCorrelationID = "X-Gw-Correlation-Id"
	hdrIdempotency   = "Idempotency-Key"
)

// signer holds the app secret and the hash of one sign method.
type signer struct {
	method  string
	secret  []byte
	newHash func() hash.Hash
}

// newSigner returns the signer for method, or false for an unknown method.
func newSigner(method, secret string) (signer, bool) {
	switch method {
	case SignHMACSM3:
		return signer{method: method, secret: []byte(secret), newHash: sm3.New}, true
	case SignHMACSHA256:
		return signer{method: method, secret: []byte(secret), newHash: sha256.New}, true
	}
	return signer{}, false
}

// bodyHash is the lower-case hex digest of body with the method's hash
// (the digest of the empty string for a request without body).
func (s signer) bodyHash(body []byte) string {
	h := s.newHash()
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// sign returns base64 (standard, padded) of HMAC(secret, stringToSign).
func (s signer) sign(stringToSign string) string {
	m := hmac.New(s.newHash, s.secret)
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// verify reports whether sig is the signature of stringToSign, in constant time.
func (s signer) verify(stringToSign, sig string) bool {
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	m := hmac.New(s.newHash, s.secret)
	m.Write([]byte(stringToSign))
	return subtle.ConstantTimeCompare(got, m.Sum(nil)) == 1
}

// requestStringToSign joins the request fields of the contract with '\n'
// (no trailing newline): METHOD, PATH, CANONICAL_QUERY, BODY_HASH, APP_KEY,
// TIMESTAMP, NONCE.
func requestStringToSign(method, path, canonicalQuery, bodyHash, appKey, timestamp, nonce string) string {
	return strings.Join([]string{strings.ToUpper(method), path, canonicalQuery, bodyHash, appKey, timestamp, nonce}, "\n")
}

// responseStringToSign joins the response fields of the contract:
// STATUS, BODY_HASH, TIMESTAMP, NONCE, REQUEST_NONCE.
func responseStringToSign(status int, bodyHash, timestamp, nonce, requestNonce string) string {
	return strings.Join([]string{strconv.Itoa(status), bodyHash, timestamp, nonce, requestNonce}, "\n")
}

// canonicalQuery sorts the parameters by name, then by value (both as
// UTF-8 bytes, before encoding), encodes each name and value per RFC 3986
// and joins name=value pairs with '&'. It is "" for no parameters. The
// client sends exactly this string as the URL's query, so what is signed is
// what is on the wire.
func canonicalQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		vs := slices.Clone(q[k])
		slices.Sort(vs)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(rfc3986Escape(k))
			b.WriteByte('=')
			b.WriteString(rfc3986Escape(v))
		}
	}
	return b.String()
}

// rfc3986Escape percent-encodes every byte outside the RFC 3986 unreserved
// set (A-Z a-z 0-9 - . _ ~) as %XX with upper-case hex; a space is %20.
func rfc3986Escape(s string) string {
	const hexUpper = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	out := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hexUpper[c>>4], hexUpper[c&15])
	}
	return string(out)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// newNonce returns 32 lower-case hex characters from crypto/rand.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// isNonce reports whether s has the contract's nonce form: 32 lower-case hex.
func isNonce(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
