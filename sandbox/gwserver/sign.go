package gwserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm3"

	"zwfw/sandbox/fake"
)

// The gateway signature of docs/province-gateway.md. This is the sandbox's
// own implementation, written apart from the client in province/ so that
// the two check each other:
//
//	string to sign = METHOD \n PATH \n CANONICAL_QUERY \n BODY_HASH \n APP_KEY \n TIMESTAMP \n NONCE
//	X-Gw-Signature = base64(HMAC-<SM3|SHA256>(app secret, string to sign))
//
// and on every response
//
//	base64(HMAC(app secret, STATUS \n BODY_HASH \n TIMESTAMP \n NONCE \n REQUEST_NONCE)).

// Sign methods.
const (
	MethodSM3    = "HMAC-SM3"
	MethodSHA256 = "HMAC-SHA256"
)

// Header names.
const (
	HeaderAppKey         = "X-Gw-App-Key"
	HeaderTimestamp      = "X-Gw-Timestamp"
	HeaderNonce          = "X-Gw-Nonce"
	HeaderSignMethod     = "X-Gw-Sign-Method"
	HeaderSignature      = "X-Gw-Signature"
	HeaderCorrelationID  = "X-Gw-Correlation-Id"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// HashFor returns the hash constructor of a sign method; ok is false for an
// unsupported method.
func HashFor(method string) (func() hash.Hash, bool) {
	switch method {
	case MethodSM3:
		return sm3.New, true
	case MethodSHA256:
		return sha256.New, true
	}
	return nil, false
}

// BodyHash is the lower-case hex SM3 (HMAC-SM3) or SHA-256 (HMAC-SHA256)
// of body; the empty body hashes like any other.
func BodyHash(signMethod string, body []byte) string {
	h, ok := HashFor(signMethod)
	if !ok {
		h = sm3.New
	}
	d := h()
	d.Write(body)
	return hex.EncodeToString(d.Sum(nil))
}

// rfc3986 percent-encodes s: A-Z a-z 0-9 - . _ ~ kept, every other byte
// %XX with upper-case hex (so a space is %20, never +).
func rfc3986(s string) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}

// CanonicalQuery decodes a raw query and re-encodes it canonically: every
// name=value pair percent-encoded per RFC 3986, sorted by encoded name then
// encoded value, joined by &. A parameter without "=" counts as an empty
// value ("a" and "a=" both give "a="). "" for no query. It returns
// url.ParseQuery's error for a malformed query.
func CanonicalQuery(rawQuery string) (string, error) {
	if rawQuery == "" {
		return "", nil
	}
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", err
	}
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range values {
		for _, v := range vs {
			pairs = append(pairs, pair{rfc3986(k), rfc3986(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&"), nil
}

// StringToSign is the request string to sign. path is the path below the
// base URL as sent (percent-encoded, e.g. url.URL.EscapedPath without the
// base path); rawQuery is the query as sent. It fails like CanonicalQuery.
func StringToSign(method, path, rawQuery string, body []byte, signMethod, appKey, timestamp, nonce string) (string, error) {
	cq, err := CanonicalQuery(rawQuery)
	if err != nil {
		return "", err
	}
	return strings.Join([]string{
		strings.ToUpper(method), path, cq, BodyHash(signMethod, body), appKey, timestamp, nonce,
	}, "\n"), nil
}

// ResponseStringToSign is what a response signature covers.
func ResponseStringToSign(status int, body []byte, signMethod, timestamp, nonce, requestNonce string) string {
	return strings.Join([]string{strconv.Itoa(status), BodyHash(signMethod, body), timestamp, nonce, requestNonce}, "\n")
}

// Sign is base64 (standard, padded) of HMAC(secret, stringToSign) with the
// sign method's hash (HMAC-SM3 when the method is unknown or empty).
func Sign(secret, signMethod, stringToSign string) string {
	h, ok := HashFor(signMethod)
	if !ok {
		h = sm3.New
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Equal compares secrets, signatures and check codes in constant time.
func Equal(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// NewNonce is 32 random lower-case hex characters.
func NewNonce() string { return fake.RandomString(fake.Hex, 32) }
