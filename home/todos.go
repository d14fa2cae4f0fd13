package home

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/links"
	"zwfw/logistics"
	"zwfw/payments"
)

// TodoKind is what the person has to do.
type TodoKind string

// The kinds of to-do, most pressing first when two fall due together.
const (
	TodoSupplement TodoKind = "supplement" // hand in the materials the province asked for (补正)
	TodoPay        TodoKind = "pay"        // pay a fee notice before its due date
	TodoBooking    TodoKind = "booking"    // go to the hall today or tomorrow, with the check-in code
	TodoReceive    TodoKind = "receive"    // a parcel (the case's result) is out for delivery
	TodoEvaluate   TodoKind = "evaluate"   // rate a finished case (好差评)
)

// TodoKinds lists the kinds in their tie-break order (the OpenAPI enum).
var TodoKinds = []TodoKind{TodoSupplement, TodoPay, TodoBooking, TodoReceive, TodoEvaluate}

// Todo is one thing to do, with when it is due and where to do it.
type Todo struct {
	Kind   TodoKind
	Title  string
	Detail string
	DueAt  time.Time
	Link   links.Ref
	// CheckInCode is the booking's QR payload (TodoBooking).
	CheckInCode string
	// AmountFen is the fee (TodoPay).
	AmountFen int64
}

// rank orders to-dos by urgency: the earliest due first, then by kind.
func rank(todos []Todo) {
	slices.SortStableFunc(todos, func(a, b Todo) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return cmp.Compare(slices.Index(TodoKinds, a.Kind), slices.Index(TodoKinds, b.Kind))
	})
}

// caseTodos are the supplements to hand in and the finished cases to rate.
func (s *Service) caseTodos(ctx context.Context, list []*cases.Case, now time.Time) []Todo {
	var out []Todo
	for _, c := range list {
		switch {
		case c.Status == cases.StatusSupplementRequested:
			out = append(out, Todo{Kind: TodoSupplement, Title: "补正材料",
				Detail: fmt.Sprintf("%s：请补正%d项材料", c.ItemName, max(len(c.Supplement), 1)),
				DueAt:  s.supplementDue(c), Link: links.To(links.Case, c.ID)})
		case finished(c) && c.Evaluation == nil:
			done := finishedAt(c)
			if due := done.Add(s.rules.EvaluateWithin); due.After(now) {
				out = append(out, Todo{Kind: TodoEvaluate, Title: "评价服务", Detail: c.ItemName + "已办结，欢迎评价",
					DueAt: due, Link: links.To(links.CaseEvaluate, c.ID)})
			}
		}
	}
	return out
}

// supplementDue is when a supplement is due: SupplementWorkdays working
// days after the province asked for it.
func (s *Service) supplementDue(c *cases.Case) time.Time {
	asked := c.UpdatedAt
	for i := len(c.Timeline) - 1; i >= 0; i-- {
		if c.Timeline[i].Status == cases.StatusSupplementRequested {
			asked = c.Timeline[i].At
			break
		}
	}
	if s.d.Calendar == nil {
		return endOfDay(asked.AddDate(0, 0, s.rules.SupplementWorkdays))
	}
	return endOfDay(s.d.Calendar.AddWorkdays(asked, s.rules.SupplementWorkdays))
}

// finished reports whether the case ended with a decision it can be rated for.
func finished(c *cases.Case) bool {
	return c.Status == cases.StatusCompletedApproved || c.Status == cases.StatusCompletedDenied || c.Status == cases.StatusRejectedAtIntake
}

func finishedAt(c *cases.Case) time.Time {
	if c.CompletedAt != nil {
		return *c.CompletedAt
	}
	if n := len(c.Timeline); n > 0 {
		return c.Timeline[n-1].At
	}
	return c.UpdatedAt
}

// bookingTodos are the confirmed visits of today and tomorrow not over yet.
func (s *Service) bookingTodos(ctx context.Context, list []*booking.Booking, now time.Time) []Todo {
	today := startOfDay(now)
	var out []Todo
	for _, b := range list {
		start := b.SlotStart.In(shanghai)
		if b.Status != booking.StatusConfirmed || !b.SlotEnd.After(now) || !start.Before(today.AddDate(0, 0, 2)) {
			continue
		}
		title := "今日预约"
		if !start.Before(today.AddDate(0, 0, 1)) {
			title = "明日预约"
		}
		detail := start.Format("15:04")
		if n := s.hallName(ctx, b.HallID); n != "" {
			detail += " " + n
		}
		if n := s.itemName(ctx, b.ItemCode); n != "" {
			detail += " " + n
		}
		out = append(out, Todo{Kind: TodoBooking, Title: title, Detail: detail, DueAt: b.SlotStart,
			Link: links.To(links.Booking, b.ID), CheckInCode: b.CheckInCode})
	}
	return out
}

// paymentTodos are the unpaid notices.
func paymentTodos(list []payments.Payment) []Todo {
	var out []Todo
	for _, p := range list {
		if p.Status != payments.StatusUnpaid {
			continue
		}
		out = append(out, Todo{Kind: TodoPay, Title: "待缴费", Detail: fmt.Sprintf("%s ¥%s", p.Agency, p.Amount.Yuan()),
			DueAt: p.DueAt, Link: links.To(links.Payment, p.ID), AmountFen: int64(p.Amount)})
	}
	return out
}

// shipmentTodos are the results out for delivery: to be received today.
func shipmentTodos(list []logistics.Shipment, now time.Time) []Todo {
	var out []Todo
	for _, sh := range list {
		if sh.Direction != logistics.ToApplicant || sh.State != logistics.StateOutForDelivery {
			continue
		}
		detail := "办理结果派送中"
		if sh.WaybillNumber != "" {
			detail += "，运单号" + sh.WaybillNumber
		}
		out = append(out, Todo{Kind: TodoReceive, Title: "签收快递", Detail: detail, DueAt: endOfDay(now),
			Link: links.To(links.Shipment, sh.ID)})
	}
	return out
}

func (s *Service) itemName(ctx context.Context, code string) string {
	if s.d.Names == nil {
		return ""
	}
	return s.d.Names.ItemName(ctx, code)
}

func (s *Service) hallName(ctx context.Context, id string) string {
	if s.d.Names == nil {
		return ""
	}
	return s.d.Names.HallName(ctx, id)
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

func startOfDay(t time.Time) time.Time {
	y, m, d := t.In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, shanghai)
}

// endOfDay is the last second of t's day in Asia/Shanghai.
func endOfDay(t time.Time) time.Time { return startOfDay(t).AddDate(0, 0, 1).Add(-time.Second) }
