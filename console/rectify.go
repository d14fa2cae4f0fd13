package console

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/cases"
	"zwfw/platform/workdays"
	"zwfw/rectify"
)

// Rectifications is what the 好差评 pages need of rectify (implemented by
// *rectify.Service): the counts the consumer keeps, the list, and the
// supervisors' changes.
type Rectifications interface {
	Tally(ctx context.Context) (*rectify.Tally, error)
	List(ctx context.Context, state rectify.State, overdue bool, limit int) ([]*rectify.Rectification, error)
	Get(ctx context.Context, id string) (*rectify.Rectification, error)
	Assign(ctx context.Context, id string, by rectify.Staff, owner, dept string) (*rectify.Rectification, error)
	Reply(ctx context.Context, id string, by rectify.Staff, reply string) (*rectify.Rectification, error)
	CallBack(ctx context.Context, id string, by rectify.Staff, in rectify.CallBackInput) (*rectify.Rectification, error)
	Close(ctx context.Context, id string, by rectify.Staff, note string) (*rectify.Rectification, error)
	// MaxLevel is the worst level that is not a 差评.
	MaxLevel() int
}

// listLimit bounds the rectifications listed at once (open first; the
// filters by state find the others): a screen's worth, and the page stays
// light to render.
const listLimit = 50

type evaluationsBody struct {
	Total    int64
	Levels   []levelCount
	MaxLevel int
	Bad      int64 // evaluations at or below MaxLevel
	Depts    []groupCount
	Items    []groupCount
	// ItemsShown says the item table is cut to the most rated items.
	ItemsShown, ItemsAll int
	Filters              []filterLink
	Rows                 []rectRow
	// Cut says the list shows the first Limit only.
	Cut   bool
	Limit int
}

type levelCount struct {
	Level int
	Label string
	Count int64
	Share string // "12.5%"
	Bad   bool
}

// groupCount is one department's or item's evaluations by level.
type groupCount struct {
	Name   string
	Total  int64
	Counts []int64 // levels 5..1
	Bad    int64
	Good   string // share of 满意 and 非常满意
}

type filterLink struct {
	Label, Href string
	Current     bool
}

type rectRow struct {
	ID, CaseNumber, Item, Dept string
	Level                      int
	LevelText                  string
	State, StateText           string
	Owner                      string
	Opened, Due                string
	Overdue                    bool
}

func share(n, total int64) string {
	if total == 0 {
		return "0%"
	}
	return strconv.FormatFloat(float64(n)*100/float64(total), 'f', 1, 64) + "%"
}

func groups(counts map[string]map[string]int64, names map[string]string, maxLevel int) []groupCount {
	out := make([]groupCount, 0, len(counts))
	for key, byLevel := range counts {
		g := groupCount{Name: orText(names[key], key)}
		var good int64
		for l := 5; l >= 1; l-- {
			n := byLevel[strconv.Itoa(l)]
			g.Counts = append(g.Counts, n)
			g.Total += n
			if l <= maxLevel {
				g.Bad += n
			}
			if l >= 4 {
				good += n
			}
		}
		g.Good = share(good, g.Total)
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// evaluations handles GET /console/evaluations: the distribution of
// evaluations by level, department and item (counters kept by the
// evaluation consumer: one document read, whatever the number of cases)
// and the rectifications, open first, overdue in red, filtered by state.
func (c *Console) evaluations(ctx *fiber.Ctx) error {
	rctx := ctx.UserContext()
	t, err := c.d.Rectify.Tally(rctx)
	if err != nil {
		return err
	}
	maxLevel := c.d.Rectify.MaxLevel()
	body := evaluationsBody{MaxLevel: maxLevel}
	for _, n := range t.Levels {
		body.Total += n
	}
	for _, lv := range cases.EvaluationLevels {
		n := t.Levels[strconv.Itoa(lv.Level)]
		body.Levels = append(body.Levels, levelCount{Level: lv.Level, Label: lv.Label, Count: n, Share: share(n, body.Total), Bad: lv.Level <= maxLevel})
		if lv.Level <= maxLevel {
			body.Bad += n
		}
	}
	body.Depts = groups(t.Depts, t.DeptNames, maxLevel)
	body.Items = groups(t.Items, t.ItemNames, maxLevel)
	body.ItemsAll = len(body.Items)
	if len(body.Items) > 30 {
		body.Items = body.Items[:30]
	}
	body.ItemsShown = len(body.Items)

	state, overdue := rectify.State(ctx.Query("state")), ctx.Query("state") == "overdue"
	if overdue || !slices.Contains(rectify.States, state) {
		state = ""
	}
	current := ctx.Query("state")
	body.Filters = append(body.Filters, filterLink{Label: "全部", Href: "/console/evaluations#rectifications", Current: current == ""})
	for _, s := range rectify.States {
		body.Filters = append(body.Filters, filterLink{Label: s.Label(), Href: "/console/evaluations?state=" + string(s) + "#rectifications", Current: current == string(s)})
	}
	body.Filters = append(body.Filters, filterLink{Label: "已超期", Href: "/console/evaluations?state=overdue#rectifications", Current: overdue})
	list, err := c.d.Rectify.List(rctx, state, overdue, listLimit)
	if err != nil {
		return err
	}
	body.Cut, body.Limit = len(list) >= listLimit, listLimit
	now := c.now()
	for _, r := range list {
		row := rectRow{ID: r.ID, CaseNumber: r.CaseNumber, Item: r.ItemName, Dept: r.Dept, Level: r.Evaluation.Level,
			LevelText: evaluationLabel(r.Evaluation.Level), State: string(r.State), StateText: r.State.Label(),
			Opened: formatDateTime(r.OpenedAt), Due: r.DueOn.In(workdays.Location).Format("2006-01-02"), Overdue: r.Overdue(now)}
		if r.Owner != nil {
			row.Owner = r.Owner.Name
		}
		body.Rows = append(body.Rows, row)
	}
	return c.page(ctx, fiber.StatusOK, "evaluations.html", &pageData{Body: body})
}

type rectificationBody struct {
	ID, Ticket                     string
	State, StateText               string
	Overdue, Closed                bool
	Opened, Due, ClosedAt          string
	Case                           rectCase
	Level                          int
	LevelText, Reasons, Comment    string
	EvaluatedAt                    string
	Owner, OwnerDept, AssignedBy   string
	OwnerValue, OwnerDeptValue     string // the form's values
	Replies                        []rectLine
	CallBacks                      []callBackLine
	History                        []rectLine
	Outcomes                       []kindOption
	CanReply, CanCallBack, CanDone bool
}

// rectCase is the case's summary, personal data masked.
type rectCase struct {
	ID, Number, Item, Dept string
	StatusText             string
	SubmittedAt, Completed string
	Applicant, Phone       string
}

type rectLine struct{ At, By, What, Note string }

type callBackLine struct {
	CalledAt, Caller, Outcome, Note, By string
	Bad                                 bool
}

// rectification handles GET /console/rectifications/:id. The case's
// summary shows personal data masked, and the opening is written to the
// audit log (the hotline's "open" entry, with the rectification as its ticket).
func (c *Console) rectification(ctx *fiber.Ctx) error {
	d, err := c.rectificationPage(ctx)
	if err != nil {
		return err
	}
	switch ctx.Query("done") {
	case "assign":
		d.Notice = "已指定整改责任人"
	case "reply":
		d.Notice = "答复已记录，并已通过站内信发送给群众"
	case "callback":
		d.Notice = "回访结果已登记"
	case "close":
		d.Notice = "整改已办结"
	}
	return c.page(ctx, fiber.StatusOK, "rectification.html", d)
}

// ticketOf is the audit log's ticket of a rectification's openings.
func ticketOf(r *rectify.Rectification) string {
	return "ZG-" + strings.TrimPrefix(r.CaseID, "c_")
}

func (c *Console) rectificationPage(ctx *fiber.Ctx) (*pageData, error) {
	rctx := ctx.UserContext()
	r, err := c.d.Rectify.Get(rctx, ctx.Params("id"))
	if err != nil {
		return nil, err
	}
	cs, err := c.d.Cases.HotlineCase(rctx, c.d.Audit, c.operator(ctx), ticketOf(r), r.CaseID)
	if err != nil {
		return nil, err
	}
	now := c.now()
	b := &rectificationBody{ID: r.ID, Ticket: ticketOf(r), State: string(r.State), StateText: r.State.Label(),
		Overdue: r.Overdue(now), Closed: r.State == rectify.StateClosed,
		Opened: formatDateTime(r.OpenedAt), Due: r.DueOn.In(workdays.Location).Format("2006-01-02"), ClosedAt: formatDateTime(r.ClosedAt),
		Case: rectCase{ID: cs.ID, Number: cs.CaseNumber, Item: cs.ItemName, Dept: cs.Dept, StatusText: cs.Status.Label(),
			SubmittedAt: formatDateTime(cs.SubmittedAt), Completed: formatDateTime(cs.CompletedAt),
			Applicant: cs.Applicant.NameMasked, Phone: maskedPhoneOf(cs)},
		Level: r.Evaluation.Level, LevelText: evaluationLabel(r.Evaluation.Level), Comment: r.Evaluation.Comment,
		EvaluatedAt: formatDateTime(r.Evaluation.At),
		CanReply:    r.State != rectify.StateClosed && r.Owner != nil,
		CanCallBack: r.State == rectify.StateReplied || r.State == rectify.StateCalledBack,
		CanDone:     r.State != rectify.StateClosed}
	b.Reasons = strings.Join(reasonWords(r.Evaluation.Reasons), "、")
	if o := r.Owner; o != nil {
		b.Owner, b.OwnerDept, b.AssignedBy = o.Name, o.Dept, o.AssignedBy.Name+" "+formatDateTime(o.At)
		b.OwnerValue, b.OwnerDeptValue = o.Name, o.Dept
	}
	for _, rp := range r.Replies {
		b.Replies = append(b.Replies, rectLine{At: formatDateTime(rp.At), By: rp.By.Name, Note: rp.Text})
	}
	for _, cb := range r.CallBacks {
		b.CallBacks = append(b.CallBacks, callBackLine{CalledAt: formatDateTime(cb.CalledAt), Caller: cb.Caller,
			Outcome: cb.Outcome.Label(), Note: cb.Note, By: cb.By.Name, Bad: cb.Outcome != rectify.OutcomeSatisfied})
	}
	for i := len(r.History) - 1; i >= 0; i-- { // newest first
		h := r.History[i]
		b.History = append(b.History, rectLine{At: formatDateTime(h.At), By: h.By.Name, What: h.Action.Label() + " → " + h.State.Label(), Note: h.Note})
	}
	for _, o := range rectify.Outcomes {
		b.Outcomes = append(b.Outcomes, kindOption{Key: string(o), Label: o.Label()})
	}
	return &pageData{Title: "差评整改 · " + r.CaseNumber, Body: b}, nil
}

// reasonWords are reason codes in words.
func reasonWords(codes []string) []string {
	words := map[string]string{}
	for _, l := range cases.EvaluationLevels {
		for _, r := range l.Reasons {
			words[r.Code] = r.Label
		}
	}
	out := make([]string, len(codes))
	for i, code := range codes {
		out[i] = orText(words[code], code)
	}
	return out
}

func (c *Console) staffOf(ctx *fiber.Ctx) rectify.Staff {
	u := stateOf(ctx).user
	return rectify.Staff{ID: u.ID, Name: orText(u.DisplayName, u.Username)}
}

// rectifyPost runs one supervisor change and shows the page again: after
// a success by a redirect (a reload does not post twice), after a refusal
// with the reason (a 409 for a state that does not allow it).
func (c *Console) rectifyPost(done string, change func(ctx *fiber.Ctx, id string, by rectify.Staff) error) fiber.Handler {
	return func(ctx *fiber.Ctx) error {
		id := ctx.Params("id")
		err := change(ctx, id, c.staffOf(ctx))
		if err == nil {
			return ctx.Redirect("/console/rectifications/"+url.PathEscape(id)+"?done="+done, fiber.StatusSeeOther)
		}
		e := apperr.From(err)
		if e.Kind != apperr.KindInvalid && e.Kind != apperr.KindConflict {
			return err
		}
		d, perr := c.rectificationPage(ctx)
		if perr != nil {
			return perr
		}
		d.Problem = problemText(e) + "（" + e.Code + "）"
		return c.page(ctx, e.Kind.HTTPStatus(), "rectification.html", d)
	}
}

func (c *Console) rectifyAssign(ctx *fiber.Ctx, id string, by rectify.Staff) error {
	_, err := c.d.Rectify.Assign(ctx.UserContext(), id, by, ctx.FormValue("owner"), ctx.FormValue("owner_dept"))
	return err
}

func (c *Console) rectifyReply(ctx *fiber.Ctx, id string, by rectify.Staff) error {
	_, err := c.d.Rectify.Reply(ctx.UserContext(), id, by, ctx.FormValue("reply"))
	return err
}

func (c *Console) rectifyCallBack(ctx *fiber.Ctx, id string, by rectify.Staff) error {
	in := rectify.CallBackInput{Caller: ctx.FormValue("caller"), Outcome: rectify.Outcome(ctx.FormValue("outcome")), Note: ctx.FormValue("note")}
	if v := strings.TrimSpace(ctx.FormValue("called_at")); v != "" {
		at, err := time.ParseInLocation("2006-01-02T15:04", v, workdays.Location)
		if err != nil {
			return rectify.ErrInvalid.WithFields(apperr.Field("called_at", "INVALID", fmt.Sprintf("回访时间格式有误：%s", v)))
		}
		in.CalledAt = at
	}
	_, err := c.d.Rectify.CallBack(ctx.UserContext(), id, by, in)
	return err
}

func (c *Console) rectifyClose(ctx *fiber.Ctx, id string, by rectify.Staff) error {
	_, err := c.d.Rectify.Close(ctx.UserContext(), id, by, ctx.FormValue("note"))
	return err
}
