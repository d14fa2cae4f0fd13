package handlers

import (
	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/platform/workdays"
)

// Calendar serves the admins' holiday overrides (next year's schedule,
// special days) and shows where the official schedule runs out.
type Calendar struct {
	Cal       *workdays.Calendar
	BodyLimit int
}

type overrideRequest struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Official bool   `json:"official"`
}

// PutOverride handles PUT /api/v1/admin/calendar/overrides/:date.
func (h *Calendar) PutOverride(c *fiber.Ctx) error {
	var req overrideRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	d, err := workdays.ParseDate(c.Params("date"))
	if err != nil {
		return err
	}
	o := workdays.Override{Date: d, Kind: workdays.Kind(req.Kind), Name: req.Name, Official: req.Official, UpdatedBy: PrincipalFrom(c).UserID}
	if err := h.Cal.Put(c.UserContext(), o); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"date": d.String(), "kind": req.Kind, "name": req.Name, "official": req.Official, "workday": h.Cal.IsWorkday(d)})
}

// Show handles GET /api/v1/admin/calendar?from=&to=: overrides in the range,
// the last date an official schedule covers, and the years without one.
func (h *Calendar) Show(c *fiber.Ctx) error {
	from, to := workdays.Today(), workdays.Today().AddDays(366)
	var fields []apperr.FieldError
	for _, p := range []struct {
		name string
		dst  *workdays.Date
	}{{"from", &from}, {"to", &to}} {
		if v := c.Query(p.name); v != "" {
			d, err := workdays.ParseDate(v)
			if err != nil {
				fields = append(fields, apperr.Field(p.name, "DATE_INVALID", "日期格式应为 YYYY-MM-DD"))
				continue
			}
			*p.dst = d
		}
	}
	if len(fields) > 0 {
		return apperr.InvalidInput.WithFields(fields...)
	}
	overrides := h.Cal.Overrides(from, to)
	list := make([]fiber.Map, 0, len(overrides))
	for _, o := range overrides {
		list = append(list, fiber.Map{"date": o.Date.String(), "kind": string(o.Kind), "name": o.Name, "official": o.Official})
	}
	gaps := h.Cal.Gaps(from, to)
	if gaps == nil {
		gaps = []int{}
	}
	return c.JSON(fiber.Map{"known_until": h.Cal.KnownUntil().String(), "years_without_schedule": gaps, "overrides": list})
}
