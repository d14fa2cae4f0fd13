package wechatpay

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"sort"
	"strings"
)

// Signature types of API v2.
const (
	SignMD5        = "MD5"
	SignHMACSHA256 = "HMAC-SHA256"
)

// Sign computes a WeChat Pay v2 signature: the non-empty parameters other
// than sign, sorted by name (ASCII), joined as k=v with &, then "&key=<API
// key>"; MD5, or HMAC-SHA256 keyed with the API key, as upper-case hex.
// An unknown signType signs as MD5 (callers validate sign_type first).
//
// The fake has its own implementation on purpose: it is the server side, and
// a bug shared with the client's SDK would go unnoticed.
func Sign(params map[string]string, key, signType string) string {
	names := make([]string, 0, len(params))
	for k, v := range params {
		if k != "sign" && v != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
		b.WriteByte('&')
	}
	b.WriteString("key=")
	b.WriteString(key)
	var h hash.Hash
	if signType == SignHMACSHA256 {
		h = hmac.New(sha256.New, []byte(key))
	} else {
		h = md5.New()
	}
	h.Write([]byte(b.String()))
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// validSignType reports whether t is a sign_type WeChat Pay accepts ("" = MD5).
func validSignType(t string) bool {
	return t == "" || t == SignMD5 || t == SignHMACSHA256
}

// verify checks params["sign"] in constant time.
func verify(params map[string]string, key, signType string) bool {
	want := Sign(params, key, signType)
	return subtle.ConstantTimeCompare([]byte(want), []byte(params["sign"])) == 1
}
