package bff

import (
	"errors"
	"log/slog"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/handlers"
)

// errorBody is the one error envelope of the API.
type errorBody struct {
	Code      string              `json:"code"`
	Message   string              `json:"message"`
	RequestID string              `json:"request_id"`
	Fields    []apperr.FieldError `json:"fields,omitempty"`
	Details   map[string]any      `json:"details,omitempty"`
}

// fiberErrors maps the framework's own errors to coded ones.
func fromFiber(fe *fiber.Error) *apperr.Error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return apperr.RouteNotFound
	case fiber.StatusMethodNotAllowed:
		return apperr.MethodNotAllowed
	case fiber.StatusRequestEntityTooLarge:
		return apperr.BodyTooLarge
	case fiber.StatusUnsupportedMediaType:
		return apperr.UnsupportedMedia
	case fiber.StatusRequestTimeout:
		return apperr.Unavailable.WithMessage("请求超时，请重试")
	case fiber.StatusBadRequest:
		return apperr.InvalidInput
	default:
		if fe.Code >= 500 {
			return apperr.Internal.WithCause(fe)
		}
		return apperr.InvalidInput
	}
}

// errorHandler is the single place where errors become HTTP responses:
// the status comes from the error's kind, the body is the envelope, and
// internal causes go to the log only.
// allowed names the methods a path is served with (the Allow header of a
// 405); nil until the route table is built.
func errorHandler(log *slog.Logger, allowed func(path string) string) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var e *apperr.Error
		var fe *fiber.Error
		switch {
		case errors.As(err, &e):
		case errors.As(err, &fe):
			e = fromFiber(fe)
		default:
			e = apperr.Internal.WithCause(err)
		}
		status := e.Kind.HTTPStatus()
		if errors.Is(e, apperr.MethodNotAllowed) {
			// RFC 9110: 405 names the methods the resource does support.
			status = fiber.StatusMethodNotAllowed
			if allowed != nil {
				c.Set(fiber.HeaderAllow, allowed(c.Path()))
			}
		}
		rid := handlers.RequestID(c)
		if rid == "" {
			// Errors raised before the middleware ran (e.g. body over the server limit).
			rid = newRequestID()
		}
		if status >= 500 {
			log.Error("request failed", "request_id", rid, "code", e.Code, "route", routeLabel(c), "err", err)
		}
		if ra, ok := e.Details["retry_after"].(int); ok && ra > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(ra))
		}
		return c.Status(status).JSON(errorBody{Code: e.Code, Message: e.Message, RequestID: rid, Fields: e.Fields, Details: e.Details})
	}
}
