// Package gwsign is the client side of the government gateways' signature
// contract (docs/province-gateway.md, reused by docs/nontax-gateway.md): app
// key, millisecond timestamp, nonce and an HMAC (国密 SM3 by default, or
// SHA-256) over the canonical request, and the same HMAC over every
// response, bound to the request's nonce.
//
//	request:  METHOD \n PATH \n CANONICAL_QUERY \n BODY_HASH \n APP_KEY \n TIMESTAMP \n NONCE
//	response: STATUS \n BODY_HASH \n TIMESTAMP \n NONCE \n REQUEST_NONCE
//
// The province client (province/) and the non-tax platform client
// (payments/nontax/) both sign with it, so the canonicalization exists once
// on the client side. The sandbox's fakes deliberately keep their own
// implementation (sandbox/gwserver/sign.go) so that the two check each other.
package gwsign

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm3"
)

// Sign methods of the contract (header X-Gw-Sign-Method).
const (
	SignHMACSM3    = "HMAC-SM3"    // 国密 HMAC with SM3; the default
	SignHMACSHA256 = "HMAC-SHA256" // HMAC with SHA-256
)

// Header names of the contract.
const (
	HeaderAppKey         = "X-Gw-App-Key"
	HeaderTimestamp      = "X-Gw-Timestamp"
	HeaderNonce          = "X-Gw-Nonce"
	HeaderSignMethod     = "X-Gw-Sign-Method"
	HeaderSignature      = "X-Gw-Signature"
	HeaderCorrelationID  = "X-Gw-Correlation-Id"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// Signer holds an app secret and the hash of one sign method. The zero
// value is not usable; make one with New. It is safe for concurrent use.
type Signer struct {
	method  string
	secret  []byte
	newHash func() hash.Hash
}

// New returns the signer for method (SignHMACSM3 or SignHMACSHA256) keyed
// with the secret's UTF-8 bytes; ok is false for any other method.
func New(method, secret string) (s Signer, ok bool) {
	switch method {
	case SignHMACSM3:
		return Signer{method: method, secret: []byte(secret), newHash: sm3.New}, true
	case SignHMACSHA256:
		return Signer{method: method, secret: []byte(secret), newHash: sha256.New}, true
	}
	return Signer{}, false
}

// Method is the signer's sign method, as sent in X-Gw-Sign-Method.
func (s Signer) Method() string { return s.method }

// Secret is the app secret the signer is keyed with (callers that must
// derive a signer for another method, e.g. a callback's, need it).
func (s Signer) Secret() string { return string(s.secret) }

// BodyHash is the lower-case hex digest of body with the method's hash
// (SM3 or SHA-256); a request without body hashes the empty string.
func (s Signer) BodyHash(body []byte) string {
	h := s.newHash()
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Sign returns base64 (standard, padded) of HMAC(secret, stringToSign).
func (s Signer) Sign(stringToSign string) string {
	return base64.StdEncoding.EncodeToString(s.mac(stringToSign))
}

// Verify reports whether sig is the signature of stringToSign, comparing
// in constant time. A sig that is not base64 is false.
func (s Signer) Verify(stringToSign, sig string) bool {
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, s.mac(stringToSign)) == 1
}

func (s Signer) mac(msg string) []byte {
	m := hmac.New(s.newHash, s.secret)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// RequestStringToSign joins the request fields of the contract with '\n'
// (no trailing newline): METHOD (upper-cased), PATH (below the base URL, as
// sent), CANONICAL_QUERY, BODY_HASH, APP_KEY, TIMESTAMP, NONCE.
func RequestStringToSign(method, path, canonicalQuery, bodyHash, appKey, timestamp, nonce string) string {
	return strings.Join([]string{strings.ToUpper(method), path, canonicalQuery, bodyHash, appKey, timestamp, nonce}, "\n")
}

// ResponseStringToSign joins the response fields of the contract: STATUS,
// BODY_HASH, TIMESTAMP, NONCE and the request's nonce (which binds an
// answer to the one request it answers).
func ResponseStringToSign(status int, bodyHash, timestamp, nonce, requestNonce string) string {
	return strings.Join([]string{strconv.Itoa(status), bodyHash, timestamp, nonce, requestNonce}, "\n")
}

// NewNonce returns 32 lower-case hex characters from crypto/rand.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// IsNonce reports whether s has the contract's nonce form: 32 lower-case hex.
func IsNonce(s string) bool {
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
