package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/booking"
	"zwfw/identity"
	"zwfw/platform/workdays"
)

// Bookings serves appointment booking at service halls.
type Bookings struct {
	Svc       *booking.Service
	Identity  *identity.Service
	BodyLimit int
	// Names gives the hall and item names a booking is shown with (nil: none).
	Names BookingNames
}

// BookingNames gives display names; "" when unknown (a name is never worth
// failing an answer for).
type BookingNames interface {
	ItemName(ctx context.Context, itemCode string) string
	HallName(ctx context.Context, hallID string) string
}

// BookingView is a booking as its owner sees it; CheckInCode is the QR payload.
type BookingView struct {
	ID          string         `json:"id"`
	Number      string         `json:"number"`
	HallID      string         `json:"hall_id"`
	HallName    string         `json:"hall_name,omitempty"`
	ItemCode    string         `json:"item_code"`
	ItemName    string         `json:"item_name,omitempty"`
	CaseID      string         `json:"case_id,omitempty"`
	SlotStart   time.Time      `json:"slot_start"`
	SlotEnd     time.Time      `json:"slot_end"`
	Status      string         `json:"status"`
	StatusLabel string         `json:"status_label"`
	CheckInCode string         `json:"check_in_code,omitempty"`
	QueueNumber int            `json:"queue_number,omitempty"`
	Timeline    []TimelineView `json:"timeline"`
	CreatedAt   time.Time      `json:"created_at"`
}

// view shapes a booking with its hall and item names, looked up once per
// answer (names memoizes them across a list).
func (h *Bookings) view(c *fiber.Ctx, b *booking.Booking, owner bool, names map[string]string) BookingView {
	v := bookingView(b, owner)
	if h.Names == nil {
		return v
	}
	if names == nil {
		names = map[string]string{}
	}
	name := func(key string, look func() string) string {
		n, ok := names[key]
		if !ok {
			n = look()
			names[key] = n
		}
		return n
	}
	ctx := c.UserContext()
	v.HallName = name("hall:"+b.HallID, func() string { return h.Names.HallName(ctx, b.HallID) })
	v.ItemName = name("item:"+b.ItemCode, func() string { return h.Names.ItemName(ctx, b.ItemCode) })
	return v
}

func bookingView(b *booking.Booking, owner bool) BookingView {
	v := BookingView{ID: b.ID, Number: b.Number, HallID: b.HallID, ItemCode: b.ItemCode, CaseID: b.CaseID,
		SlotStart: b.SlotStart.In(Shanghai), SlotEnd: b.SlotEnd.In(Shanghai), Status: string(b.Status),
		StatusLabel: b.Status.Label(), QueueNumber: b.QueueNumber, CreatedAt: b.CreatedAt.In(Shanghai), Timeline: []TimelineView{}}
	if owner && b.Status == booking.StatusConfirmed {
		v.CheckInCode = b.CheckInCode
	}
	for _, e := range b.Timeline {
		v.Timeline = append(v.Timeline, TimelineView{At: e.At.In(Shanghai), Status: string(e.Status), StatusLabel: e.Status.Label(), Actor: e.Actor, Note: e.Note})
	}
	return v
}

// Slots handles GET /api/v1/halls/:id/slots?item_code=&from=&days=.
func (h *Bookings) Slots(c *fiber.Ctx) error {
	from := workdays.Today()
	var fields []apperr.FieldError
	if v := c.Query("from"); v != "" {
		d, err := workdays.ParseDate(v)
		if err != nil {
			fields = append(fields, apperr.Field("from", "DATE_INVALID", "日期格式应为 YYYY-MM-DD"))
		}
		from = d
	}
	days := 7
	if v := c.Query("days"); v != "" {
		n, err := parseInt(v)
		if err != nil || n < 1 || n > 14 {
			fields = append(fields, apperr.Field("days", "DAYS_INVALID", "天数应为 1-14"))
		}
		days = n
	}
	if c.Query("item_code") == "" {
		fields = append(fields, apperr.Field("item_code", "REQUIRED", "请指定办理事项"))
	}
	if len(fields) > 0 {
		return apperr.InvalidInput.WithFields(fields...)
	}
	slots, err := h.Svc.Slots(c.UserContext(), c.Params("id"), c.Query("item_code"), from, days)
	if err != nil {
		return err
	}
	for i := range slots {
		slots[i].Start, slots[i].End = slots[i].Start.In(Shanghai), slots[i].End.In(Shanghai)
	}
	if slots == nil {
		slots = []booking.SlotView{}
	}
	return c.JSON(fiber.Map{"hall_id": c.Params("id"), "item_code": c.Query("item_code"), "slots": slots})
}

type bookRequest struct {
	HallID    string `json:"hall_id"`
	ItemCode  string `json:"item_code"`
	SlotStart string `json:"slot_start"`
	CaseID    string `json:"case_id"`
}

func parseSlotStart(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, apperr.InvalidInput.WithFields(apperr.Field("slot_start", "TIME_INVALID", "时段开始时间应为 RFC 3339 格式，如 2026-11-24T09:00:00+08:00"))
	}
	return t, nil
}

// Book handles POST /api/v1/bookings. Its Idempotency-Key (required) is
// claimed by the route's middleware before this runs.
func (h *Bookings) Book(c *fiber.Ctx) error {
	var req bookRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	start, err := parseSlotStart(req.SlotStart)
	if err != nil {
		return err
	}
	b, err := h.Svc.Book(c.UserContext(), PrincipalFrom(c).UserID, booking.BookRequest{
		HallID: req.HallID, ItemCode: req.ItemCode, SlotStart: start, CaseID: req.CaseID})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(h.view(c, b, true, nil))
}

// List handles GET /api/v1/bookings.
func (h *Bookings) List(c *fiber.Ctx) error {
	list, next, err := h.Svc.List(c.UserContext(), PrincipalFrom(c).UserID, booking.Status(c.Query("status")), c.Query("cursor"))
	if err != nil {
		return err
	}
	items := make([]BookingView, 0, len(list))
	names := map[string]string{}
	for _, b := range list {
		items = append(items, h.view(c, b, true, names))
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

// Get handles GET /api/v1/bookings/:id.
func (h *Bookings) Get(c *fiber.Ctx) error {
	b, err := h.Svc.Get(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(h.view(c, b, true, nil))
}

// Cancel handles POST /api/v1/bookings/:id/cancel.
func (h *Bookings) Cancel(c *fiber.Ctx) error {
	b, err := h.Svc.Cancel(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(h.view(c, b, true, nil))
}

type rescheduleRequest struct {
	SlotStart string `json:"slot_start"`
}

// Reschedule handles POST /api/v1/bookings/:id/reschedule.
func (h *Bookings) Reschedule(c *fiber.Ctx) error {
	var req rescheduleRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	start, err := parseSlotStart(req.SlotStart)
	if err != nil {
		return err
	}
	b, err := h.Svc.Reschedule(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"), start)
	if err != nil {
		return err
	}
	return c.JSON(h.view(c, b, true, nil))
}

type checkInRequest struct {
	Code string `json:"code"`
}

// CheckIn handles POST /api/v1/staff/bookings/checkin: a clerk scans the QR code.
func (h *Bookings) CheckIn(c *fiber.Ctx) error {
	var req checkInRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	staff, err := h.Identity.Me(c.UserContext(), PrincipalFrom(c))
	if err != nil {
		return err
	}
	b, err := h.Svc.CheckIn(c.UserContext(), staff.Halls, req.Code)
	if err != nil {
		return err
	}
	return c.JSON(h.view(c, b, false, nil))
}

// PutHallConfig handles PUT /api/v1/admin/halls/:id/config.
func (h *Bookings) PutHallConfig(c *fiber.Ctx) error {
	var cfg booking.HallConfig
	if err := BindJSON(c, h.BodyLimit, &cfg); err != nil {
		return err
	}
	cfg.ID = c.Params("id")
	out, err := h.Svc.PutHallConfig(c.UserContext(), cfg)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// AddClosure handles POST /api/v1/admin/halls/:id/closures.
func (h *Bookings) AddClosure(c *fiber.Ctx) error {
	var cl booking.Closure
	if err := BindJSON(c, h.BodyLimit, &cl); err != nil {
		return err
	}
	out, err := h.Svc.AddClosure(c.UserContext(), c.Params("id"), cl)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
