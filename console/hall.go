package console

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/booking"
	"zwfw/platform/workdays"
)

// hallBody is the hall clerk's screen of today.
type hallBody struct {
	Halls    []hallOption // the halls the clerk works at (a choice when several)
	Hall     hallOption
	Day      string
	Sessions []sessionGroup
	Counts   hallCounts
	// Checked is the booking just checked in (after a scan), if on the list.
	Checked *bookingRow
}

type hallOption struct {
	ID, Name string
	Current  bool
}

type hallCounts struct {
	Booked, CheckedIn, Waiting, Missed, NoShow, Cancelled int
}

// sessionGroup is one opening session of the day (上午, 下午) and its bookings.
type sessionGroup struct {
	Label string
	Rows  []bookingRow
}

// bookingRow is one booking as the clerk sees it: no personal data (the
// citizen is identified by the code they show), so the page needs no audit.
type bookingRow struct {
	ID, Number         string
	Slot               string
	Item, Window       string
	Status, StatusText string
	Queue              int
	CheckedInAt        string
}

var weekdays = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

// hall handles GET /console/hall: today's bookings at the clerk's hall by
// session, with the check-in field.
func (c *Console) hall(ctx *fiber.Ctx) error {
	body, status, err := c.hallDay(ctx)
	if err != nil {
		return err
	}
	d := &pageData{Body: body}
	if status != fiber.StatusOK {
		d.Problem = "您的账号尚未分配服务大厅，请联系管理员分配后再使用取号功能"
	}
	if id := ctx.Query("checked"); id != "" && body != nil {
		for _, g := range body.Sessions {
			for i := range g.Rows {
				if g.Rows[i].ID == id && g.Rows[i].Queue > 0 {
					row := g.Rows[i]
					body.Checked = &row
					d.Notice = fmt.Sprintf("取号成功：预约号 %s，排队号 %d", row.Number, row.Queue)
				}
			}
		}
	}
	return c.page(ctx, status, "hall.html", d)
}

// checkIn handles POST /console/hall/checkin: the code typed or scanned
// (a scanner types it and Enter). Success goes back to the list showing
// the queue number; a refusal shows the list with the reason.
func (c *Console) checkIn(ctx *fiber.Ctx) error {
	st := stateOf(ctx)
	b, err := c.d.Bookings.CheckIn(ctx.UserContext(), st.user.Halls, ctx.FormValue("code"))
	if err != nil {
		e := apperr.From(err)
		if e.Kind == apperr.KindInternal || e.Kind == apperr.KindUnavailable {
			return err
		}
		body, _, derr := c.hallDay(ctx)
		if derr != nil {
			return derr
		}
		return c.page(ctx, e.Kind.HTTPStatus(), "hall.html", &pageData{Body: body, Problem: checkInProblem(e)})
	}
	if c.d.Days != nil {
		c.d.Days.Update(ctx.UserContext(), b)
	}
	q := url.Values{"hall": {b.HallID}, "checked": {b.ID}}
	return ctx.Redirect("/console/hall?"+q.Encode(), fiber.StatusSeeOther)
}

// checkInProblem is the refusal as a clerk reads it.
func checkInProblem(e *apperr.Error) string {
	switch {
	case errors.Is(e, booking.ErrNotFound):
		return "核验码无效：未找到该预约，请核对后重新扫码或输入"
	case errors.Is(e, booking.ErrStateConflict):
		if s, ok := e.Details["status"].(string); ok {
			return "该预约当前状态为「" + booking.Status(s).Label() + "」，不能取号"
		}
	}
	return e.Message
}

// hallDay reads the clerk's hall (the ?hall= one if it is theirs) and its
// bookings of today. A clerk without a hall gets a nil body and 409.
func (c *Console) hallDay(ctx *fiber.Ctx) (*hallBody, int, error) {
	st := stateOf(ctx)
	if len(st.user.Halls) == 0 {
		return nil, fiber.StatusConflict, nil
	}
	hallID := st.user.Halls[0]
	if h := ctx.FormValue("hall", ctx.Query("hall")); h != "" && slices.Contains(st.user.Halls, h) {
		hallID = h
	}
	rctx := ctx.UserContext()
	now := c.now()
	today := workdays.DateOf(now)
	body := &hallBody{Day: today.String() + " " + weekdays[today.Weekday()]}
	var cfg *booking.HallConfig
	for _, id := range st.user.Halls {
		hc, err := c.d.Bookings.HallConfig(rctx, id)
		if errors.Is(err, booking.ErrHallNotFound) {
			// Not configured for booking yet: no bookings, the default hours.
			hc, err = &booking.HallConfig{ID: id, Name: id, Sessions: booking.DefaultSessions}, nil
		}
		if err != nil {
			return nil, 0, err
		}
		o := hallOption{ID: id, Name: hc.Name, Current: id == hallID}
		body.Halls = append(body.Halls, o)
		if o.Current {
			body.Hall, cfg = o, hc
		}
	}
	list, err := c.dayBookings(rctx, hallID, today)
	if err != nil {
		return nil, 0, err
	}
	body.Sessions, body.Counts = c.groupBySession(ctx, cfg, today, list, now)
	return body, fiber.StatusOK, nil
}

// dayBookings is the hall's day, from the day cache when it has it.
func (c *Console) dayBookings(ctx context.Context, hallID string, day workdays.Date) ([]*booking.Booking, error) {
	if c.d.Days != nil {
		if list, ok := c.d.Days.Get(ctx, hallID, day); ok {
			return list, nil
		}
	}
	list, err := c.d.Bookings.HallDay(ctx, hallID, day)
	if err != nil {
		return nil, err
	}
	if c.d.Days != nil {
		c.d.Days.Put(ctx, hallID, day, list)
	}
	return list, nil
}

// groupBySession puts the day's bookings under the hall's sessions (a
// booking outside every session, after a change of hours, goes last).
func (c *Console) groupBySession(ctx *fiber.Ctx, cfg *booking.HallConfig, day workdays.Date, list []*booking.Booking, now time.Time) ([]sessionGroup, hallCounts) {
	sessions := cfg.Sessions
	if len(sessions) == 0 {
		sessions = booking.DefaultSessions
	}
	groups := make([]sessionGroup, len(sessions)+1)
	bounds := make([][2]time.Time, len(sessions))
	for i, s := range sessions {
		groups[i].Label = sessionLabel(s) + " " + s.Start + "–" + s.End
		bounds[i] = [2]time.Time{clockOn(day, s.Start), clockOn(day, s.End)}
	}
	groups[len(sessions)].Label = "其他时段"
	window := map[string]string{}
	for _, w := range cfg.Windows {
		for _, code := range w.ItemCodes {
			if _, ok := window[code]; !ok {
				window[code] = w.Name
			}
		}
	}
	var n hallCounts
	for _, b := range list {
		row := bookingRow{ID: b.ID, Number: b.Number, Item: c.items.name(ctx.UserContext(), b.ItemCode), Window: window[b.ItemCode],
			Slot:   b.SlotStart.In(workdays.Location).Format("15:04") + "–" + b.SlotEnd.In(workdays.Location).Format("15:04"),
			Status: string(b.Status), StatusText: b.Status.Label(), Queue: b.QueueNumber}
		switch b.Status {
		case booking.StatusCheckedIn:
			n.CheckedIn++
			if b.CheckedInAt != nil {
				row.CheckedInAt = b.CheckedInAt.In(workdays.Location).Format("15:04")
			}
		case booking.StatusNoShow:
			n.NoShow++
			row.StatusText = "爽约（已记录）"
		case booking.StatusCancelled:
			n.Cancelled++
		case booking.StatusConfirmed:
			if now.Before(b.SlotEnd) {
				n.Waiting++
				row.StatusText = "待取号"
			} else {
				// Past its slot: the no-show sweep records it shortly.
				n.Missed++
				row.Status, row.StatusText = "missed", "已过时段未取号"
			}
		}
		if b.Status != booking.StatusCancelled {
			n.Booked++
		}
		g := len(sessions)
		for i, bd := range bounds {
			if !b.SlotStart.Before(bd[0]) && b.SlotStart.Before(bd[1]) {
				g = i
				break
			}
		}
		groups[g].Rows = append(groups[g].Rows, row)
	}
	if len(groups[len(sessions)].Rows) == 0 {
		groups = groups[:len(sessions)]
	}
	return groups, n
}

func sessionLabel(s booking.Session) string {
	switch {
	case s.Start < "12:00":
		return "上午"
	case s.Start < "18:00":
		return "下午"
	}
	return "晚间"
}

// clockOn is "HH:MM" on day in Asia/Shanghai.
func clockOn(day workdays.Date, hhmm string) time.Time {
	t, err := time.ParseInLocation("15:04", hhmm, workdays.Location)
	if err != nil {
		return day.Start()
	}
	return day.Start().Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
}
