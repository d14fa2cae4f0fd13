package bff

import (
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"zwfw/apperr"
)

// BenchmarkRequestValidation: what checking a JSON body against the
// OpenAPI document costs a request, next to the same route unchecked.
func BenchmarkRequestValidation(b *testing.B) {
	doc, err := LoadOpenAPI()
	if err != nil {
		b.Fatal(err)
	}
	v, err := newRequestValidator(doc, 1<<20, apperr.Lookup)
	if err != nil {
		b.Fatal(err)
	}
	app := fiber.New()
	ok := func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) }
	app.Put("/api/v1/me/notification-settings", v.validate, ok)
	app.Put("/bare", ok)
	h := app.Handler()
	body := []byte(`{"channels":{"booking":["sms","push"],"case":["wechat"]},"quiet_hours":{"enabled":true,"start":"22:00","end":"08:00"}}`)
	for name, path := range map[string]string{"validated": "/api/v1/me/notification-settings", "bare": "/bare"} {
		b.Run(name, func(b *testing.B) {
			var ctx fasthttp.RequestCtx
			for i := 0; i < b.N; i++ {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.ResetUserValues() // the server does this between requests
				ctx.Request.Header.SetMethod("PUT")
				ctx.Request.SetRequestURI(path)
				ctx.Request.Header.SetContentType("application/json")
				ctx.Request.SetBody(body)
				h(&ctx)
				if ctx.Response.StatusCode() != fiber.StatusNoContent {
					b.Fatalf("%s: %d %s", path, ctx.Response.StatusCode(), ctx.Response.Body())
				}
			}
		})
	}
}
