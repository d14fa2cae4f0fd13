// Package handlers translates HTTP to the domain services and back: it
// parses and validates requests, calls one service method, and shapes the
// JSON response. No MongoDB, Redis or business rule lives here.
package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
)

// BindJSON decodes the body strictly into dst: it must be JSON, no larger
// than limit, one object, with no unknown fields and every field of the
// declared type. Typed fields also keep MongoDB operators out of queries: a
// body like {"code":{"$ne":""}} fails here as a wrong type.
func BindJSON(c *fiber.Ctx, limit int, dst any) error {
	body := c.Body()
	if len(body) > limit {
		return apperr.BodyTooLarge.WithDetail("limit_bytes", limit)
	}
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	if ct != "" && !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return apperr.UnsupportedMedia
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.MalformedJSON.WithMessage("请求体只能包含一个 JSON 对象")
	}
	return nil
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return apperr.WrongType.WithMessage("请求体必须是 JSON 对象")
		}
		return apperr.WrongType.WithFields(apperr.Field(field, "WRONG_TYPE", "字段类型应为 "+jsonTypeName(typeErr.Type.Kind().String())))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return apperr.MalformedJSON
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.UnknownField.WithFields(apperr.Field(name, "UNKNOWN_FIELD", "不支持的字段"))
	default:
		return apperr.MalformedJSON
	}
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "字符串"
	case "bool":
		return "布尔值"
	case "slice", "array":
		return "数组"
	case "map", "struct":
		return "对象"
	default:
		return "数字"
	}
}
