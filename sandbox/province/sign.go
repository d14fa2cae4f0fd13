package province

import (
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"

	"zwfw/sandbox/gwserver"
)

// The gateway signature of docs/province-gateway.md lives in
// zwfw/sandbox/gwserver, which the non-tax fake shares; these names keep
// the province fake's API. It is the sandbox's own implementation, written
// apart from the client in province/ so that the two check each other.

// Sign methods.
const (
	MethodSM3    = gwserver.MethodSM3
	MethodSHA256 = gwserver.MethodSHA256
)

// Header names.
const (
	HeaderAppKey         = gwserver.HeaderAppKey
	HeaderTimestamp      = gwserver.HeaderTimestamp
	HeaderNonce          = gwserver.HeaderNonce
	HeaderSignMethod     = gwserver.HeaderSignMethod
	HeaderSignature      = gwserver.HeaderSignature
	HeaderCorrelationID  = gwserver.HeaderCorrelationID
	HeaderIdempotencyKey = gwserver.HeaderIdempotencyKey
)

// hashFor returns the hash constructor of a sign method; ok is false for an
// unsupported method.
func hashFor(method string) (func() hash.Hash, bool) { return gwserver.HashFor(method) }

// BodyHash is the lower-case hex SM3 (HMAC-SM3) or SHA-256 (HMAC-SHA256)
// of body; the empty body hashes like any other.
func BodyHash(signMethod string, body []byte) string { return gwserver.BodyHash(signMethod, body) }

// CanonicalQuery decodes a raw query and re-encodes it canonically: every
// name=value pair percent-encoded per RFC 3986, sorted by encoded name then
// encoded value, joined by &. A parameter without "=" counts as an empty
// value ("a" and "a=" both give "a="). "" for no query.
func CanonicalQuery(rawQuery string) (string, error) { return gwserver.CanonicalQuery(rawQuery) }

// StringToSign is the request string to sign. path is the path below the
// base URL as sent (percent-encoded, e.g. url.URL.EscapedPath without the
// base path); rawQuery is the query as sent.
func StringToSign(method, path, rawQuery string, body []byte, signMethod, appKey, timestamp, nonce string) (string, error) {
	return gwserver.StringToSign(method, path, rawQuery, body, signMethod, appKey, timestamp, nonce)
}

// ResponseStringToSign is what a response signature covers.
func ResponseStringToSign(status int, body []byte, signMethod, timestamp, nonce, requestNonce string) string {
	return gwserver.ResponseStringToSign(status, body, signMethod, timestamp, nonce, requestNonce)
}

// Sign is base64 (standard, padded) of HMAC(secret, stringToSign) with the
// sign method's hash (HMAC-SM3 when the method is unknown or empty).
func Sign(secret, signMethod, stringToSign string) string {
	return gwserver.Sign(secret, signMethod, stringToSign)
}

// signatureEqual compares a received signature with the expected one in
// constant time.
func signatureEqual(got, want string) bool { return gwserver.Equal(got, want) }

// NewNonce is 32 random lower-case hex characters.
func NewNonce() string { return gwserver.NewNonce() }

// SignRequest signs req as a gateway client does: it sets X-Gw-App-Key,
// X-Gw-Timestamp (now, Unix ms), a fresh X-Gw-Nonce, X-Gw-Sign-Method
// (signMethod, default HMAC-SM3) and X-Gw-Signature over req's method, its
// path below BasePath (the sandbox's /province prefix is cut when present),
// its query and body (which must be the bytes req sends). Tests use it to
// make valid requests, then break one header to make invalid ones.
func SignRequest(req *http.Request, body []byte, appKey, secret, signMethod string, now time.Time) error {
	if signMethod == "" {
		signMethod = MethodSM3
	}
	path := strings.TrimPrefix(req.URL.EscapedPath(), BasePath)
	if path == "" {
		path = "/"
	}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	nonce := NewNonce()
	sts, err := StringToSign(req.Method, path, req.URL.RawQuery, body, signMethod, appKey, ts, nonce)
	if err != nil {
		return err
	}
	req.Header.Set(HeaderAppKey, appKey)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignMethod, signMethod)
	req.Header.Set(HeaderSignature, Sign(secret, signMethod, sts))
	return nil
}

// VerifyResponse checks a gateway response's signature: header is the
// response's, body its bytes, requestNonce the X-Gw-Nonce of the request it
// answers and signMethod the request's sign method ("" = HMAC-SM3).
func VerifyResponse(status int, header http.Header, body []byte, secret, signMethod, requestNonce string) error {
	if signMethod == "" {
		signMethod = MethodSM3
	}
	ts, nonce, sig := header.Get(HeaderTimestamp), header.Get(HeaderNonce), header.Get(HeaderSignature)
	if ts == "" || nonce == "" || sig == "" {
		return errors.New("province: response is not signed")
	}
	want := Sign(secret, signMethod, ResponseStringToSign(status, body, signMethod, ts, nonce, requestNonce))
	if !signatureEqual(sig, want) {
		return errors.New("province: response signature does not match")
	}
	return nil
}

// VerifyCallback checks a status-change callback the sandbox POSTed: app
// key, timestamp within MaxSkew of now, and the signature over the
// callback's method, full path, query and body. (Receivers should also
// remember nonces; this helper does not.)
func VerifyCallback(r *http.Request, body []byte, appKey, secret string, now time.Time) error {
	h := r.Header
	if h.Get(HeaderAppKey) != appKey {
		return fmt.Errorf("province: callback app key %q", h.Get(HeaderAppKey))
	}
	method := h.Get(HeaderSignMethod)
	if method == "" {
		method = MethodSM3
	}
	if _, ok := hashFor(method); !ok {
		return fmt.Errorf("province: callback sign method %q", method)
	}
	ms, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("province: callback timestamp %q", h.Get(HeaderTimestamp))
	}
	if d := now.Sub(time.UnixMilli(ms)); d > MaxSkew || d < -MaxSkew {
		return fmt.Errorf("province: callback timestamp %s off", d)
	}
	sts, err := StringToSign(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, body, method, appKey, h.Get(HeaderTimestamp), h.Get(HeaderNonce))
	if err != nil {
		return err
	}
	if !signatureEqual(h.Get(HeaderSignature), Sign(secret, method, sts)) {
		return errors.New("province: callback signature does not match")
	}
	return nil
}
