package handlers

import (
	"github.com/gofiber/fiber/v2"

	"zwfw/identity"
)

// Keys of values the middleware stores on the request.
const (
	LocalRequestID = "request_id"
	LocalPrincipal = "principal"
)

// PrincipalFrom returns the authenticated caller, or nil on public routes.
func PrincipalFrom(c *fiber.Ctx) *identity.Principal {
	p, _ := c.Locals(LocalPrincipal).(*identity.Principal)
	return p
}

// RequestID returns the id of this request.
func RequestID(c *fiber.Ctx) string {
	id, _ := c.Locals(LocalRequestID).(string)
	return id
}
