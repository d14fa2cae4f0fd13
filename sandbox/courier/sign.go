package courier

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Kuaidi100's signatures are MD5 over plain concatenations (no separators),
// written as 32 upper-case hex characters:
//
//	query    sign = upper(md5(param + key + customer))
//	bOrder   sign = upper(md5(param + t + key + secret))   (also cancel)
//	push     sign = upper(md5(param + salt))
//
// param is the JSON text exactly as sent in the form field.

// md5Upper is upper-case hex MD5 of the concatenated parts.
func md5Upper(parts ...string) string {
	h := md5.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// QuerySign signs a real-time query.
func QuerySign(param, key, customer string) string { return md5Upper(param, key, customer) }

// OrderSign signs a pickup-order request (bOrder, cancel).
func OrderSign(param, t, key, secret string) string { return md5Upper(param, t, key, secret) }

// PushSign signs a push with the subscription's salt.
func PushSign(param, salt string) string { return md5Upper(param, salt) }

// signOK compares a received signature with the expected one in constant
// time; Kuaidi100 accepts either case of hex.
func signOK(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToUpper(got)), []byte(want)) == 1
}
