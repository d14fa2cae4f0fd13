package gwserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// nonceLen is the length of X-Gw-Nonce: lower-case hex characters.
const nonceLen = 32

// Authenticate checks a request the way the gateway does, in this order:
// headers present (GW_SIGNATURE_MISSING), app key (GW_APP_KEY_UNKNOWN),
// sign method and header formats (GW_SIGNATURE_INVALID), timestamp within
// MaxSkew of now (GW_TIMESTAMP_SKEW), signature over the path below
// BasePath (GW_SIGNATURE_INVALID, with the string to sign as data), then
// nonce (GW_NONCE_REPLAYED), recorded only for correctly signed requests
// so that a forgery cannot burn a client's nonce. nil means authenticated.
func (g *Gateway) Authenticate(r *http.Request, body []byte, now time.Time) *Refusal {
	h := r.Header
	for _, name := range []string{HeaderAppKey, HeaderTimestamp, HeaderNonce, HeaderSignature} {
		if h.Get(name) == "" {
			return Refuse(http.StatusUnauthorized, CodeSignatureMissing, "缺少签名请求头 %s", name)
		}
	}
	appKey := h.Get(HeaderAppKey)
	if !Equal(appKey, g.opts.AppKey) {
		return Refuse(http.StatusUnauthorized, CodeAppKeyUnknown, "应用标识不存在")
	}
	method := h.Get(HeaderSignMethod)
	if method == "" {
		method = MethodSM3
	}
	if _, ok := HashFor(method); !ok {
		return Refuse(http.StatusUnauthorized, CodeSignatureInvalid, "不支持的签名方法 %q，应为 %s 或 %s", method, MethodSM3, MethodSHA256)
	}
	tsHeader := h.Get(HeaderTimestamp)
	ms, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return Refuse(http.StatusUnauthorized, CodeSignatureInvalid, "X-Gw-Timestamp 应为毫秒级 Unix 时间戳")
	}
	nonce := h.Get(HeaderNonce)
	if !isLowerHex(nonce, nonceLen) {
		return Refuse(http.StatusUnauthorized, CodeSignatureInvalid, "X-Gw-Nonce 应为32位小写十六进制字符")
	}
	if d := now.Sub(time.UnixMilli(ms)); d > g.opts.MaxSkew || d < -g.opts.MaxSkew {
		return Refuse(http.StatusUnauthorized, CodeTimestampSkew, "请求时间戳与%s时间相差超过%d秒", g.opts.ClockOwner, int(g.opts.MaxSkew.Seconds()))
	}
	path := strings.TrimPrefix(r.URL.EscapedPath(), g.opts.BasePath)
	sts, err := StringToSign(r.Method, path, r.URL.RawQuery, body, method, appKey, tsHeader, nonce)
	if err != nil {
		return Refuse(http.StatusUnauthorized, CodeSignatureInvalid, "查询参数无法解析：%v", err)
	}
	if !Equal(h.Get(HeaderSignature), Sign(g.opts.AppSecret, method, sts)) {
		// Like Aliyun, show the string to sign so a client developer can find the bug.
		rf := Refuse(http.StatusUnauthorized, CodeSignatureInvalid, "签名不正确")
		rf.Data = map[string]string{"string_to_sign": sts}
		return rf
	}
	if !g.useNonce(nonce, now) {
		return Refuse(http.StatusUnauthorized, CodeNonceReplayed, "请求随机数已使用（重放）")
	}
	return nil
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
// Expired nonces are forgotten oldest first.
func (g *Gateway) useNonce(nonce string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	window := g.opts.NonceWindow
	for len(g.nonceLog) > 0 && now.Sub(g.nonceLog[0].at) > window {
		if g.nonces[g.nonceLog[0].nonce] == g.nonceLog[0].at {
			delete(g.nonces, g.nonceLog[0].nonce)
		}
		g.nonceLog = g.nonceLog[1:]
	}
	if at, used := g.nonces[nonce]; used && now.Sub(at) <= window {
		return false
	}
	g.nonces[nonce] = now
	g.nonceLog = append(g.nonceLog, nonceEntry{nonce, now})
	return true
}
