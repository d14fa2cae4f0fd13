package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Check is one dependency readiness probe. A failing Critical check makes
// the service not ready; a failing non-critical one makes it degraded.
type Check struct {
	Name     string
	Critical bool
	Probe    func(ctx context.Context) error
}

// Health serves /livez and /readyz.
type Health struct {
	Checks []Check
}

// Live handles GET /livez: the process is up and serving.
func (h *Health) Live(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// Ready handles GET /readyz.
func (h *Health) Ready(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	status := "ready"
	checks := map[string]string{}
	for _, chk := range h.Checks {
		if err := chk.Probe(ctx); err != nil {
			checks[chk.Name] = "down"
			if chk.Critical {
				status = "not_ready"
			} else if status == "ready" {
				status = "degraded"
			}
			continue
		}
		checks[chk.Name] = "ok"
	}
	code := fiber.StatusOK
	if status == "not_ready" {
		code = fiber.StatusServiceUnavailable
	}
	return c.Status(code).JSON(fiber.Map{"status": status, "checks": checks})
}
