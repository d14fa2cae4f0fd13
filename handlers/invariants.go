package handlers

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/platform/invariants"
)

// Invariants serves the admins' data self-check: run it now, or read the
// last report (the daily job runs it too).
type Invariants struct {
	Run    func(ctx context.Context, repair bool) (invariants.Report, error)
	Latest func(ctx context.Context) (invariants.Report, error)
}

// RunNow handles POST /api/v1/admin/invariants/run?repair=true|false
// (default true: fix what can be fixed; false only reports).
func (h *Invariants) RunNow(c *fiber.Ctx) error {
	repair := true
	switch c.Query("repair") {
	case "", "true":
	case "false":
		repair = false
	default:
		return apperr.InvalidInput.WithFields(apperr.Field("repair", "INVALID", "repair 只能为 true 或 false"))
	}
	rep, err := h.Run(c.UserContext(), repair)
	if err != nil {
		return err
	}
	return c.JSON(invariantsView(rep))
}

// Last handles GET /api/v1/admin/invariants: the most recent report.
func (h *Invariants) Last(c *fiber.Ctx) error {
	rep, err := h.Latest(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(invariantsView(rep))
}

func invariantsView(r invariants.Report) invariants.Report {
	r.StartedAt, r.FinishedAt = r.StartedAt.In(Shanghai), r.FinishedAt.In(Shanghai)
	if r.Results == nil {
		r.Results = []invariants.Result{}
	}
	return r
}
