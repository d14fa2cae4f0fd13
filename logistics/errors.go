package logistics

import "zwfw/apperr"

// Errors of the logistics package: a stable code for programs and a
// Simplified Chinese message for people; derive variants with With*.
var (
	// ErrNotFound: no such shipment, or not the caller's (not told apart).
	ErrNotFound = apperr.New(apperr.KindNotFound, "SHIPMENT_NOT_FOUND", "未找到该寄递信息")
	// ErrAddressInvalid lists every bad field of an address (and of the
	// pickup window, when both are wrong) in its Fields.
	ErrAddressInvalid = apperr.New(apperr.KindInvalid, "SHIPMENT_ADDRESS_INVALID", "寄递地址填写有误，请按提示修改")
	// ErrWindowInvalid: the pickup window is not bookable; Message says why.
	ErrWindowInvalid = apperr.New(apperr.KindInvalid, "SHIPMENT_WINDOW_INVALID", "预约取件时间不可用，请重新选择")
	// ErrRequestInvalid: a reference (user, case) is malformed.
	ErrRequestInvalid = apperr.New(apperr.KindInvalid, "SHIPMENT_REQUEST_INVALID", "寄件请求参数有误")
	// ErrAlreadyPickedUp: the courier has collected the parcel; the pickup
	// can no longer be cancelled.
	ErrAlreadyPickedUp = apperr.New(apperr.KindConflict, "SHIPMENT_ALREADY_PICKED_UP", "快递员已揽收，无法取消寄件")
	// ErrStateConflict: the shipment's state does not allow the change, or
	// it kept changing under concurrent writers.
	ErrStateConflict = apperr.New(apperr.KindConflict, "SHIPMENT_STATE_CONFLICT", "寄递当前状态不允许该操作")
	// ErrPickupExists: the case already has a pickup under way (a double
	// tap, or a retry of a request that succeeded); Details.shipment_id
	// names it. A new one can be booked once it ended or was cancelled.
	ErrPickupExists = apperr.New(apperr.KindConflict, "SHIPMENT_PICKUP_EXISTS", "该办件已预约上门取件，请勿重复预约")
	// ErrAlreadyCancelled: the pickup was cancelled before (a double tap,
	// or a retry of a cancel that succeeded).
	ErrAlreadyCancelled = apperr.New(apperr.KindConflict, "SHIPMENT_ALREADY_CANCELLED", "该寄件已取消")
	// ErrPushSignatureInvalid: a courier push failed its signature check;
	// nothing in it was used.
	ErrPushSignatureInvalid = apperr.New(apperr.KindUnauthorized, "SHIPMENT_PUSH_SIGNATURE_INVALID", "快递推送签名校验失败")
	// ErrPushUnknownWaybill: a push names a waybill zwfw does not follow.
	ErrPushUnknownWaybill = apperr.New(apperr.KindNotFound, "SHIPMENT_PUSH_UNKNOWN_WAYBILL", "快递推送的运单不存在")
	// ErrCourierUnavailable: the courier aggregator could not be reached
	// or failed; nothing was changed, try again later.
	ErrCourierUnavailable = apperr.New(apperr.KindUnavailable, "SHIPMENT_COURIER_UNAVAILABLE", "快递服务暂时无法访问，请稍后再试")
)
