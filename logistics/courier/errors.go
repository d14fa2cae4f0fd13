package courier

import "zwfw/apperr"

// Errors returned by the client. Codes are stable; messages are for people.
// Compare with errors.Is: a derived copy (with a cause or details) still
// matches its template. The aggregator's own returnCode and message travel
// in the cause (logged, never shown) and in the detail "courier_code".
var (
	// ErrAlreadyPickedUp: the courier has collected the parcel, so the
	// pickup can no longer be cancelled.
	ErrAlreadyPickedUp = apperr.New(apperr.KindConflict, "COURIER_ALREADY_PICKED_UP", "快递员已揽收，无法取消寄件")
	// ErrForgedPush: a push lacks its signature or the signature does not
	// match the subscription's salt; nothing in it may be used.
	ErrForgedPush = apperr.New(apperr.KindUnauthorized, "COURIER_PUSH_FORGED", "快递推送签名无效")
	// ErrNotTrackingPush: a correctly signed push that carries no tracking
	// result (e.g. an order-status callback of the aggregator); acknowledge it.
	ErrNotTrackingPush = apperr.New(apperr.KindInvalid, "COURIER_PUSH_NOT_TRACKING", "该推送不含物流轨迹")
	// ErrNoTracking: the aggregator has no track for the waybill yet
	// (not collected, or a wrong number). Kuaidi100 returnCode 500 on query.
	ErrNoTracking = apperr.New(apperr.KindNotFound, "COURIER_NO_TRACKING", "暂无物流信息，请稍后再查")
	// ErrPhoneMismatch: the carrier (顺丰) needs the sender's or receiver's
	// phone and the one given does not match. Kuaidi100 returnCode 408.
	ErrPhoneMismatch = apperr.New(apperr.KindInvalid, "COURIER_PHONE_MISMATCH", "手机号与运单不符，无法查询物流信息")
	// ErrOrderNotFound: no pickup order with that reference.
	ErrOrderNotFound = apperr.New(apperr.KindNotFound, "COURIER_ORDER_NOT_FOUND", "未找到该寄件订单")
	// ErrInvalidRequest: the request was refused as malformed (Kuaidi100
	// returnCode 400 or 700-702), or failed the client's own checks.
	ErrInvalidRequest = apperr.New(apperr.KindInvalid, "COURIER_INVALID_REQUEST", "寄件或查询信息有误，请核对后重试")
	// ErrAuthFailed: the aggregator refused zwfw's customer, key, signature
	// or timestamp (503, 600, 601): a configuration or clock problem.
	ErrAuthFailed = apperr.New(apperr.KindUpstream, "COURIER_AUTH_FAILED", "与快递服务的对接认证失败，请稍后再试")
	// ErrUnavailable: the aggregator could not be reached, answered 5xx or
	// reported a server error.
	ErrUnavailable = apperr.New(apperr.KindUnavailable, "COURIER_UNAVAILABLE", "快递服务暂时无法访问，请稍后再试")
	// ErrTimeout: no answer within Config.Timeout.
	ErrTimeout = apperr.New(apperr.KindUnavailable, "COURIER_TIMEOUT", "快递服务响应超时，请稍后再试")
	// ErrBadResponse: the answer was not the aggregator's format.
	ErrBadResponse = apperr.New(apperr.KindUpstream, "COURIER_BAD_RESPONSE", "快递服务返回数据异常，请稍后再试")
	// ErrRejected: the aggregator refused with a code this client does not know.
	ErrRejected = apperr.New(apperr.KindUpstream, "COURIER_REJECTED", "快递服务未能受理该请求")
)
