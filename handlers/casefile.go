package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/booking"
	"zwfw/casefile"
	"zwfw/links"
	"zwfw/logistics"
	"zwfw/notify"
)

// CaseBookingView is a hall visit booked for the case.
type CaseBookingView struct {
	ID          string     `json:"id"`
	Number      string     `json:"number"`
	HallID      string     `json:"hall_id"`
	ItemCode    string     `json:"item_code"`
	SlotStart   time.Time  `json:"slot_start"`
	SlotEnd     time.Time  `json:"slot_end"`
	Status      string     `json:"status"`
	StatusLabel string     `json:"status_label"`
	CheckInCode string     `json:"check_in_code,omitempty"` // the owner's view of a confirmed booking only
	QueueNumber int        `json:"queue_number,omitempty"`
	Link        links.Link `json:"link"`
}

// CasePaymentView is one of the case's fee notices with its receipt.
type CasePaymentView struct {
	PaymentView
	Link links.Link `json:"link"`
}

// ShipmentBrief is a parcel of the case's materials or result, with its
// latest tracking entry (addresses are not shown).
type ShipmentBrief struct {
	ID            string          `json:"id"`
	Direction     string          `json:"direction"`
	Carrier       string          `json:"carrier,omitempty"`
	WaybillNumber string          `json:"waybill_number,omitempty"`
	State         string          `json:"state"`
	StateLabel    string          `json:"state_label"`
	LastEvent     *TrackEventView `json:"last_event,omitempty"`
	UpdatedAt     time.Time       `json:"updated_at"`
	Link          links.Link      `json:"link"`
}

// ReminderView is a reminder sent (or not) about the case, its bookings,
// payments or shipments, with each channel tried.
type ReminderView struct {
	ID        string        `json:"id"`
	Rule      string        `json:"rule"`
	Kind      string        `json:"kind"`
	Title     string        `json:"title"`
	Body      string        `json:"body"`
	State     string        `json:"state"`
	Channel   string        `json:"channel,omitempty"`
	Attempts  []AttemptView `json:"attempts"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// withFile adds the case's file to its view: links in the caller's client
// form, the check-in codes only for the owner.
func (h *Cases) withFile(c *fiber.Ctx, v *CaseView, f *casefile.File, owner bool) {
	self := LinkFor(c, h.Links, links.To(links.Case, f.Case.ID))
	v.Link = &self
	v.Bookings, v.Payments = []CaseBookingView{}, []CasePaymentView{}
	v.Shipments, v.Reminders = []ShipmentBrief{}, []ReminderView{}
	v.Links = CaseLinks{Bookings: []string{}, Payments: []string{}, Shipments: []string{}}
	for _, b := range f.Bookings {
		bv := CaseBookingView{ID: b.ID, Number: b.Number, HallID: b.HallID, ItemCode: b.ItemCode,
			SlotStart: b.SlotStart.In(Shanghai), SlotEnd: b.SlotEnd.In(Shanghai), Status: string(b.Status),
			StatusLabel: b.Status.Label(), QueueNumber: b.QueueNumber, Link: LinkFor(c, h.Links, links.To(links.Booking, b.ID))}
		if owner && b.Status == booking.StatusConfirmed {
			bv.CheckInCode = b.CheckInCode
		}
		v.Bookings = append(v.Bookings, bv)
		v.Links.Bookings = append(v.Links.Bookings, b.ID)
	}
	for _, p := range f.Payments {
		v.Payments = append(v.Payments, CasePaymentView{PaymentView: PaymentViewOf(p), Link: LinkFor(c, h.Links, links.To(links.Payment, p.ID))})
		v.Links.Payments = append(v.Links.Payments, p.ID)
	}
	for _, sh := range f.Shipments {
		v.Shipments = append(v.Shipments, shipmentBrief(c, h.Links, sh))
		v.Links.Shipments = append(v.Links.Shipments, sh.ID)
	}
	for _, m := range f.Reminders {
		v.Reminders = append(v.Reminders, reminderView(m))
	}
}

func shipmentBrief(c *fiber.Ctx, m *links.Maker, sh logistics.Shipment) ShipmentBrief {
	b := ShipmentBrief{ID: sh.ID, Direction: string(sh.Direction), Carrier: sh.Carrier, WaybillNumber: sh.WaybillNumber,
		State: string(sh.State), StateLabel: sh.State.Label(), UpdatedAt: sh.UpdatedAt.In(Shanghai),
		Link: LinkFor(c, m, links.To(links.Shipment, sh.ID))}
	if n := len(sh.Timeline); n > 0 {
		e := sh.Timeline[n-1]
		tv := TrackEventView{At: e.At.In(Shanghai), State: string(e.State), Context: e.Context, Status: e.Status, Source: string(e.Source)}
		if e.State != "" {
			tv.StateLabel = e.State.Label()
		}
		b.LastEvent = &tv
	}
	return b
}

func reminderView(m notify.Message) ReminderView {
	v := ReminderView{ID: m.PublicID, Rule: m.RuleID, Kind: string(m.Kind), Title: m.Title, Body: m.Body, State: string(m.State),
		Channel: string(m.Channel), Attempts: []AttemptView{}, CreatedAt: m.CreatedAt.In(Shanghai), UpdatedAt: m.UpdatedAt.In(Shanghai)}
	for _, a := range m.Attempts { // without the providers' error texts, which are for admins
		v.Attempts = append(v.Attempts, AttemptView{Channel: string(a.Channel), At: a.At.In(Shanghai), Outcome: a.Outcome})
	}
	return v
}
