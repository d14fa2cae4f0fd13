package booking

import "zwfw/apperr"

// Errors of the booking package. Each carries a stable code for programs and
// a Simplified Chinese message for people; derive variants with With*.
var (
	ErrNotFound         = apperr.New(apperr.KindNotFound, "BOOKING_NOT_FOUND", "未找到该预约")
	ErrHallNotFound     = apperr.New(apperr.KindNotFound, "BOOKING_HALL_NOT_FOUND", "该大厅暂未开放预约")
	ErrItemNotServed    = apperr.New(apperr.KindInvalid, "BOOKING_ITEM_NOT_SERVED", "该大厅不办理此事项，请选择其他大厅")
	ErrSlotInvalid      = apperr.New(apperr.KindInvalid, "BOOKING_SLOT_INVALID", "所选时段不存在或当天不办公")
	ErrSlotFull         = apperr.New(apperr.KindConflict, "BOOKING_SLOT_FULL", "该时段已约满")
	ErrNotOpen          = apperr.New(apperr.KindConflict, "BOOKING_NOT_OPEN", "该时段尚未开放预约")
	ErrClosed           = apperr.New(apperr.KindConflict, "BOOKING_CLOSED", "该时段已停止预约")
	ErrDuplicateItem    = apperr.New(apperr.KindConflict, "BOOKING_DUPLICATE_ITEM", "您已预约该事项，请勿重复预约")
	ErrTooMany          = apperr.New(apperr.KindConflict, "BOOKING_TOO_MANY", "您的有效预约已达上限，请先办理或取消已有预约")
	ErrBanned           = apperr.New(apperr.KindForbidden, "BOOKING_BANNED", "您近期多次爽约，暂时不能预约")
	ErrRealNameRequired = apperr.New(apperr.KindForbidden, "BOOKING_REALNAME_REQUIRED", "请先完成实名认证后再预约")
	ErrStateConflict    = apperr.New(apperr.KindConflict, "BOOKING_STATE_CONFLICT", "预约当前状态不允许该操作")
	ErrCheckInWrongHall = apperr.New(apperr.KindForbidden, "BOOKING_CHECKIN_WRONG_HALL", "该预约不属于本大厅，不能在此取号")
	ErrCheckInWrongDay  = apperr.New(apperr.KindConflict, "BOOKING_CHECKIN_WRONG_DAY", "只能在预约当天取号")
	ErrInvalidConfig    = apperr.New(apperr.KindInvalid, "BOOKING_HALL_CONFIG_INVALID", "大厅预约配置有误")
)
