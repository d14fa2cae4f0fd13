package payments

import "zwfw/apperr"

// Errors of the payments package: a stable code for programs and a Simplified
// Chinese message for people; derive variants with With*.
var (
	ErrNotFound           = apperr.New(apperr.KindNotFound, "PAYMENT_NOT_FOUND", "未找到该缴费信息")
	ErrCodeInvalid        = apperr.New(apperr.KindInvalid, "PAYMENT_CODE_INVALID", "缴款码格式有误，请核对后重新输入")
	ErrChannelInvalid     = apperr.New(apperr.KindInvalid, "PAYMENT_CHANNEL_INVALID", "不支持该支付方式")
	ErrChannelNeedsOpenID = apperr.New(apperr.KindForbidden, "PAYMENT_WECHAT_LOGIN_REQUIRED", "请在微信小程序中登录后使用微信支付")
	ErrAlreadyPaid        = apperr.New(apperr.KindConflict, "PAYMENT_ALREADY_PAID", "该缴款通知书已缴费，请勿重复缴费")
	ErrNotPayable         = apperr.New(apperr.KindConflict, "PAYMENT_NOT_PAYABLE", "该缴款通知书已撤销或不可缴费")
	ErrBusy               = apperr.New(apperr.KindConflict, "PAYMENT_BUSY", "该缴费正在处理中，请稍后重试")
	ErrChannelUnavailable = apperr.New(apperr.KindUnavailable, "PAYMENT_CHANNEL_UNAVAILABLE", "支付渠道暂时不可用，请稍后重试或更换支付方式")
	ErrTreasuryDown       = apperr.New(apperr.KindUnavailable, "PAYMENT_PLATFORM_UNAVAILABLE", "非税支付平台暂时不可用，请稍后重试")
	ErrNotifyForged       = apperr.New(apperr.KindUnauthorized, "PAYMENT_NOTIFY_SIGNATURE_INVALID", "支付通知签名校验失败")
	ErrNotifyForeign      = apperr.New(apperr.KindForbidden, "PAYMENT_NOTIFY_FOREIGN", "支付通知不属于本商户")
	ErrNotifyUnknown      = apperr.New(apperr.KindNotFound, "PAYMENT_NOTIFY_PROVIDER_UNKNOWN", "未知的支付渠道")
	ErrNotPaid            = apperr.New(apperr.KindConflict, "PAYMENT_NOT_PAID", "该笔缴费尚未支付，不能退费")
	ErrRefundAmount       = apperr.New(apperr.KindInvalid, "PAYMENT_REFUND_AMOUNT_INVALID", "退费金额必须大于零且不超过可退金额")
	ErrRefundReason       = apperr.New(apperr.KindInvalid, "PAYMENT_REFUND_REASON_REQUIRED", "请填写退费原因")
	ErrDateInvalid        = apperr.New(apperr.KindInvalid, "PAYMENT_DATE_INVALID", "日期格式应为 YYYY-MM-DD，且不能晚于今天")
	ErrReportNotFound     = apperr.New(apperr.KindNotFound, "RECONCILIATION_NOT_FOUND", "该日尚未对账")
	ErrBillNotReadyYet    = apperr.New(apperr.KindConflict, "RECONCILIATION_BILL_NOT_READY", "支付渠道当日对账单尚未生成，请稍后再试")
)
