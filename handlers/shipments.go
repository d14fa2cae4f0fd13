package handlers

import (
	"context"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/cases"
	"zwfw/logistics"
)

// Shipments serves express delivery of a case's materials and results.
type Shipments struct {
	Svc   *logistics.Service
	Cases *cases.Service
	// Ref turns a case into what logistics needs (postage setting from the guide).
	Ref       func(ctx context.Context, c *cases.Case) logistics.CaseRef
	BodyLimit int
}

// TrackEventView is one entry of a shipment's timeline.
type TrackEventView struct {
	At         time.Time `json:"at"`
	State      string    `json:"state,omitempty"`
	StateLabel string    `json:"state_label,omitempty"`
	Context    string    `json:"context"`
	Status     string    `json:"status,omitempty"`
	Source     string    `json:"source"`
}

// ShipmentView is a shipment with its normalized timeline; addresses masked.
type ShipmentView struct {
	ID            string            `json:"id"`
	CaseID        string            `json:"case_id"`
	CaseNumber    string            `json:"case_number,omitempty"`
	Direction     string            `json:"direction"`
	Carrier       string            `json:"carrier,omitempty"`
	WaybillNumber string            `json:"waybill_number,omitempty"`
	State         string            `json:"state"`
	StateLabel    string            `json:"state_label"`
	Sender        logistics.Address `json:"sender"`
	Receiver      logistics.Address `json:"receiver"`
	PickupWindow  *logistics.Window `json:"pickup_window,omitempty"`
	Postage       logistics.Postage `json:"postage"`
	Timeline      []TrackEventView  `json:"timeline"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

func shipmentView(s logistics.Shipment) ShipmentView {
	v := ShipmentView{ID: s.ID, CaseID: s.CaseID, CaseNumber: s.CaseNumber, Direction: string(s.Direction), Carrier: s.Carrier,
		WaybillNumber: s.WaybillNumber, State: string(s.State), StateLabel: s.State.Label(), Sender: s.Sender.Masked,
		Receiver: s.Receiver.Masked, Postage: s.Postage, Timeline: []TrackEventView{},
		CreatedAt: s.CreatedAt.In(Shanghai), UpdatedAt: s.UpdatedAt.In(Shanghai)}
	if w := s.PickupWindow; w != nil {
		v.PickupWindow = &logistics.Window{Start: w.Start.In(Shanghai), End: w.End.In(Shanghai)}
	}
	for _, e := range s.Timeline {
		tv := TrackEventView{At: e.At.In(Shanghai), State: string(e.State), Context: e.Context, Status: e.Status, Source: string(e.Source)}
		if e.State != "" {
			tv.StateLabel = e.State.Label()
		}
		v.Timeline = append(v.Timeline, tv)
	}
	return v
}

// Create handles POST /api/v1/cases/:id/shipments: a courier pickup of the
// case's materials at the applicant's address. Its Idempotency-Key is
// claimed by the middleware before this runs; a second pickup of the case
// under another key is refused by the domain (SHIPMENT_PICKUP_EXISTS).
func (h *Shipments) Create(c *fiber.Ctx) error {
	var req struct {
		Direction    string            `json:"direction"`
		Address      logistics.Address `json:"address"`
		PickupWindow logistics.Window  `json:"pickup_window"`
	}
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	if req.Direction != string(logistics.ToHall) {
		return apperr.InvalidInput.WithFields(apperr.Field("direction", "DIRECTION_INVALID", "只能预约寄送申请材料（to_hall）；办理结果由大厅寄出"))
	}
	user := PrincipalFrom(c).UserID
	cs, err := h.Cases.Get(c.UserContext(), user, c.Params("id"))
	if err != nil {
		return err
	}
	s, err := h.Svc.CreatePickup(c.UserContext(), user, h.Ref(c.UserContext(), cs), req.Address, req.PickupWindow)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(shipmentView(s))
}

// ListForCase handles GET /api/v1/cases/:id/shipments.
func (h *Shipments) ListForCase(c *fiber.Ctx) error {
	cs, err := h.Cases.Get(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"))
	if err != nil {
		return err
	}
	list, err := h.Svc.OfCase(c.UserContext(), cs.ID)
	if err != nil {
		return err
	}
	items := make([]ShipmentView, 0, len(list))
	for _, s := range list {
		items = append(items, shipmentView(s))
	}
	return c.JSON(fiber.Map{"items": items})
}

// Get handles GET /api/v1/shipments/:id.
func (h *Shipments) Get(c *fiber.Ctx) error {
	s, err := h.Svc.Get(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(shipmentView(s))
}

// Cancel handles POST /api/v1/shipments/:id/cancel (before pickup only;
// Idempotency-Key claimed by the middleware).
func (h *Shipments) Cancel(c *fiber.Ctx) error {
	s, err := h.Svc.Cancel(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(shipmentView(s))
}

// Push handles POST /api/v1/callbacks/courier/:carrier: a signed tracking
// push (form field param + sign). The courier's reply body is always sent;
// a refused push gets an error status so the courier retries or alerts.
func (h *Shipments) Push(c *fiber.Ctx) error {
	if len(c.Body()) > h.BodyLimit {
		return apperr.BodyTooLarge
	}
	form, err := url.ParseQuery(string(c.Body()))
	if err != nil {
		return apperr.InvalidInput
	}
	reply, err := h.Svc.HandlePush(c.UserContext(), c.Params("carrier"), form)
	status := fiber.StatusOK
	if err != nil {
		status = apperr.From(err).Kind.HTTPStatus()
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(status).Send(reply)
}
