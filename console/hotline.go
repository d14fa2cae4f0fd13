package console

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/cases"
	"zwfw/pii"
)

// ErrCaseNotSearched refuses a case the operator's audited search did not find.
var ErrCaseNotSearched = apperr.New(apperr.KindForbidden, "CONSOLE_CASE_NOT_SEARCHED",
	"只能打开本次查询（已登记工单号）找到的办件，请先在 12345 热线查询页查询")

// queryKinds are what an operator searches by, as the form offers them.
var queryKinds = []struct{ Key, Label string }{
	{"phone", "手机号"},
	{"number", "办件编号"},
	{"id_number", "身份证号"},
	{"uscc", "统一社会信用代码"},
}

type hotlineBody struct {
	Ticket, Kind, Value string
	Kinds               []kindOption
	// Searched is set once a search ran; Results may then be empty.
	Searched bool
	// Query is what was searched, masked.
	Query   string
	Results []caseRow
}

type kindOption struct {
	Key, Label string
	Selected   bool
}

// caseRow is one match, masked.
type caseRow struct {
	ID, Number, Item, Dept    string
	Status, StatusText        string
	Applicant, Phone, Company string
	SubmittedAt               string
	// Limit is the time limit in working days ("剩 3 个工作日", "超期 2 个工作日").
	Limit   string
	Overdue bool
}

func (c *Console) operator(ctx *fiber.Ctx) cases.Operator {
	st := stateOf(ctx)
	return cases.Operator{ID: st.user.ID, Name: st.user.Username, IP: ctx.IP()}
}

func kindOptions(selected string) []kindOption {
	out := make([]kindOption, len(queryKinds))
	for i, k := range queryKinds {
		out[i] = kindOption{Key: k.Key, Label: k.Label, Selected: k.Key == selected}
	}
	return out
}

// hotlineForm handles GET /console/hotline: the search form, with the
// ticket of the operator's last search kept (the same call, next query).
func (c *Console) hotlineForm(ctx *fiber.Ctx) error {
	body := hotlineBody{Kind: "phone", Kinds: kindOptions("phone")}
	if h := stateOf(ctx).sess.Hotline; h != nil {
		body.Ticket = h.Ticket
	}
	return c.page(ctx, fiber.StatusOK, "hotline.html", &pageData{Body: body})
}

// hotlineSearch handles POST /console/hotline/search: the API's hotline
// look-up (audited with the ticket before anything is shown), kept in the
// session so that only these cases open. A post, so phone and ID numbers
// never sit in a URL, a browser history or an access log.
func (c *Console) hotlineSearch(ctx *fiber.Ctx) error {
	st := stateOf(ctx)
	ticket := strings.TrimSpace(ctx.FormValue("ticket"))
	kind, value := ctx.FormValue("kind"), strings.TrimSpace(ctx.FormValue("value"))
	body := hotlineBody{Ticket: ticket, Kind: kind, Value: value, Kinds: kindOptions(kind)}
	var q cases.HotlineQuery
	switch kind {
	case "number":
		q.Number = value
	case "phone":
		q.Phone = value
	case "id_number":
		q.IDNumber = value
	case "uscc":
		q.USCC = value
	}
	rctx := ctx.UserContext()
	found, err := c.d.Cases.HotlineLookup(rctx, c.d.Audit, c.operator(ctx), ticket, q)
	if err != nil {
		e := apperr.From(err)
		if e.Kind != apperr.KindInvalid {
			return err
		}
		return c.page(ctx, e.Kind.HTTPStatus(), "hotline.html", &pageData{Body: body, Problem: problemText(e)})
	}
	ids := make([]string, len(found))
	for i, cs := range found {
		ids[i] = cs.ID
	}
	if err := c.d.Sessions.SetHotline(rctx, st.sess.ID, HotlineSearch{Ticket: ticket, CaseIDs: ids}); err != nil {
		return err
	}
	// The query is on screen masked from now on, like everything else.
	body.Searched, body.Value, body.Query = true, "", kindLabel(kind)+" "+maskQuery(kind, value)
	now := c.now()
	for _, cs := range found {
		row := caseRow{ID: cs.ID, Number: cs.CaseNumber, Item: cs.ItemName, Dept: cs.Dept, Status: string(cs.Status),
			StatusText: cs.Status.Label(), Applicant: cs.Applicant.NameMasked, Phone: maskedPhoneOf(cs),
			Company: cs.Applicant.CompanyName, SubmittedAt: formatDateTime(cs.SubmittedAt)}
		if c.d.Calendar != nil {
			tl := cases.TimeLimitOf(cs, c.d.Calendar, now)
			if tl.DueOn != nil && !cs.Status.Final() {
				row.Limit, row.Overdue = limitText(tl), tl.Overdue
			}
		}
		body.Results = append(body.Results, row)
	}
	return c.page(ctx, fiber.StatusOK, "hotline.html", &pageData{Body: body})
}

func kindLabel(kind string) string {
	for _, k := range queryKinds {
		if k.Key == kind {
			return k.Label
		}
	}
	return kind
}

// maskQuery masks a searched value as the audit log keeps it.
func maskQuery(kind, v string) string {
	switch kind {
	case "phone":
		return pii.MaskPhone(pii.NormalizePhone(v))
	case "id_number":
		return pii.MaskIDNumber(pii.NormalizeIDNumber(v))
	}
	return strings.ToUpper(v) // case numbers and USCCs are not personal data
}

// maskedPhoneOf is the applicant's phone, masked: the account's, else the
// contact phone on the form (the one a caller quotes).
func maskedPhoneOf(cs *cases.Case) string {
	if cs.Applicant.PhoneMasked != "" {
		return cs.Applicant.PhoneMasked
	}
	keys := make([]string, 0, len(cs.FormMasked))
	for k := range cs.FormMasked {
		if strings.Contains(k, "phone") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		return cs.FormMasked[keys[0]]
	}
	return ""
}

// limitText says a running time limit in working days.
func limitText(tl cases.TimeLimit) string {
	if tl.Overdue {
		return fmt.Sprintf("超期 %d 个工作日", -tl.DaysLeft)
	}
	return fmt.Sprintf("剩 %d 个工作日", tl.DaysLeft)
}

// problemText is an invalid input's message with its field messages.
func problemText(e *apperr.Error) string {
	msg := e.Message
	for _, f := range e.Fields {
		msg += "：" + f.Message
	}
	return msg
}

// searched returns the ticket of the operator's last search if it found
// caseID, else CONSOLE_CASE_NOT_SEARCHED.
func searched(st *state, caseID string) (string, error) {
	h := st.sess.Hotline
	if h == nil || !slices.Contains(h.CaseIDs, caseID) {
		return "", ErrCaseNotSearched
	}
	return h.Ticket, nil
}

// hotlineCase handles GET /console/hotline/cases/:id: the one view of a
// case the operator's search found, masked; opening it is audited.
func (c *Console) hotlineCase(ctx *fiber.Ctx) error {
	return c.showCase(ctx, fiber.StatusOK, nil, "")
}

// hotlineReveal handles POST /console/hotline/cases/:id/reveal: one field
// in full, with a reason, audited before it is shown.
func (c *Console) hotlineReveal(ctx *fiber.Ctx) error {
	st := stateOf(ctx)
	id := ctx.Params("id")
	ticket, err := searched(st, id)
	if err != nil {
		return err
	}
	field := ctx.FormValue("field")
	value, err := c.d.Cases.Reveal(ctx.UserContext(), c.d.Audit, c.operator(ctx), ticket, id, field, ctx.FormValue("reason"))
	if err != nil {
		e := apperr.From(err)
		if e.Kind != apperr.KindInvalid {
			return err
		}
		return c.showCase(ctx, e.Kind.HTTPStatus(), nil, problemText(e))
	}
	return c.showCase(ctx, fiber.StatusOK, map[string]string{field: value}, "")
}

// showCase renders the case's one view, with revealed fields in full.
func (c *Console) showCase(ctx *fiber.Ctx, status int, revealed map[string]string, problem string) error {
	st := stateOf(ctx)
	id := ctx.Params("id")
	ticket, err := searched(st, id)
	if err != nil {
		return err
	}
	rctx := ctx.UserContext()
	cs, err := c.d.Cases.HotlineCase(rctx, c.d.Audit, c.operator(ctx), ticket, id)
	if err != nil {
		return err
	}
	view, err := c.caseView(rctx, cs, ticket, revealed)
	if err != nil {
		return err
	}
	d := &pageData{Title: "办件 " + cs.CaseNumber, Body: view, Problem: problem}
	if len(revealed) > 0 {
		d.Notice = "已按您填写的理由显示完整信息，本次查看已记录"
	}
	return c.page(ctx, status, "case.html", d)
}
