package handlers

import (
	"github.com/gofiber/fiber/v2"

	"zwfw/links"
)

// HeaderClient is the request header a front end names itself with.
const HeaderClient = "X-Client"

// Keys of the client values on the request.
const (
	// LocalClientOf holds a func(*fiber.Ctx) links.Client that tells the
	// client from the caller's sign-in (set by the composition root).
	LocalClientOf = "client_of"
	localClient   = "client"
)

// ClientFrom is the front end the caller uses: the one it names in
// X-Client, else the one its sign-in implies (the mini-program signs in by
// WeChat, the app by SMS), else H5. It is worked out once per request.
func ClientFrom(c *fiber.Ctx) links.Client {
	if cl, ok := c.Locals(localClient).(links.Client); ok {
		return cl
	}
	cl, ok := links.ParseClient(c.Get(HeaderClient))
	if !ok {
		cl = links.H5
		if of, _ := c.Locals(LocalClientOf).(func(*fiber.Ctx) links.Client); of != nil {
			cl = of(c)
		}
	}
	c.Locals(localClient, cl)
	return cl
}

// LinkFor is ref's link in the caller's client form.
func LinkFor(c *fiber.Ctx, m *links.Maker, ref links.Ref) links.Link {
	return m.Link(ref, ClientFrom(c))
}
