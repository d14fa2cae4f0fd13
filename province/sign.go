package province

import (
	"net/url"

	"zwfw/platform/gwsign"
)

// The signing primitives live in platform/gwsign, shared with the non-tax
// platform client; this file keeps the province's names for them.

// Sign methods of the gateway contract (header X-Gw-Sign-Method).
const (
	SignHMACSM3    = gwsign.SignHMACSM3    // 国密 HMAC with SM3; the default
	SignHMACSHA256 = gwsign.SignHMACSHA256 // HMAC with SHA-256
)

// Header names of the gateway contract.
const (
	hdrAppKey        = gwsign.HeaderAppKey
	hdrTimestamp     = gwsign.HeaderTimestamp
	hdrNonce         = gwsign.HeaderNonce
	hdrSignMethod    = gwsign.HeaderSignMethod
	hdrSignature     = gwsign.HeaderSignature
	hdrCorrelationID = gwsign.HeaderCorrelationID
	hdrIdempotency   = gwsign.HeaderIdempotencyKey
)

// signer holds the app secret and the hash of one sign method.
type signer struct {
	method string
	secret []byte
	s      gwsign.Signer
}

// newSigner returns the signer for method, or false for an unknown method.
func newSigner(method, secret string) (signer, bool) {
	s, ok := gwsign.New(method, secret)
	if !ok {
		return signer{}, false
	}
	return signer{method: method, secret: []byte(secret), s: s}, true
}

// bodyHash is the lower-case hex digest of body with the method's hash
// (the digest of the empty string for a request without body).
func (s signer) bodyHash(body []byte) string { return s.s.BodyHash(body) }

// sign returns base64 (standard, padded) of HMAC(secret, stringToSign).
func (s signer) sign(stringToSign string) string { return s.s.Sign(stringToSign) }

// verify reports whether sig is the signature of stringToSign, in constant time.
func (s signer) verify(stringToSign, sig string) bool { return s.s.Verify(stringToSign, sig) }

// requestStringToSign joins the request fields of the contract with '\n'
// (no trailing newline): METHOD, PATH, CANONICAL_QUERY, BODY_HASH, APP_KEY,
// TIMESTAMP, NONCE.
func requestStringToSign(method, path, canonicalQuery, bodyHash, appKey, timestamp, nonce string) string {
	return gwsign.RequestStringToSign(method, path, canonicalQuery, bodyHash, appKey, timestamp, nonce)
}

// responseStringToSign joins the response fields of the contract:
// STATUS, BODY_HASH, TIMESTAMP, NONCE, REQUEST_NONCE.
func responseStringToSign(status int, bodyHash, timestamp, nonce, requestNonce string) string {
	return gwsign.ResponseStringToSign(status, bodyHash, timestamp, nonce, requestNonce)
}

// canonicalQuery is the contract's CANONICAL_QUERY (gwsign.CanonicalQuery);
// the client sends exactly this string as the URL's query.
func canonicalQuery(q url.Values) string { return gwsign.CanonicalQuery(q) }

// newNonce returns 32 lower-case hex characters from crypto/rand.
func newNonce() string { return gwsign.NewNonce() }

// isNonce reports whether s has the contract's nonce form: 32 lower-case hex.
func isNonce(s string) bool { return gwsign.IsNonce(s) }
