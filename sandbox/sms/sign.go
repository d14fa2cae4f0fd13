package sms

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// The POP (Aliyun OpenAPI RPC style) signature, version 1.0, HMAC-SHA1:
//
//	canonicalized = join(sort(percentEncode(k) "=" percentEncode(v)), "&")   // all params but Signature
//	stringToSign  = method "&" percentEncode("/") "&" percentEncode(canonicalized)
//	Signature     = base64(hmac-sha1(AccessKeySecret + "&", stringToSign))
//
// This is the gateway's verifier; notify has the client's signer, written
// separately so that the two check each other.

// percentEncode is URL encoding as POP wants it: RFC 3986 unreserved
// characters (A-Z a-z 0-9 - _ . ~) kept, everything else %XX, space as %20.
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// StringToSign builds the string a request's signature covers, from its
// decoded parameters (Signature itself is left out).
func StringToSign(method string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pairs := make([]string, 0, len(keys))
	for _, k := range keys {
		pairs = append(pairs, percentEncode(k)+"="+percentEncode(params.Get(k)))
	}
	return strings.ToUpper(method) + "&" + percentEncode("/") + "&" + percentEncode(strings.Join(pairs, "&"))
}

// Sign returns the Base64 HMAC-SHA1 signature of stringToSign under accessKeySecret.
func Sign(stringToSign, accessKeySecret string) string {
	mac := hmac.New(sha1.New, []byte(accessKeySecret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
