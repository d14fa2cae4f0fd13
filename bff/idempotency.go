package bff

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/handlers"
	"zwfw/platform/idempotency"
)

// headerIdempotencyKey is the request header of the idempotency mechanism.
const headerIdempotencyKey = "Idempotency-Key"

// idempotent is part of every signed-in route (see signedIn in http.go), so
// no write can be added without it: on an unsafe method with an
// Idempotency-Key, the key (scoped to the user and the route) is claimed
// before the handler runs, and the answer is stored for duplicates. The
// routes where the key is required are read from the OpenAPI document (the
// IdempotencyKey parameter), the one place clients read it too.
func idempotent(store *idempotency.Store, required map[string]bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		switch c.Method() {
		case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
			return c.Next()
		}
		route := c.Method() + " " + c.Route().Path
		key := c.Get(headerIdempotencyKey)
		if key == "" {
			if required[route] {
				return apperr.IdempotencyMissing
			}
			return c.Next()
		}
		p := handlers.PrincipalFrom(c)
		if p == nil { // signedIn puts authentication first; a route without it has nobody to scope to
			return c.Next()
		}
		fp := idempotency.Fingerprint([]byte(c.Method()), []byte(c.Path()), c.Request().URI().QueryString(),
			[]byte(c.Get(fiber.HeaderContentType)), c.Body())
		claim, stored, err := store.Begin(c.UserContext(), p.UserID+":"+route, key, fp)
		if err != nil {
			return err
		}
		if stored != nil {
			return replay(c, stored)
		}
		defer func() {
			// A panic below (recovered further out) must not hold the key for a whole lease.
			if r := recover(); r != nil {
				_ = store.Release(c.UserContext(), claim)
				panic(r)
			}
		}()
		if err := c.Next(); err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = store.Release(c.UserContext(), claim)
				return herr
			}
		}
		status := c.Response().StatusCode()
		if status < 200 || status > 299 {
			// A refusal changed nothing and a failure must be retried: either
			// way the client's retry (same key, perhaps after fixing its
			// input) runs again.
			return releaseOrLog(c, store, claim)
		}
		resp := idempotency.Response{Status: status, ContentType: string(c.Response().Header.ContentType()),
			Body: append([]byte(nil), c.Response().Body()...)}
		if loc := c.Response().Header.Peek(fiber.HeaderLocation); len(loc) > 0 {
			resp.Headers = map[string]string{fiber.HeaderLocation: string(loc)}
		}
		if err := store.Complete(c.UserContext(), claim, resp); err != nil {
			// The work is done; a duplicate will wait out the lease and redo
			// it, which the domain's own guards make harmless.
			return fmt.Errorf("idempotency answer not stored: %w", err)
		}
		return nil
	}
}

func releaseOrLog(c *fiber.Ctx, store *idempotency.Store, claim *idempotency.Claim) error {
	if err := store.Release(c.UserContext(), claim); err != nil {
		return fmt.Errorf("idempotency key not released: %w", err)
	}
	return nil
}

// replay answers a duplicate with the first answer, byte for byte.
func replay(c *fiber.Ctx, r *idempotency.Response) error {
	c.Status(r.Status)
	if r.ContentType != "" {
		c.Set(fiber.HeaderContentType, r.ContentType)
	}
	for k, v := range r.Headers {
		c.Set(k, v)
	}
	c.Set("Idempotent-Replayed", "true")
	return c.Send(r.Body)
}

// idempotencyRequired lists the operations ("POST /api/v1/bookings") whose
// Idempotency-Key parameter the OpenAPI document marks required.
func idempotencyRequired(doc *openapi3.T) map[string]bool {
	out := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		route := openAPIPathToFiber(path)
		for method, op := range item.Operations() {
			for _, ref := range append(item.Parameters, op.Parameters...) {
				if ref.Value != nil && ref.Value.In == openapi3.ParameterInHeader &&
					strings.EqualFold(ref.Value.Name, headerIdempotencyKey) && ref.Value.Required {
					out[strings.ToUpper(method)+" "+route] = true
				}
			}
		}
	}
	return out
}

// openAPIPathToFiber turns "/cases/{id}/submit" into "/cases/:id/submit".
func openAPIPathToFiber(p string) string {
	var b strings.Builder
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			continue
		}
		b.WriteByte('/')
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			b.WriteString(":" + seg[1:len(seg)-1])
		} else {
			b.WriteString(seg)
		}
	}
	return b.String()
}
