package notify

import (
	"errors"

	"zwfw/apperr"
)

// Coded errors of the reminder engine; derive variants with With*.
var (
	ErrNotFound         = apperr.New(apperr.KindNotFound, "NOTIFICATION_NOT_FOUND", "未找到该消息")
	ErrInvalidSettings  = apperr.New(apperr.KindInvalid, "NOTIFICATION_SETTINGS_INVALID", "消息提醒设置有误")
	ErrUnknownTemplate  = apperr.New(apperr.KindInvalid, "NOTIFICATION_TEMPLATE_UNKNOWN", "订阅消息模板不存在")
	ErrInvalidDevice    = apperr.New(apperr.KindInvalid, "NOTIFICATION_DEVICE_INVALID", "设备注册信息有误")
	ErrInvalidCursor    = apperr.New(apperr.KindInvalid, "NOTIFICATION_CURSOR_INVALID", "分页参数有误")
	ErrInvalidSubscribe = apperr.New(apperr.KindInvalid, "NOTIFICATION_SUBSCRIPTION_INVALID", "订阅结果有误")
)

// Channel errors the senders return; test with errors.Is.
var (
	// ErrNoConsent: WeChat answered 43101, the user has no (remaining)
	// one-time consent for the template. Not retried on this channel.
	ErrNoConsent = errors.New("notify: no subscribe-message consent")
	// ErrNoDevice: the app is no longer installed on the device; the
	// registration is forgotten.
	ErrNoDevice = errors.New("notify: app not installed on the device")
	// ErrTemporary: the channel is down or busy; the same send may succeed
	// later (the dispatcher retries with backoff, then falls back).
	ErrTemporary = errors.New("notify: channel temporarily unavailable")
	// ErrRateLimited: the channel refused because the recipient (or the
	// account) is over its sending limit; the dispatcher falls back.
	ErrRateLimited = errors.New("notify: channel rate limit")
)

// errBusy: another run holds the message's send lease (a job whose lease
// was lost and is being retried); try again once that lease is over.
var errBusy = errors.New("notify: message is being sent by another worker")
