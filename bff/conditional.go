package bff

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Cache-Control values of the conditional GETs.
const (
	// cachePrivate: personal data; a phone may keep it but must check it
	// (If-None-Match) before showing it again, and no shared cache may.
	cachePrivate = "private, no-cache"
	// cachePublic: the same for everyone (an item's guide).
	cachePublic = "public, max-age=300"
)

// conditional makes a GET conditional: a 200 answer gets a strong ETag
// (a digest of its bytes) and cacheControl, and a request whose
// If-None-Match names that ETag gets 304 Not Modified with no body, the
// ETag and Cache-Control repeated (RFC 9110 §13.1.2, §15.4.5). The answer
// is still composed: what is saved is the transfer and the phone's
// re-rendering. Personal answers vary by caller and client. (Fiber's etag
// middleware is a CRC-32, checks If-None-Match by substring, and sends 304
// without the ETag, hence these few lines.)
func conditional(cacheControl string) fiber.Handler {
	private := strings.HasPrefix(cacheControl, "private")
	return func(c *fiber.Ctx) error {
		if err := c.Next(); err != nil {
			return err
		}
		if (c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead) || c.Response().StatusCode() != fiber.StatusOK {
			return nil
		}
		etag := string(c.Response().Header.Peek(fiber.HeaderETag)) // the response cache's, computed once
		if etag == "" {
			etag = etagOf(c.Response().Body())
			c.Set(fiber.HeaderETag, etag)
		}
		c.Set(fiber.HeaderCacheControl, cacheControl)
		if private {
			c.Vary(fiber.HeaderAuthorization, "X-Client")
		}
		if noneMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
			c.Context().ResetBody()
			c.Status(fiber.StatusNotModified)
		}
		return nil
	}
}

// noneMatch reports whether an If-None-Match header names etag (by the
// weak comparison the header calls for) or is "*".
func noneMatch(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}
