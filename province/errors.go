package province

import (
	"net/http"

	"zwfw/apperr"
)

// Errors returned by the client. Codes are stable; messages are for people.
// Compare with errors.Is: a derived copy (with a cause or details) still
// matches its template.
var (
	// ErrUnavailable: the province cannot be reached — its circuit breaker is
	// open, it answered 5xx, or the connection failed. Carries the detail
	// "retry_after" (seconds) when the client knows when to try again.
	ErrUnavailable = apperr.New(apperr.KindUnavailable, "PROVINCE_UNAVAILABLE", "省级政务服务平台暂时无法访问，请稍后再试")
	// ErrTimeout: the province did not answer within the group's timeout.
	ErrTimeout = apperr.New(apperr.KindUnavailable, "PROVINCE_TIMEOUT", "省级政务服务平台响应超时，请稍后再试")
	// ErrBadResponse: the answer was unsigned, badly signed or not the
	// contract's envelope (it could come from a spoofing proxy); nothing in it is used.
	ErrBadResponse = apperr.New(apperr.KindUpstream, "PROVINCE_BAD_RESPONSE", "省级政务服务平台返回数据异常，请稍后再试")
	// ErrAuthFailed: the gateway refused zwfw's signature, app key, timestamp
	// or nonce (GW_* codes): a configuration or clock problem on zwfw's side.
	ErrAuthFailed = apperr.New(apperr.KindUpstream, "PROVINCE_AUTH_FAILED", "与省级政务服务平台的对接认证失败，请稍后再试")
	// ErrRateLimited: the province answered 429.
	ErrRateLimited = apperr.New(apperr.KindTooMany, "PROVINCE_RATE_LIMITED", "省级政务服务平台请求过于频繁，请稍后再试")
	// ErrRejected: the province refused the request with a code this client
	// does not know; the detail "province_code" carries it.
	ErrRejected = apperr.New(apperr.KindUpstream, "PROVINCE_REJECTED", "省级政务服务平台未能受理该请求")
	// ErrInvalidRequest: the province answered 400 with a code this client does not know.
	ErrInvalidRequest = apperr.New(apperr.KindInvalid, "PROVINCE_INVALID_REQUEST", "提交的信息未通过省级政务服务平台校验")
	// ErrConflict: the province answered 409 (e.g. an Idempotency-Key reused
	// for a different request, or a case in a state that forbids the change).
	ErrConflict = apperr.New(apperr.KindConflict, "PROVINCE_CONFLICT", "该业务状态已变化，请刷新后重试")
	// ErrNotFound: the province answered 404 with a code this client does not know.
	ErrNotFound = apperr.New(apperr.KindNotFound, "PROVINCE_NOT_FOUND", "省级政务服务平台未找到相关信息")

	// ErrItemNotFound: no service item with that code (ITEM_NOT_FOUND, 404).
	ErrItemNotFound = apperr.New(apperr.KindNotFound, "ITEM_NOT_FOUND", "未找到该政务服务事项")
	// ErrIDNumberInvalid: a resident ID number is malformed (ID_NUMBER_INVALID, 400).
	ErrIDNumberInvalid = apperr.New(apperr.KindInvalid, "ID_NUMBER_INVALID", "身份证号码格式不正确，请核对后重新输入")
	// ErrUSCCInvalid: a unified social credit code is malformed (USCC_INVALID, 400).
	ErrUSCCInvalid = apperr.New(apperr.KindInvalid, "USCC_INVALID", "统一社会信用代码格式不正确，请核对后重新输入")
	// ErrCompanyNotFound: no company with that USCC (COMPANY_NOT_FOUND, 404).
	ErrCompanyNotFound = apperr.New(apperr.KindNotFound, "COMPANY_NOT_FOUND", "未查询到该企业，请核对统一社会信用代码")
	// ErrLicenseNotFound: no e-licence with that id for that holder (LICENSE_NOT_FOUND, 404).
	ErrLicenseNotFound = apperr.New(apperr.KindNotFound, "PROVINCE_LICENSE_NOT_FOUND", "未找到该电子证照")
	// ErrCaseNotFound: no case with that number (CASE_NOT_FOUND, 404).
	ErrCaseNotFound = apperr.New(apperr.KindNotFound, "PROVINCE_CASE_NOT_FOUND", "省平台未找到该办件")

	// ErrCallbackUnsigned: a callback lacks a signature header or names
	// another app key.
	ErrCallbackUnsigned = apperr.New(apperr.KindUnauthorized, "PROVINCE_CALLBACK_SIGNATURE_MISSING", "回调请求缺少签名")
	// ErrCallbackSignature: a callback's signature does not match.
	ErrCallbackSignature = apperr.New(apperr.KindUnauthorized, "PROVINCE_CALLBACK_SIGNATURE_INVALID", "回调请求签名无效")
	// ErrCallbackSkew: a callback's timestamp is too far from zwfw's clock.
	ErrCallbackSkew = apperr.New(apperr.KindUnauthorized, "PROVINCE_CALLBACK_TIMESTAMP_SKEW", "回调请求时间戳无效")
	// ErrCallbackReplayed: a callback's nonce was already seen (a replay or a
	// duplicate delivery; the first one was processed).
	ErrCallbackReplayed = apperr.New(apperr.KindConflict, "PROVINCE_CALLBACK_NONCE_REPLAYED", "回调请求重复")
)

// provinceCodes maps the province's stable error codes to zwfw's errors.
// Codes not listed fall back on the HTTP status (statusError).
var provinceCodes = map[string]*apperr.Error{
	"ITEM_NOT_FOUND":       ErrItemNotFound,
	"ID_NUMBER_INVALID":    ErrIDNumberInvalid,
	"USCC_INVALID":         ErrUSCCInvalid,
	"COMPANY_NOT_FOUND":    ErrCompanyNotFound,
	"LICENSE_NOT_FOUND":    ErrLicenseNotFound,
	"CASE_NOT_FOUND":       ErrCaseNotFound,
	"GW_APP_KEY_UNKNOWN":   ErrAuthFailed,
	"GW_SIGNATURE_MISSING": ErrAuthFailed,
	"GW_SIGNATURE_INVALID": ErrAuthFailed,
	"GW_TIMESTAMP_SKEW":    ErrAuthFailed,
	"GW_NONCE_REPLAYED":    ErrAuthFailed,
}

// mapProvinceError turns a signed error envelope into a coded error. Known
// codes keep zwfw's own message; for unknown 400/404/409 codes the
// province's Chinese message (meant for people) is shown when present.
func mapProvinceError(status int, code, message string) *apperr.Error {
	if e, ok := provinceCodes[code]; ok {
		return e.WithDetail("province_code", code)
	}
	var e *apperr.Error
	useMessage := false
	switch {
	case status == http.StatusBadRequest:
		e, useMessage = ErrInvalidRequest, true
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e = ErrAuthFailed
	case status == http.StatusNotFound:
		e, useMessage = ErrNotFound, true
	case status == http.StatusConflict:
		e, useMessage = ErrConflict, true
	case status == http.StatusTooManyRequests:
		e = ErrRateLimited
	case status >= 500:
		e = ErrUnavailable
	default:
		e = ErrRejected
	}
	if useMessage && message != "" {
		e = e.WithMessage(message)
	}
	if code != "" {
		e = e.WithDetail("province_code", code)
	}
	return e
}
