package identity

import "zwfw/apperr"

// Errors returned by the identity service. Codes are stable; messages are for people.
var (
	ErrTokenMissing   = apperr.New(apperr.KindUnauthorized, "AUTH_TOKEN_MISSING", "请先登录")
	ErrTokenInvalid   = apperr.New(apperr.KindUnauthorized, "AUTH_TOKEN_INVALID", "登录凭证无效，请重新登录")
	ErrTokenExpired   = apperr.New(apperr.KindUnauthorized, "AUTH_TOKEN_EXPIRED", "登录已过期，请刷新或重新登录")
	ErrSessionRevoked = apperr.New(apperr.KindUnauthorized, "AUTH_SESSION_REVOKED", "登录已退出，请重新登录")
	ErrForbidden      = apperr.New(apperr.KindForbidden, "AUTH_FORBIDDEN", "无权访问该功能")

	ErrRefreshInvalid = apperr.New(apperr.KindUnauthorized, "AUTH_REFRESH_INVALID", "刷新凭证无效，请重新登录")
	ErrRefreshExpired = apperr.New(apperr.KindUnauthorized, "AUTH_REFRESH_EXPIRED", "刷新凭证已过期，请重新登录")
	ErrRefreshReused  = apperr.New(apperr.KindUnauthorized, "AUTH_REFRESH_REUSED", "刷新凭证已被使用，为保护账号安全已退出全部相关登录，请重新登录")

	ErrWeChatCodeInvalid = apperr.New(apperr.KindUnauthorized, "AUTH_WECHAT_CODE_INVALID", "微信登录凭证无效或已使用，请重新进入小程序")
	ErrWeChatUnavailable = apperr.New(apperr.KindUpstream, "AUTH_WECHAT_UNAVAILABLE", "微信登录服务暂不可用，请稍后再试")

	ErrPhoneInvalid      = apperr.New(apperr.KindInvalid, "AUTH_PHONE_INVALID", "请输入正确的11位手机号码")
	ErrSMSTooFrequent    = apperr.New(apperr.KindTooMany, "AUTH_SMS_TOO_FREQUENT", "验证码发送过于频繁，请1分钟后再试")
	ErrSMSDailyLimit     = apperr.New(apperr.KindTooMany, "AUTH_SMS_DAILY_LIMIT", "该手机号今日获取验证码次数已达上限，请明天再试")
	ErrSMSUnavailable    = apperr.New(apperr.KindUpstream, "AUTH_SMS_UNAVAILABLE", "短信发送失败，请稍后再试")
	ErrSMSCodeFormat     = apperr.New(apperr.KindInvalid, "AUTH_SMS_CODE_FORMAT", "验证码为6位数字")
	ErrSMSCodeInvalid    = apperr.New(apperr.KindUnauthorized, "AUTH_SMS_CODE_INVALID", "验证码错误或已失效")
	ErrSMSCodeExpired    = apperr.New(apperr.KindUnauthorized, "AUTH_SMS_CODE_EXPIRED", "验证码已过期，请重新获取")
	ErrSMSCodeExhausted  = apperr.New(apperr.KindTooMany, "AUTH_SMS_CODE_TOO_MANY_TRIES", "验证码错误次数过多，请重新获取")
	ErrStaffCredentials  = apperr.New(apperr.KindUnauthorized, "AUTH_STAFF_INVALID_CREDENTIALS", "用户名或密码错误")
	ErrStaffLocked       = apperr.New(apperr.KindTooMany, "AUTH_STAFF_LOCKED", "密码错误次数过多，账号已临时锁定，请稍后再试")
	ErrStaffUsernameUsed = apperr.New(apperr.KindConflict, "AUTH_STAFF_USERNAME_TAKEN", "该用户名已存在")
	ErrWeakPassword      = apperr.New(apperr.KindInvalid, "AUTH_PASSWORD_WEAK", "密码至少12位，且须包含字母和数字")

	ErrUserNotFound = apperr.New(apperr.KindNotFound, "USER_NOT_FOUND", "用户不存在")

	// Linked logins (one person, several logins).
	ErrLoginNotFound    = apperr.New(apperr.KindNotFound, "LOGIN_NOT_FOUND", "未找到该登录方式")
	ErrLastLogin        = apperr.New(apperr.KindConflict, "LOGIN_LAST_ONE", "至少需要保留一种登录方式")
	ErrLoginInUse       = apperr.New(apperr.KindConflict, "LOGIN_IN_USE", "不能解除本次登录所用的方式，请用其他方式登录后再解除")
	ErrLoginProof       = apperr.New(apperr.KindInvalid, "LOGIN_PROOF_INVALID", "验证未通过，请重新获取验证码或重新授权")
	ErrLinkOtherPerson  = apperr.New(apperr.KindConflict, "LOGIN_LINK_OTHER_PERSON", "该登录方式所属账号已实名认证为另一个人，不能关联")
	ErrLinkNotPublic    = apperr.New(apperr.KindForbidden, "LOGIN_LINK_NOT_ALLOWED", "该账号不能关联手机号或微信")
	ErrMergeInProgress  = apperr.New(apperr.KindConflict, "ACCOUNT_MERGE_IN_PROGRESS", "账号正在合并，请稍后再试")
	ErrPhoneNotMainland = apperr.New(apperr.KindInvalid, "AUTH_PHONE_NOT_MAINLAND", "暂只支持中国大陆手机号")
)
