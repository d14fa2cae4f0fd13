package bff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
)

// requestValidator enforces openapi.yaml on requests: the required fields,
// enums, types and formats of every operation's path and query parameters
// and JSON body, the same way for every route (kin-openapi's
// openapi3filter). The operations are prepared once, keyed by the route
// they are served on; a request pays for one map look-up, a small
// http.Request and the schema walk.
//
// Not validated here, on purpose:
//   - header parameters: Idempotency-Key belongs to the idempotency
//     mechanism and X-Hotline-Ticket to the audited look-up, each with its
//     own error code;
//   - non-JSON bodies (uploads are checked by the handler as they stream);
//   - callbacks: providers sign their bodies (XML, forms) and expect their
//     own answers; the handler verifies the signature before anything else.
type requestValidator struct {
	jsonLimit int
	ops       map[string]*validatedOp // "POST /api/v1/cases/:id/submit"
	lookup    func(code string) (*apperr.Error, bool)
}

// errorCodeExtension on a schema names the coded error a value failing its
// pattern, enum, format or range is answered with (a phone number the
// client must be told about in the words of identity's AUTH_PHONE_INVALID,
// not a generic REQUEST_INVALID). Codes stay a stable contract.
const errorCodeExtension = "x-error-code"

// validatedOp is one operation, ready to check requests against.
type validatedOp struct {
	route      *routers.Route
	pathParams []string
	opts       *openapi3filter.Options
	jsonBody   bool
}

// validatedKey marks a request already checked (the validator may sit in
// a route's chain twice: see validatedRouter).
const validatedKey = "zwfw.validated"

// newRequestValidator prepares every operation of doc; it fails when an
// x-error-code names a code lookup does not know.
func newRequestValidator(doc *openapi3.T, jsonLimit int, lookup func(code string) (*apperr.Error, bool)) (*requestValidator, error) {
	if err := checkErrorCodes(doc, lookup); err != nil {
		return nil, err
	}
	v := &requestValidator{jsonLimit: jsonLimit, ops: map[string]*validatedOp{}, lookup: lookup}
	for path, item := range doc.Paths.Map() {
		if strings.HasPrefix(path, "/api/v1/callbacks/") {
			continue
		}
		for method, op := range item.Operations() {
			vo := &validatedOp{route: &routers.Route{Spec: doc, Path: path, Method: method,
				PathItem: &openapi3.PathItem{Parameters: withoutHeaders(item.Parameters)}, Operation: withoutHeadersOp(op)}}
			for _, p := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
					vo.pathParams = append(vo.pathParams, p.Value.Name)
				}
			}
			vo.jsonBody = op.RequestBody != nil && op.RequestBody.Value != nil &&
				op.RequestBody.Value.Content.Get(fiber.MIMEApplicationJSON) != nil
			vo.opts = &openapi3filter.Options{
				MultiError: true, SkipSettingDefaults: true, ExcludeRequestBody: !vo.jsonBody,
				AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, // the signed-in gate ran before
			}
			v.ops[method+" "+fiberPath(path)] = vo
		}
	}
	return v, nil
}

// checkErrorCodes finds every x-error-code in doc's request schemas and
// parameters and checks that it is a declared code.
func checkErrorCodes(doc *openapi3.T, lookup func(string) (*apperr.Error, bool)) error {
	var bad []string
	seen := map[*openapi3.Schema]bool{}
	var walk func(s *openapi3.SchemaRef)
	walk = func(s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		seen[s.Value] = true
		if code, ok := s.Value.Extensions[errorCodeExtension].(string); ok {
			if _, known := lookup(code); !known {
				bad = append(bad, code)
			}
		}
		for _, p := range s.Value.Properties {
			walk(p)
		}
		walk(s.Value.Items)
		walk(s.Value.AdditionalProperties.Schema)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				if p.Value != nil {
					walk(p.Value.Schema)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema)
				}
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("openapi.yaml: %s names undeclared codes %s", errorCodeExtension, strings.Join(bad, ", "))
	}
	return nil
}

// fiberPath turns /cases/{id} into /cases/:id.
func fiberPath(openAPIPath string) string {
	segs := strings.Split(openAPIPath, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(segs, "/")
}

// undocumented lists the served routes openapi.yaml does not describe.
func (v *requestValidator) undocumented(routes []fiber.Route) []string {
	var out []string
	for _, r := range routes {
		if r.Method == fiber.MethodHead || r.Method == "USE" || !strings.HasPrefix(r.Path, "/api/v1/") ||
			strings.HasPrefix(r.Path, "/api/v1/callbacks/") {
			continue
		}
		if v.ops[r.Method+" "+r.Path] == nil {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// validate checks the request against the operation of the route it
// matched, once per request.
func (v *requestValidator) validate(c *fiber.Ctx) error {
	r := c.Route()
	if r == nil || c.Locals(validatedKey) != nil {
		return c.Next()
	}
	op := v.ops[r.Method+" "+r.Path]
	if op == nil { // callbacks, HEAD
		return c.Next()
	}
	c.Locals(validatedKey, true)
	req := &http.Request{Method: r.Method, Header: http.Header{},
		URL: &url.URL{Path: c.Path(), RawQuery: string(c.Request().URI().QueryString())}}
	if op.jsonBody {
		body := c.Body()
		if len(body) > v.jsonLimit {
			return apperr.BodyTooLarge.WithDetail("limit_bytes", v.jsonLimit)
		}
		ct := c.Get(fiber.HeaderContentType)
		if ct == "" && len(body) > 0 {
			ct = fiber.MIMEApplicationJSON // phones that omit it are believed, as BindJSON does
		}
		req.Header.Set(fiber.HeaderContentType, ct)
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	params := make(map[string]string, len(op.pathParams))
	for _, name := range op.pathParams {
		params[name] = c.Params(name)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: op.route, Options: op.opts}
	if err := openapi3filter.ValidateRequest(c.UserContext(), in); err != nil {
		return requestError(err, v.lookup)
	}
	return c.Next()
}

func withoutHeaders(ps openapi3.Parameters) openapi3.Parameters {
	var out openapi3.Parameters
	for _, p := range ps {
		if p.Value == nil || p.Value.In != openapi3.ParameterInHeader {
			out = append(out, p)
		}
	}
	return out
}

func withoutHeadersOp(op *openapi3.Operation) *openapi3.Operation {
	cp := *op
	cp.Parameters = withoutHeaders(op.Parameters)
	cp.Security = &openapi3.SecurityRequirements{}
	return &cp
}

// Field error codes of request validation.
const (
	fieldRequired = "REQUIRED"
	fieldType     = "WRONG_TYPE"
	fieldEnum     = "NOT_ALLOWED"
	fieldUnknown  = "UNKNOWN_FIELD"
	fieldInvalid  = "INVALID"
)

// finding is one bad field, with the coded error its schema names (if any).
type finding struct {
	apperr.FieldError
	errCode string
}

// requestError turns kin-openapi's findings into one coded error naming
// every bad field. The code is the one the schema names when every finding
// names the same (x-error-code), the specific one when every finding is of
// one sort (a wrong type, an unknown field), REQUEST_INVALID otherwise.
func requestError(err error, lookup func(string) (*apperr.Error, bool)) error {
	var found []finding
	var whole *apperr.Error // a problem with the body as a whole
	var visit func(err error, re *openapi3filter.RequestError)
	visit = func(err error, re *openapi3filter.RequestError) {
		// Type switches, not errors.As: a RequestError unwraps to what it
		// wraps, and which request part it names must not be lost.
		var serr *openapi3.SchemaError
		var perr *openapi3filter.ParseError
		me, isMulti := err.(openapi3.MultiError)
		rerr, isRequest := err.(*openapi3filter.RequestError)
		switch {
		case isMulti:
			for _, e := range me {
				visit(e, re)
			}
		case isRequest:
			if rerr.Err == nil {
				if rerr.RequestBody != nil && strings.Contains(rerr.Reason, "header Content-Type") {
					whole = apperr.UnsupportedMedia
				} else {
					whole = apperr.InvalidInput
				}
				return
			}
			visit(rerr.Err, rerr)
		case errors.As(err, &serr):
			name := strings.Join(serr.JSONPointer(), ".")
			if re != nil && re.Parameter != nil {
				name = re.Parameter.Name
			}
			found = append(found, schemaFinding(name, serr))
		case errors.Is(err, openapi3filter.ErrInvalidRequired), errors.Is(err, openapi3filter.ErrInvalidEmptyValue):
			if re != nil && re.Parameter != nil {
				found = append(found, finding{FieldError: apperr.Field(re.Parameter.Name, fieldRequired, "必填")})
			} else {
				whole = apperr.MalformedJSON.WithMessage("请求体不能为空")
			}
		case errors.As(err, &perr):
			if re != nil && re.Parameter != nil {
				f := finding{FieldError: apperr.Field(re.Parameter.Name, fieldType, "格式错误")}
				if re.Parameter.Schema != nil && re.Parameter.Schema.Value != nil {
					f.errCode, _ = re.Parameter.Schema.Value.Extensions[errorCodeExtension].(string)
				}
				found = append(found, f)
			} else {
				whole = apperr.MalformedJSON
			}
		default:
			whole = apperr.InvalidInput
		}
	}
	visit(err, nil)
	if whole != nil && len(found) == 0 {
		return whole
	}
	fields := make([]apperr.FieldError, 0, len(found))
	for _, f := range found {
		if f.Field == "" { // the body itself has the wrong type
			return apperr.WrongType.WithMessage("请求体必须是 JSON 对象")
		}
		fields = append(fields, f.FieldError)
	}
	if code := sameErrCode(found); code != "" {
		if e, ok := lookup(code); ok {
			for i := range fields {
				fields[i].Message = e.Message
			}
			return e.WithFields(fields...)
		}
	}
	code := apperr.InvalidInput
	if kind := sameCode(fields); kind == fieldType {
		code = apperr.WrongType
	} else if kind == fieldUnknown {
		code = apperr.UnknownField
	}
	return code.WithFields(fields...)
}

func sameErrCode(found []finding) string {
	for _, f := range found {
		if f.errCode == "" || f.errCode != found[0].errCode {
			return ""
		}
	}
	return found[0].errCode
}

func sameCode(fields []apperr.FieldError) string {
	if len(fields) == 0 {
		return ""
	}
	for _, f := range fields[1:] {
		if f.Code != fields[0].Code {
			return ""
		}
	}
	return fields[0].Code
}

// schemaFinding names what a schema check found, in Chinese for people.
// A value check (not a missing field or a wrong type) carries the code
// its schema names.
func schemaFinding(name string, e *openapi3.SchemaError) finding {
	f := finding{FieldError: schemaField(name, e)}
	if f.Code == fieldInvalid || f.Code == fieldEnum {
		f.errCode, _ = e.Schema.Extensions[errorCodeExtension].(string)
	}
	return f
}

func schemaField(name string, e *openapi3.SchemaError) apperr.FieldError {
	s := e.Schema
	switch e.SchemaField {
	case "required":
		return apperr.Field(name, fieldRequired, "必填")
	case "properties": // additionalProperties: false
		var prop string
		if _, err := fmt.Sscanf(e.Reason, "property %q is unsupported", &prop); err == nil {
			return apperr.Field(joinField(name, prop), fieldUnknown, "不支持的字段")
		}
		return apperr.Field(name, fieldUnknown, "包含不支持的字段")
	case "type", "nullable":
		return apperr.Field(name, fieldType, "字段类型应为 "+typeName(s))
	case "enum":
		var vals []string
		for _, v := range s.Enum {
			vals = append(vals, fmt.Sprint(v))
		}
		return apperr.Field(name, fieldEnum, "取值应为 "+strings.Join(vals, "、")+" 之一")
	case "minLength", "maxLength":
		return apperr.Field(name, fieldInvalid, lengthMessage(s))
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		return apperr.Field(name, fieldInvalid, rangeMessage(s))
	case "minItems", "maxItems":
		return apperr.Field(name, fieldInvalid, "数量超出范围")
	default: // pattern, format
		return apperr.Field(name, fieldInvalid, "格式不正确")
	}
}

func joinField(parent, child string) string {
	if parent == "" {
		return child
	}
	return parent + "." + child
}

func typeName(s *openapi3.Schema) string {
	if s == nil || s.Type == nil {
		return "正确的类型"
	}
	switch {
	case s.Type.Is(openapi3.TypeString):
		return "字符串"
	case s.Type.Is(openapi3.TypeInteger):
		return "整数"
	case s.Type.Is(openapi3.TypeNumber):
		return "数字"
	case s.Type.Is(openapi3.TypeBoolean):
		return "布尔值"
	case s.Type.Is(openapi3.TypeArray):
		return "数组"
	case s.Type.Is(openapi3.TypeObject):
		return "对象"
	}
	return "正确的类型"
}

func lengthMessage(s *openapi3.Schema) string {
	switch {
	case s.MaxLength != nil && s.MinLength > 0:
		return "长度应为 " + strconv.FormatUint(s.MinLength, 10) + "-" + strconv.FormatUint(*s.MaxLength, 10) + " 个字符"
	case s.MaxLength != nil:
		return "长度不能超过 " + strconv.FormatUint(*s.MaxLength, 10) + " 个字符"
	default:
		return "长度不能少于 " + strconv.FormatUint(s.MinLength, 10) + " 个字符"
	}
}

func rangeMessage(s *openapi3.Schema) string {
	switch {
	case s.Min != nil && s.Max != nil:
		return fmt.Sprintf("取值应在 %v 到 %v 之间", *s.Min, *s.Max)
	case s.Max != nil:
		return fmt.Sprintf("取值不能大于 %v", *s.Max)
	case s.Min != nil:
		return fmt.Sprintf("取值不能小于 %v", *s.Min)
	}
	return "取值超出范围"
}

// validatedRouter registers routes with the request validator placed just
// before each route's final handler, so that no route can miss it. Routes
// whose chain checks earlier (signedIn: after authentication and the rate
// limit, before the Idempotency-Key is claimed) are checked there, once.
//
// settle, placed before the validator, counts the rate limits the chain
// noted and has not counted yet (limits.settle), in one round trip.
type validatedRouter struct {
	fiber.Router
	validate fiber.Handler
	settle   fiber.Handler
}

func (r validatedRouter) add(handlers []fiber.Handler) []fiber.Handler {
	if len(handlers) == 0 {
		return handlers
	}
	out := append([]fiber.Handler(nil), handlers[:len(handlers)-1]...)
	if r.settle != nil {
		out = append(out, r.settle)
	}
	return append(out, r.validate, handlers[len(handlers)-1])
}

// Get registers a GET route (Fiber adds HEAD).
func (r validatedRouter) Get(path string, handlers ...fiber.Handler) fiber.Router {
	return r.Router.Get(path, r.add(handlers)...)
}

// Post registers a POST route.
func (r validatedRouter) Post(path string, handlers ...fiber.Handler) fiber.Router {
	return r.Router.Post(path, r.add(handlers)...)
}

// Put registers a PUT route.
func (r validatedRouter) Put(path string, handlers ...fiber.Handler) fiber.Router {
	return r.Router.Put(path, r.add(handlers)...)
}

// Patch registers a PATCH route.
func (r validatedRouter) Patch(path string, handlers ...fiber.Handler) fiber.Router {
	return r.Router.Patch(path, r.add(handlers)...)
}

// Delete registers a DELETE route.
func (r validatedRouter) Delete(path string, handlers ...fiber.Handler) fiber.Router {
	return r.Router.Delete(path, r.add(handlers)...)
}
