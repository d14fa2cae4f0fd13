package bff

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"

	"zwfw/handlers"
)

// deprecationNotice is what a deprecated operation says in every answer:
// Deprecation (RFC 9745, the moment it was deprecated) and Sunset (RFC 8594,
// from when it may stop answering), so clients and their logs notice long
// before it goes (docs/api.md).
type deprecationNotice struct {
	deprecation string // "@<unix seconds>"
	sunset      string // an HTTP-date
}

var specParam = regexp.MustCompile(`\{([^}]+)\}`)

// deprecations finds every operation openapi.yaml marks `deprecated: true`;
// each must say when it was deprecated (x-deprecated-at) and when it goes
// (x-sunset), as dates in China time. The result is keyed by method and
// Fiber route path.
func deprecations(doc *openapi3.T) (map[string]deprecationNotice, error) {
	out := map[string]deprecationNotice{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !op.Deprecated {
				continue
			}
			at, err := extensionDate(op, "x-deprecated-at")
			if err != nil {
				return nil, fmt.Errorf("openapi.yaml: %s %s is deprecated: %w", method, path, err)
			}
			sunset, err := extensionDate(op, "x-sunset")
			if err != nil {
				return nil, fmt.Errorf("openapi.yaml: %s %s is deprecated: %w", method, path, err)
			}
			if !sunset.After(at) {
				return nil, fmt.Errorf("openapi.yaml: %s %s: x-sunset %s is not after x-deprecated-at %s",
					method, path, sunset.Format(time.DateOnly), at.Format(time.DateOnly))
			}
			out[method+" "+specParam.ReplaceAllString(path, ":$1")] = deprecationNotice{
				deprecation: "@" + strconv.FormatInt(at.Unix(), 10),
				sunset:      sunset.UTC().Format(http.TimeFormat),
			}
		}
	}
	return out, nil
}

func extensionDate(op *openapi3.Operation, name string) (time.Time, error) {
	v, ok := op.Extensions[name].(string)
	if !ok {
		return time.Time{}, fmt.Errorf("it needs %s: YYYY-MM-DD", name)
	}
	t, err := time.ParseInLocation(time.DateOnly, v, handlers.Shanghai)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not YYYY-MM-DD", name, v)
	}
	return t, nil
}

// deprecationHeaders sets the notice on the answers of deprecated operations,
// errors included. It looks at the route after the handler ran: only then
// does Fiber know which route matched.
func deprecationHeaders(notices map[string]deprecationNotice) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := c.Next()
		if len(notices) == 0 {
			return err
		}
		if n, ok := notices[c.Method()+" "+c.Route().Path]; ok {
			c.Set("Deprecation", n.deprecation)
			c.Set("Sunset", n.sunset)
		}
		return err
	}
}
