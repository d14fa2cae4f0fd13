package console

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/booking"
	"zwfw/platform/workdays"
)

// HallAdmin is what the hall configuration page needs of booking
// (implemented by *booking.Service), the calls of the API's admin routes.
type HallAdmin interface {
	// HallConfig returns BOOKING_HALL_NOT_FOUND for a hall not configured yet.
	HallConfig(ctx context.Context, hallID string) (*booking.HallConfig, error)
	// PutHallConfig returns BOOKING_CONFIG_INVALID with field errors, or a conflict when the version moved.
	PutHallConfig(ctx context.Context, cfg booking.HallConfig) (*booking.HallConfig, error)
	AddClosure(ctx context.Context, hallID string, cl booking.Closure) (*booking.HallConfig, error)
}

// HallInfo is a hall of the provincial catalog.
type HallInfo struct {
	ID, Name, Address, Phone, Hours string
	Lat, Lng                        float64
}

// HallDirectory lists the catalog's halls (the province's, cached).
type HallDirectory interface {
	Halls(ctx context.Context) ([]HallInfo, error)
}

// Holidays is the official calendar's admin side (implemented by
// *workdays.Calendar): the overrides that make a date a holiday or a
// make-up workday, for slots and time limits alike.
type Holidays interface {
	Overrides(from, to workdays.Date) []workdays.Override
	// Put returns WORKDAYS_OVERRIDE_INVALID with field errors.
	Put(ctx context.Context, o workdays.Override) error
	// Delete returns WORKDAYS_OVERRIDE_NOT_FOUND.
	Delete(ctx context.Context, d workdays.Date) error
	Info(d workdays.Date) workdays.DayInfo
	KnownUntil() workdays.Date
}

type adminHallsBody struct {
	Halls []adminHallLink
	Hall  *hallEditor // the chosen hall's editor (nil: no hall)
}

type adminHallLink struct {
	ID, Name, Link string
	Current        bool
}

// hallEditor is the editor of one hall, as stored or as typed.
type hallEditor struct {
	ID, Name    string
	Version     int64
	Configured  bool
	SlotMinutes string
	SlotError   string
	Windows     []hallWindowRow
	Sessions    []openingRow
	Closures    []hallClosureRow
	// Closure is the new closure's form.
	Closure hallClosureForm
}

type hallWindowRow struct {
	Index                     int
	ID, Name, Items, Capacity string
	Error                     string
}

type openingRow struct {
	Index      int
	Start, End string
	Error      string
}

type hallClosureRow struct{ From, To, Reason string }

type hallClosureForm struct {
	From, To, Reason string
	Errors           map[string]string
}

// blankEditorRows is how many empty window and session rows the editor offers for adding.
const blankEditorRows = 1

// adminHalls handles GET /console/admin/halls?hall=: the catalog's halls
// and the chosen one's editor.
func (c *Console) adminHalls(ctx *fiber.Ctx) error {
	notice := ""
	switch {
	case ctx.Query("saved") != "":
		notice = "已保存大厅配置，新的预约时段即时生效"
	case ctx.Query("closed") != "":
		notice = "已添加闭厅日期：" + ctx.Query("closed")
	}
	body, err := c.adminHallsBody(ctx, ctx.Query("hall"))
	if err != nil {
		return err
	}
	return c.page(ctx, fiber.StatusOK, "admin_halls.html", &pageData{Body: body, Notice: notice})
}

// adminHallsBody lists the halls with the chosen one (the first when none) as stored.
func (c *Console) adminHallsBody(ctx *fiber.Ctx, chosen string) (*adminHallsBody, error) {
	rctx := ctx.UserContext()
	halls, err := c.d.Halls.Halls(rctx)
	if err != nil {
		return nil, err
	}
	body := &adminHallsBody{}
	if chosen == "" && len(halls) > 0 {
		chosen = halls[0].ID
	}
	// Only the chosen hall's configuration is read (one store read a view,
	// not one per hall); its editor says whether it is configured.
	for _, h := range halls {
		l := adminHallLink{ID: h.ID, Name: h.Name, Link: "/console/admin/halls?" + url.Values{"hall": {h.ID}}.Encode(), Current: h.ID == chosen}
		if l.Current {
			cfg, err := c.d.HallAdmin.HallConfig(rctx, h.ID)
			if err != nil && !errors.Is(err, booking.ErrHallNotFound) {
				return nil, err
			}
			body.Hall = hallFormOf(h, cfg)
		}
		body.Halls = append(body.Halls, l)
	}
	return body, nil
}

func hallFormOf(h HallInfo, cfg *booking.HallConfig) *hallEditor {
	f := &hallEditor{ID: h.ID, Name: h.Name, SlotMinutes: strconv.Itoa(booking.DefaultSlotMinutes), Closure: hallClosureForm{Errors: map[string]string{}}}
	sessions := booking.DefaultSessions
	if cfg != nil {
		f.Configured, f.Version, f.SlotMinutes = true, cfg.Version, strconv.Itoa(cfg.SlotMinutes)
		if cfg.Name != "" {
			f.Name = cfg.Name
		}
		if len(cfg.Sessions) > 0 {
			sessions = cfg.Sessions
		}
		for _, w := range cfg.Windows {
			f.Windows = append(f.Windows, hallWindowRow{ID: w.ID, Name: w.Name, Items: strings.Join(w.ItemCodes, " "), Capacity: strconv.Itoa(w.PerSlotCapacity)})
		}
		for _, cl := range cfg.Closures {
			f.Closures = append(f.Closures, hallClosureRow{From: cl.From.String(), To: cl.To.String(), Reason: cl.Reason})
		}
	}
	for _, s := range sessions {
		f.Sessions = append(f.Sessions, openingRow{Start: s.Start, End: s.End})
	}
	f.addBlanks()
	return f
}

// addBlanks numbers the rows and adds the empty ones for new windows and sessions.
func (f *hallEditor) addBlanks() {
	for range blankEditorRows {
		f.Windows = append(f.Windows, hallWindowRow{})
		f.Sessions = append(f.Sessions, openingRow{})
	}
	for i := range f.Windows {
		f.Windows[i].Index = i
	}
	for i := range f.Sessions {
		f.Sessions[i].Index = i
	}
}

// maxEditorRows bounds the rows a posted editor may carry.
const maxEditorRows = 50

// saveHall handles POST /console/admin/halls/:id: the editor's windows,
// sessions and slot length, stored with the version the editor was made
// from (two admins editing at once: the second is told to reload).
func (c *Console) saveHall(ctx *fiber.Ctx) error {
	rctx := ctx.UserContext()
	body, err := c.adminHallsBody(ctx, ctx.Params("id"))
	if err != nil {
		return err
	}
	if body.Hall == nil {
		return ErrPageNotFound
	}
	stored, err := c.d.HallAdmin.HallConfig(rctx, body.Hall.ID)
	if err != nil && !errors.Is(err, booking.ErrHallNotFound) {
		return err
	}
	cfg := booking.HallConfig{ID: body.Hall.ID, Name: body.Hall.Name}
	if stored != nil {
		cfg = *stored // name, address and closures stay as they are
	} else if info, ok := c.hallInfo(ctx, body.Hall.ID); ok {
		cfg.Address, cfg.Phone, cfg.Hours, cfg.Lat, cfg.Lng = info.Address, info.Phone, info.Hours, info.Lat, info.Lng
	}
	cfg.Version, _ = strconv.ParseInt(ctx.FormValue("version"), 10, 64)
	form := &hallEditor{ID: cfg.ID, Name: body.Hall.Name, Version: cfg.Version, Configured: stored != nil,
		SlotMinutes: strings.TrimSpace(ctx.FormValue("slot_minutes")), Closures: body.Hall.Closures, Closure: hallClosureForm{Errors: map[string]string{}}}
	bad := false
	if n, err := strconv.Atoi(form.SlotMinutes); err != nil {
		form.SlotError, bad = "请填写整数分钟数（5 到 240）", true
	} else {
		cfg.SlotMinutes = n
	}
	// Rows left empty are not windows or sessions; rowOf maps the
	// configuration's index back to the form's row for its errors.
	cfg.Windows, cfg.Sessions = nil, nil
	var windowRowOf, sessionRowOf []int
	for i := 0; i < maxEditorRows && ctx.Request().PostArgs().Has(fmt.Sprintf("w%d_id", i)); i++ {
		r := hallWindowRow{Index: i, ID: strings.TrimSpace(ctx.FormValue(fmt.Sprintf("w%d_id", i))), Name: strings.TrimSpace(ctx.FormValue(fmt.Sprintf("w%d_name", i))),
			Items: strings.TrimSpace(ctx.FormValue(fmt.Sprintf("w%d_items", i))), Capacity: strings.TrimSpace(ctx.FormValue(fmt.Sprintf("w%d_capacity", i)))}
		if r.ID == "" && r.Name == "" && r.Items == "" && r.Capacity == "" {
			continue
		}
		if ctx.FormValue(fmt.Sprintf("w%d_remove", i)) != "" {
			continue
		}
		w := booking.Window{ID: r.ID, Name: r.Name, ItemCodes: strings.FieldsFunc(r.Items, func(c rune) bool { return c == ' ' || c == ',' || c == '，' || c == '、' })}
		if n, err := strconv.Atoi(r.Capacity); err != nil {
			r.Error, bad = "每时段可约人数应为整数", true
		} else {
			w.PerSlotCapacity = n
		}
		form.Windows = append(form.Windows, r)
		cfg.Windows = append(cfg.Windows, w)
		windowRowOf = append(windowRowOf, len(form.Windows)-1)
	}
	for i := 0; i < maxEditorRows && ctx.Request().PostArgs().Has(fmt.Sprintf("s%d_start", i)); i++ {
		r := openingRow{Index: i, Start: strings.TrimSpace(ctx.FormValue(fmt.Sprintf("s%d_start", i))), End: strings.TrimSpace(ctx.FormValue(fmt.Sprintf("s%d_end", i)))}
		if r.Start == "" && r.End == "" {
			continue
		}
		form.Sessions = append(form.Sessions, r)
		cfg.Sessions = append(cfg.Sessions, booking.Session{Start: r.Start, End: r.End})
		sessionRowOf = append(sessionRowOf, len(form.Sessions)-1)
	}
	if len(cfg.Sessions) == 0 {
		form.Sessions = append(form.Sessions, openingRow{Error: "请至少填写一个办公时段"})
		bad = true
	}
	problem := "保存失败，请按提示修改后重新保存"
	status := fiber.StatusBadRequest
	if !bad {
		_, err := c.d.HallAdmin.PutHallConfig(rctx, cfg)
		if err == nil {
			return ctx.Redirect("/console/admin/halls?"+url.Values{"hall": {cfg.ID}, "saved": {"1"}}.Encode(), fiber.StatusSeeOther)
		}
		e := apperr.From(err)
		switch {
		case e.Kind == apperr.KindConflict:
			problem, status = "该大厅配置已被其他管理员修改，请刷新页面后重新编辑", fiber.StatusConflict
		case e.Kind != apperr.KindInvalid:
			return err
		}
		for _, fe := range e.Fields {
			switch list, idx, ok := indexedField(fe.Field); {
			case fe.Field == "slot_minutes":
				form.SlotError = fe.Message
			case ok && list == "windows" && idx < len(windowRowOf):
				form.Windows[windowRowOf[idx]].Error = joinMsg(form.Windows[windowRowOf[idx]].Error, fe.Message)
			case ok && list == "sessions" && idx < len(sessionRowOf):
				form.Sessions[sessionRowOf[idx]].Error = joinMsg(form.Sessions[sessionRowOf[idx]].Error, fe.Message)
			default:
				problem += "：" + fe.Message
			}
		}
	}
	for i := range form.Windows {
		form.Windows[i].Index = i
	}
	form.addBlanks()
	body.Hall = form
	return c.page(ctx, status, "admin_halls.html", &pageData{Body: body, Problem: problem})
}

var indexedFieldPattern = regexp.MustCompile(`^(windows|sessions|closures)\[(\d+)\]`)

// indexedField splits "windows[2].id" into "windows" and 2.
func indexedField(f string) (string, int, bool) {
	m := indexedFieldPattern.FindStringSubmatch(f)
	if m == nil {
		return "", 0, false
	}
	i, _ := strconv.Atoi(m[2])
	return m[1], i, true
}

func joinMsg(a, b string) string {
	if a == "" || strings.Contains(a, b) {
		return a + b
	}
	return a + "；" + b
}

func (c *Console) hallInfo(ctx *fiber.Ctx, id string) (HallInfo, bool) {
	halls, err := c.d.Halls.Halls(ctx.UserContext())
	if err != nil {
		return HallInfo{}, false
	}
	for _, h := range halls {
		if h.ID == id {
			return h, true
		}
	}
	return HallInfo{}, false
}

// addClosure handles POST /console/admin/halls/:id/closures: the hall
// closed from one date to another (inclusive), no slots then.
func (c *Console) addClosure(ctx *fiber.Ctx) error {
	body, err := c.adminHallsBody(ctx, ctx.Params("id"))
	if err != nil {
		return err
	}
	if body.Hall == nil {
		return ErrPageNotFound
	}
	f := hallClosureForm{From: strings.TrimSpace(ctx.FormValue("from")), To: strings.TrimSpace(ctx.FormValue("to")),
		Reason: strings.TrimSpace(ctx.FormValue("reason")), Errors: map[string]string{}}
	var cl booking.Closure
	for _, p := range []struct {
		name, v string
		dst     *workdays.Date
	}{{"from", f.From, &cl.From}, {"to", f.To, &cl.To}} {
		d, err := workdays.ParseDate(p.v)
		if err != nil {
			f.Errors[p.name] = "请填写日期，格式为 YYYY-MM-DD"
			continue
		}
		*p.dst = d
	}
	if len(f.Errors) == 0 && cl.To.Before(cl.From) {
		f.Errors["to"] = "结束日期不能早于开始日期"
	}
	if f.Reason == "" {
		f.Errors["reason"] = "请填写闭厅原因，如“场所装修”"
	}
	cl.Reason = f.Reason
	problem, status := "闭厅日期未添加，请按提示修改", fiber.StatusBadRequest
	if len(f.Errors) == 0 {
		_, err := c.d.HallAdmin.AddClosure(ctx.UserContext(), body.Hall.ID, cl)
		if err == nil {
			return ctx.Redirect("/console/admin/halls?"+url.Values{"hall": {body.Hall.ID}, "closed": {cl.From.String() + " 至 " + cl.To.String()}}.Encode(), fiber.StatusSeeOther)
		}
		e := apperr.From(err)
		switch {
		case errors.Is(err, booking.ErrHallNotFound):
			problem, status = "该大厅尚未配置，请先保存窗口和办公时段，再添加闭厅日期", fiber.StatusConflict
		case e.Kind == apperr.KindInvalid:
			for _, fe := range e.Fields {
				if strings.HasPrefix(fe.Field, "closures") {
					f.Errors["to"] = fe.Message
				} else {
					problem += "：" + fe.Message
				}
			}
		default:
			return err
		}
	}
	body.Hall.Closure = f
	return c.page(ctx, status, "admin_halls.html", &pageData{Body: body, Problem: problem})
}

type adminCalendarBody struct {
	Overrides  []adminOverrideRow
	KnownUntil string
	From, To   string
	Form       adminOverrideForm
}

type adminOverrideRow struct {
	Date, Weekday, Kind, KindText, Name string
	Official                            bool
}

type adminOverrideForm struct {
	Date, Kind, Name string
	Official         bool
	Errors           map[string]string
}

var overrideKindText = map[workdays.Kind]string{workdays.KindHoliday: "放假（节假日）", workdays.KindWorkday: "上班（调休）"}

// adminCalendar handles GET /console/admin/calendar: the overrides from a
// month ago to a year ahead, and the form to add one.
func (c *Console) adminCalendar(ctx *fiber.Ctx) error {
	notice := ""
	if d := ctx.Query("saved"); d != "" {
		notice = "已保存 " + d + " 的节假日调整，预约时段和办理时限即时按新日历计算"
	}
	if d := ctx.Query("removed"); d != "" {
		notice = "已删除 " + d + " 的节假日调整"
	}
	return c.calendarPage(ctx, fiber.StatusOK, adminOverrideForm{Kind: string(workdays.KindHoliday), Errors: map[string]string{}}, notice, "")
}

func (c *Console) calendarPage(ctx *fiber.Ctx, status int, f adminOverrideForm, notice, problem string) error {
	today := workdays.DateOf(c.now())
	from, to := today.AddDays(-31), today.AddDays(400)
	body := adminCalendarBody{KnownUntil: c.d.Holidays.KnownUntil().String(), From: from.String(), To: to.String(), Form: f}
	for _, o := range c.d.Holidays.Overrides(from, to) {
		body.Overrides = append(body.Overrides, adminOverrideRow{Date: o.Date.String(), Weekday: weekdays[o.Date.Weekday()], Kind: string(o.Kind),
			KindText: labelOf(overrideKindText, o.Kind), Name: o.Name, Official: o.Official})
	}
	return c.page(ctx, status, "admin_calendar.html", &pageData{Body: body, Notice: notice, Problem: problem})
}

// putOverride handles POST /console/admin/calendar/overrides: one date made
// a holiday or a make-up workday (replacing that date's earlier override).
func (c *Console) putOverride(ctx *fiber.Ctx) error {
	f := adminOverrideForm{Date: strings.TrimSpace(ctx.FormValue("date")), Kind: ctx.FormValue("kind"), Name: strings.TrimSpace(ctx.FormValue("name")),
		Official: ctx.FormValue("official") != "", Errors: map[string]string{}}
	d, err := workdays.ParseDate(f.Date)
	if err != nil {
		f.Errors["date"] = "请填写日期，格式为 YYYY-MM-DD，如 2026-10-01"
	}
	o := workdays.Override{Date: d, Kind: workdays.Kind(f.Kind), Name: f.Name, Official: f.Official, UpdatedBy: stateOf(ctx).user.ID}
	if err := o.Validate(); err != nil {
		for _, fe := range apperr.From(err).Fields {
			if _, seen := f.Errors[fe.Field]; !seen && !(fe.Field == "date" && d.IsZero() && f.Errors["date"] != "") {
				f.Errors[fe.Field] = overrideFieldText(fe)
			}
		}
	}
	if len(f.Errors) > 0 {
		return c.calendarPage(ctx, fiber.StatusBadRequest, f, "", "节假日调整未保存，请按提示修改")
	}
	if err := c.d.Holidays.Put(ctx.UserContext(), o); err != nil {
		e := apperr.From(err)
		if e.Kind != apperr.KindInvalid {
			return err
		}
		for _, fe := range e.Fields {
			f.Errors[fe.Field] = overrideFieldText(fe)
		}
		return c.calendarPage(ctx, fiber.StatusBadRequest, f, "", "节假日调整未保存："+problemText(e))
	}
	return ctx.Redirect("/console/admin/calendar?"+url.Values{"saved": {d.String()}}.Encode(), fiber.StatusSeeOther)
}

// overrideFieldText words the calendar's field errors for the form (its
// kind message names the API's values).
func overrideFieldText(fe apperr.FieldError) string {
	if fe.Field == "kind" {
		return "请选择“放假（节假日）”或“上班（调休）”"
	}
	return fe.Message
}

// deleteOverride handles POST /console/admin/calendar/overrides/:date/delete:
// the date goes back to the official schedule (or its day of the week).
func (c *Console) deleteOverride(ctx *fiber.Ctx) error {
	d, err := workdays.ParseDate(ctx.Params("date"))
	if err != nil {
		return c.calendarPage(ctx, fiber.StatusBadRequest, adminOverrideForm{Kind: string(workdays.KindHoliday), Errors: map[string]string{}}, "", "日期有误")
	}
	if err := c.d.Holidays.Delete(ctx.UserContext(), d); err != nil {
		if errors.Is(err, workdays.ErrOverrideNotFound) {
			return c.calendarPage(ctx, fiber.StatusNotFound, adminOverrideForm{Kind: string(workdays.KindHoliday), Errors: map[string]string{}}, "",
				d.String()+" 没有节假日调整（可能已被删除）")
		}
		return err
	}
	return ctx.Redirect("/console/admin/calendar?"+url.Values{"removed": {d.String()}}.Encode(), fiber.StatusSeeOther)
}
