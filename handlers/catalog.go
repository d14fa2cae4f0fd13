package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/catalog"
	"zwfw/province"
)

// Catalog serves the item search and guides.
type Catalog struct {
	Svc *catalog.Service
}

// ItemPageView is one page of search results.
type ItemPageView struct {
	Items      []province.ItemSummary `json:"items"`
	NextCursor string                 `json:"next_cursor"`
	Stale      bool                   `json:"stale"`
	FetchedAt  time.Time              `json:"fetched_at"`
}

// GuideView is an item's guide with how fresh it is.
type GuideView struct {
	province.Guide
	Stale     bool      `json:"stale"`
	FetchedAt time.Time `json:"fetched_at"`
}

// markStale tells clients (and caches between) that the data came from
// zwfw's copy while the province could not be asked.
func markStale(c *fiber.Ctx, stale bool) {
	if stale {
		c.Set("X-Data-Stale", "true")
	}
}

// Search handles GET /api/v1/items.
func (h *Catalog) Search(c *fiber.Ctx) error {
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := parseInt(v)
		if err != nil {
			return apperr.InvalidInput.WithFields(apperr.Field("limit", "LIMIT_INVALID", "每页条数应为 1-50"))
		}
		limit = n
	}
	page, err := h.Svc.Search(c.UserContext(), catalog.Query{
		Q: c.Query("q"), Audience: c.Query("audience"), Dept: c.Query("dept"), Cursor: c.Query("cursor"), Limit: limit,
	})
	if err != nil {
		return err
	}
	items := page.Items
	if items == nil {
		items = []province.ItemSummary{}
	}
	markStale(c, page.Stale)
	return c.JSON(ItemPageView{Items: items, NextCursor: page.NextPageToken, Stale: page.Stale, FetchedAt: page.FetchedAt.In(Shanghai)})
}

// Guide handles GET /api/v1/items/:code.
func (h *Catalog) Guide(c *fiber.Ctx) error {
	g, err := h.Svc.Guide(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	markStale(c, g.Stale)
	guide := g.Guide
	guide.UpdatedAt = guide.UpdatedAt.In(Shanghai)
	return c.JSON(GuideView{Guide: guide, Stale: g.Stale, FetchedAt: g.FetchedAt.In(Shanghai)})
}

// DepartmentView is a department: its code filters GET /api/v1/items?dept=.
type DepartmentView struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Departments handles GET /api/v1/departments.
func (h *Catalog) Departments(c *fiber.Ctx) error {
	list, err := h.Svc.Departments(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]DepartmentView, 0, len(list.Departments))
	for _, d := range list.Departments {
		out = append(out, DepartmentView{Code: d.Code, Name: d.Name})
	}
	markStale(c, list.Stale)
	return c.JSON(fiber.Map{"departments": out, "stale": list.Stale, "fetched_at": list.FetchedAt.In(Shanghai)})
}

// Halls handles GET /api/v1/halls?item_code=&near=lat,lng.
func (h *Catalog) Halls(c *fiber.Ctx) error {
	halls, err := h.Svc.Halls(c.UserContext(), c.Query("item_code"), c.Query("near"))
	if err != nil {
		return err
	}
	if halls == nil {
		halls = []province.Hall{}
	}
	return c.JSON(fiber.Map{"halls": halls})
}
