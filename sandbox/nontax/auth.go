package nontax

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"zwfw/sandbox/province"
)

// authenticate checks a request the way the provincial gateway does, in
// this order: headers present (GW_SIGNATURE_MISSING), app key
// (GW_APP_KEY_UNKNOWN), sign method and header formats
// (GW_SIGNATURE_INVALID), timestamp (GW_TIMESTAMP_SKEW), signature
// (GW_SIGNATURE_INVALID, with the platform's string to sign), then nonce
// (GW_NONCE_REPLAYED), recorded only for correctly signed requests so that
// a forgery cannot burn a client's nonce.
func (s *Server) authenticate(r *http.Request, body []byte, now time.Time) *Error {
	h := r.Header
	for _, name := range []string{province.HeaderAppKey, province.HeaderTimestamp, province.HeaderNonce, province.HeaderSignature} {
		if h.Get(name) == "" {
			return errorf(http.StatusUnauthorized, province.CodeSignatureMissing, "缺少签名请求头 %s", name)
		}
	}
	appKey := h.Get(province.HeaderAppKey)
	if !signatureEqual(appKey, s.appKey) {
		return errorf(http.StatusUnauthorized, province.CodeAppKeyUnknown, "应用标识不存在")
	}
	method := h.Get(province.HeaderSignMethod)
	if method == "" {
		method = province.MethodSM3
	}
	if !knownSignMethod(method) {
		return errorf(http.StatusUnauthorized, province.CodeSignatureInvalid, "不支持的签名方法 %q，应为 %s 或 %s", method, province.MethodSM3, province.MethodSHA256)
	}
	tsHeader := h.Get(province.HeaderTimestamp)
	ms, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return errorf(http.StatusUnauthorized, province.CodeSignatureInvalid, "X-Gw-Timestamp 应为毫秒级 Unix 时间戳")
	}
	nonce := h.Get(province.HeaderNonce)
	if !isLowerHex(nonce, nonceLen) {
		return errorf(http.StatusUnauthorized, province.CodeSignatureInvalid, "X-Gw-Nonce 应为32位小写十六进制字符")
	}
	if d := now.Sub(time.UnixMilli(ms)); d > MaxSkew || d < -MaxSkew {
		return errorf(http.StatusUnauthorized, province.CodeTimestampSkew, "请求时间戳与平台时间相差超过%d秒", int(MaxSkew.Seconds()))
	}
	path := strings.TrimPrefix(r.URL.EscapedPath(), BasePath)
	sts, err := province.StringToSign(r.Method, path, r.URL.RawQuery, body, method, appKey, tsHeader, nonce)
	if err != nil {
		return errorf(http.StatusUnauthorized, province.CodeSignatureInvalid, "查询参数无法解析：%v", err)
	}
	if !signatureEqual(h.Get(province.HeaderSignature), province.Sign(s.appSecret, method, sts)) {
		// Show the string to sign so a client developer can find the bug.
		e := errorf(http.StatusUnauthorized, province.CodeSignatureInvalid, "签名不正确")
		e.data = map[string]string{"string_to_sign": sts}
		return e
	}
	if !s.useNonce(nonce, now) {
		return errorf(http.StatusUnauthorized, province.CodeNonceReplayed, "请求随机数已使用（重放）")
	}
	return nil
}

func knownSignMethod(m string) bool { return m == province.MethodSM3 || m == province.MethodSHA256 }

// signatureEqual compares secrets and signatures in constant time.
func signatureEqual(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// useNonce records a nonce; false when it was used within NonceWindow.
func (s *Server) useNonce(nonce string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.nonceLog) > 0 && now.Sub(s.nonceLog[0].at) > NonceWindow {
		if s.nonces[s.nonceLog[0].nonce] == s.nonceLog[0].at {
			delete(s.nonces, s.nonceLog[0].nonce)
		}
		s.nonceLog = s.nonceLog[1:]
	}
	if at, used := s.nonces[nonce]; used && now.Sub(at) <= NonceWindow {
		return false
	}
	s.nonces[nonce] = now
	s.nonceLog = append(s.nonceLog, nonceEntry{nonce, now})
	return true
}
