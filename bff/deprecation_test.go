package bff

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
)

const deprecatedSpec = `openapi: 3.0.3
info: {title: t, version: 1.0.0}
paths:
  /api/v1/old/{id}:
    get:
      operationId: oldGet
      deprecated: true
      x-deprecated-at: '2027-01-01'
      x-sunset: '2027-07-01'
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
    post:
      operationId: oldPost
      responses: {'200': {description: ok}}
  /api/v1/new:
    get:
      operationId: newGet
      responses: {'200': {description: ok}}
`

func loadSpec(t *testing.T, text string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// A deprecated operation says so in every answer, errors too; the others,
// and the same path's other methods, say nothing.
func TestDeprecatedOperationsAnswerWithDeprecationAndSunset(t *testing.T) {
	notices, err := deprecations(loadSpec(t, deprecatedSpec))
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		return c.Status(404).SendString(err.Error())
	}})
	app.Use(deprecationHeaders(notices))
	app.Get("/api/v1/old/:id", func(c *fiber.Ctx) error {
		if c.Params("id") == "missing" {
			return apperr.NotFound
		}
		return c.SendString("old")
	})
	app.Post("/api/v1/old/:id", func(c *fiber.Ctx) error { return c.SendString("posted") })
	app.Get("/api/v1/new", func(c *fiber.Ctx) error { return c.SendString("new") })

	for _, c := range []struct {
		method, path string
		deprecated   bool
	}{
		{"GET", "/api/v1/old/7", true},
		{"GET", "/api/v1/old/missing", true},
		{"POST", "/api/v1/old/7", false},
		{"GET", "/api/v1/new", false},
	} {
		res, err := app.Test(httptest.NewRequest(c.method, c.path, nil))
		if err != nil {
			t.Fatal(err)
		}
		dep, sunset := res.Header.Get("Deprecation"), res.Header.Get("Sunset")
		if !c.deprecated {
			if dep != "" || sunset != "" {
				t.Errorf("%s %s: Deprecation %q, Sunset %q on an operation that is not deprecated", c.method, c.path, dep, sunset)
			}
			continue
		}
		// 2027-01-01 00:00 and 2027-07-01 00:00 China time (UTC+8).
		if dep != "@1798732800" {
			t.Errorf("%s %s: Deprecation = %q, want @1798732800", c.method, c.path, dep)
		}
		if sunset != "Wed, 30 Jun 2027 16:00:00 GMT" {
			t.Errorf("%s %s: Sunset = %q, want Wed, 30 Jun 2027 16:00:00 GMT", c.method, c.path, sunset)
		}
	}
}

func TestADeprecatedOperationNeedsBothDates(t *testing.T) {
	for name, c := range map[string]struct{ from, to, want string }{
		"no sunset":           {"      x-sunset: '2027-07-01'\n", "", "needs x-sunset"},
		"no deprecation date": {"      x-deprecated-at: '2027-01-01'\n", "", "needs x-deprecated-at"},
		"a bad date":          {"'2027-07-01'", "'July 2027'", "is not YYYY-MM-DD"},
		"sunset first":        {"'2027-07-01'", "'2026-07-01'", "is not after"},
	} {
		_, err := deprecations(loadSpec(t, strings.Replace(deprecatedSpec, c.from, c.to, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}

// Whatever the service's own spec deprecates says both dates.
func TestTheSpecsDeprecationsLoad(t *testing.T) {
	doc, err := LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deprecations(doc); err != nil {
		t.Fatal(err)
	}
}
