package console

import "github.com/gofiber/fiber/v2"

// home handles GET /console/: the pages the account's roles open, each
// with what it is for.
func (c *Console) home(ctx *fiber.Ctx) error {
	return c.page(ctx, fiber.StatusOK, "home.html", &pageData{Title: "工作台"})
}
