// Package apperr is the one coded error type every zwfw package returns.
//
// An Error carries a stable Code for programs (e.g. "BOOKING_SLOT_FULL"),
// a Message for people in Simplified Chinese, and a Kind that says what sort
// of failure it is. Only the Kind decides the HTTP status, and that mapping
// lives in one table (Kind.HTTPStatus), the way benbjohnson/wtf maps its codes.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind is the class of a failure; it alone decides the HTTP status.
type Kind int

// The kinds of failure. Keep the list short: a new failure usually needs a new
// Code, not a new Kind.
const (
	KindInternal      Kind = iota // a bug or an unexpected driver error; never shown in detail
	KindInvalid                   // the request is malformed or fails validation
	KindUnauthorized              // no, bad or expired credentials
	KindForbidden                 // authenticated but not allowed
	KindNotFound                  // the thing does not exist (or is not the caller's)
	KindConflict                  // the current state does not allow the change
	KindTooLarge                  // the body is over the limit
	KindTooMany                   // a rate or quota limit was hit
	KindUnavailable               // a dependency (outside system, database) is down
	KindUpstream                  // an outside system answered with an error
	KindUnprocessable             // well-formed, but contradicts an earlier request (an Idempotency-Key reused for another body)
)

// HTTPStatus is the single place where a kind of failure becomes an HTTP status.
func (k Kind) HTTPStatus() int {
	switch k {
	case KindInvalid:
		return http.StatusBadRequest
	case KindUnauthorized:
		return http.StatusUnauthorized
	case KindForbidden:
		return http.StatusForbidden
	case KindNotFound:
		return http.StatusNotFound
	case KindConflict:
		return http.StatusConflict
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case KindTooMany:
		return http.StatusTooManyRequests
	case KindUnavailable:
		return http.StatusServiceUnavailable
	case KindUpstream:
		return http.StatusBadGateway
	case KindUnprocessable:
		return http.StatusUnprocessableEntity
	default:
		return http.StatusInternalServerError
	}
}

// FieldError names one invalid input field, for forms that show every problem at once.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is a coded error. Values declared with New are templates: use them
// with errors.Is, and derive request-specific variants with With* methods.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// Fields lists invalid input fields (KindInvalid only).
	Fields []FieldError
	// Details is extra machine-readable data shown to the client (e.g. retry_after).
	Details map[string]any
	// cause is the underlying error, logged but never shown to the client.
	cause error
}

// New declares a coded error. Declare them as package variables: a code is
// registered once, and declaring the same code twice panics when the
// program starts (two unrelated errors with one code would match each
// other under errors.Is, and clients could not tell them apart).
func New(kind Kind, code, message string) *Error {
	e := &Error{Kind: kind, Code: code, Message: message}
	register(e)
	return e
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

// Unwrap exposes the cause for logging and errors.As on driver errors.
func (e *Error) Unwrap() error { return e.cause }

// Is matches two coded errors by code, so a derived copy still matches its template.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code
	}
	return false
}

func (e *Error) clone() *Error {
	c := *e
	if e.Details != nil {
		c.Details = make(map[string]any, len(e.Details))
		for k, v := range e.Details {
			c.Details[k] = v
		}
	}
	c.Fields = append([]FieldError(nil), e.Fields...)
	return &c
}

// WithCause returns a copy that records err as the (hidden) cause.
func (e *Error) WithCause(err error) *Error {
	c := e.clone()
	c.cause = err
	return c
}

// WithMessage returns a copy with a more specific Chinese message.
func (e *Error) WithMessage(msg string) *Error {
	c := e.clone()
	c.Message = msg
	return c
}

// WithDetail returns a copy with one more client-visible detail.
func (e *Error) WithDetail(key string, value any) *Error {
	c := e.clone()
	if c.Details == nil {
		c.Details = map[string]any{}
	}
	c.Details[key] = value
	return c
}

// WithFields returns a copy listing invalid fields.
func (e *Error) WithFields(fields ...FieldError) *Error {
	c := e.clone()
	c.Fields = append(c.Fields, fields...)
	return c
}

// From returns the coded error inside err, or Internal wrapping err.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal.WithCause(err)
}

// KindOf reports the kind of err (KindInternal for uncoded errors).
func KindOf(err error) Kind { return From(err).Kind }

// Errors shared by every package. Domain packages declare their own next to their code.
var (
	Internal    = New(KindInternal, "INTERNAL", "系统繁忙，请稍后再试")
	Unavailable = New(KindUnavailable, "SERVICE_UNAVAILABLE", "服务暂不可用，请稍后再试")
	NotFound    = New(KindNotFound, "NOT_FOUND", "请求的资源不存在")

	// Request-shape errors, raised by the HTTP layer.
	MalformedJSON    = New(KindInvalid, "REQUEST_MALFORMED_JSON", "请求体不是合法的 JSON")
	WrongType        = New(KindInvalid, "REQUEST_WRONG_TYPE", "请求字段类型错误")
	UnknownField     = New(KindInvalid, "REQUEST_UNKNOWN_FIELD", "请求包含未知字段")
	InvalidInput     = New(KindInvalid, "REQUEST_INVALID", "请求参数有误")
	BodyTooLarge     = New(KindTooLarge, "REQUEST_BODY_TOO_LARGE", "请求体过大")
	UnsupportedMedia = New(KindInvalid, "REQUEST_UNSUPPORTED_MEDIA_TYPE", "请使用 application/json 提交")
	MethodNotAllowed = New(KindInvalid, "METHOD_NOT_ALLOWED", "不支持该请求方法")
	RouteNotFound    = New(KindNotFound, "ROUTE_NOT_FOUND", "接口不存在")
	// Idempotency-Key errors: one set for every route (platform/idempotency).
	IdempotencyMissing  = New(KindInvalid, "IDEMPOTENCY_KEY_REQUIRED", "缺少或无效的 Idempotency-Key 请求头（1-128 位字母、数字或 - _ . :，建议使用 UUID）")
	IdempotencyInFlight = New(KindConflict, "IDEMPOTENCY_KEY_IN_USE", "相同请求正在处理中，请稍后重试")
	IdempotencyReused   = New(KindUnprocessable, "IDEMPOTENCY_KEY_REUSED", "该请求编号已用于内容不同的请求，请为新请求生成新的编号")
	RateLimited         = New(KindTooMany, "RATE_LIMITED", "请求过于频繁，请稍后再试")
	Conflict            = New(KindConflict, "STATE_CONFLICT", "数据已被修改，请刷新后重试")

	// RealNameRequired is shared by every domain that needs a verified person,
	// so clients open the verification flow on one code.
	RealNameRequired = New(KindForbidden, "REALNAME_REQUIRED", "请先完成实名认证")
)

// Field builds a FieldError.
func Field(field, code, message string) FieldError {
	return FieldError{Field: field, Code: code, Message: message}
}
