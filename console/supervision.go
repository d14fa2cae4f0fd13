package console

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/cases"
	"zwfw/platform/workdays"
	"zwfw/supervision"
)

// Supervision is what the supervision pages need (implemented by
// *supervision.Service): the board of the cases in progress, kept in
// memory, so a page costs the same with ten or ten million cases.
type Supervision interface {
	Board(ctx context.Context) (*supervision.Board, error)
	History(ctx context.Context) ([]supervision.Day, error)
	// OpenCase writes the opening to the audit log and returns the case;
	// CASE_NOT_FOUND for a case not in progress.
	OpenCase(ctx context.Context, audit cases.AuditLog, op cases.Operator, caseID string) (*cases.Case, supervision.Case, error)
}

// supervisionListMax is how many cases a list shows (most overdue first).
const supervisionListMax = 200

// stateCell is one state's count, linking to its cases.
type stateCell struct {
	State, Label string
	Count        int
	Href         string
}

// boardRow is one department or item with its counts.
type boardRow struct {
	Dept, Item, ItemCode string
	Href                 string // the department's items, or the item's cases
	Cells                []stateCell
	Total                int
}

type supervisionBody struct {
	Today    string
	WarnDays int
	Totals   []stateCell
	Chart    template.HTML
	// Tables are the department and item tables, rendered once per board.
	Tables template.HTML
}

// boardTables is what the template "supervision-tables" renders.
type boardTables struct {
	Depts []boardRow
	// Dept is the department whose items are shown ("" = all).
	Dept  string
	Items []boardRow
}

type supervisionListBody struct {
	Back string
	Rows template.HTML // heading and table, rendered once per board and filter
}

// caseRows is what the template "supervision-rows" renders.
type caseRows struct {
	Filter       string // what the list is, in words
	Rows         []supervisionRow
	Shown, Total int
}

// fragments keeps the supervision pages' rendered tables for the current
// board: a board is immutable and shared until the index changes or the
// day turns, so its tables are the same for every request until then and
// a page costs its header, not hundreds of rows, however many cases there
// are. A new board drops them; so does a full map (the keys come from
// query strings).
type fragments struct {
	mu    sync.Mutex
	board *supervision.Board
	m     map[string]template.HTML
}

// fragmentsMax bounds the kept fragments per board.
const fragmentsMax = 256

// get returns the fragment of b under key, building it on a miss.
func (f *fragments) get(b *supervision.Board, key string, build func() (template.HTML, error)) (template.HTML, error) {
	f.mu.Lock()
	if f.board != b || len(f.m) >= fragmentsMax {
		f.board, f.m = b, map[string]template.HTML{}
	}
	h, ok := f.m[key]
	f.mu.Unlock()
	if ok {
		return h, nil
	}
	h, err := build()
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	if f.board == b {
		f.m[key] = h
	}
	f.mu.Unlock()
	return h, nil
}

// fragment renders the template name of page file with data.
func (c *Console) fragment(file, name string, data any) (template.HTML, error) {
	var buf bytes.Buffer
	if err := c.views.pages[file].ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("console: render %s of %s: %w", name, file, err)
	}
	return template.HTML(buf.String()), nil //nolint:gosec // html/template's own output
}

// supervisionRow is one case in a list: no personal data.
type supervisionRow struct {
	ID, Number, Item, Dept string
	StatusText             string
	StartedAt, DueOn       string
	Limit                  string
	State, StateLabel      string
}

type supervisionCaseBody struct {
	*caseView
	State, StateLabel, Back string
	LimitText               string // "超期 3 个工作日", "剩 2 个工作日"
}

// casesHref is the list of cases a filter selects.
func casesHref(f supervision.Filter) string {
	v := url.Values{}
	if f.State != "" {
		v.Set("state", string(f.State))
	}
	if f.Dept != "" {
		v.Set("dept", f.Dept)
	}
	if f.ItemCode != "" {
		v.Set("item", f.ItemCode)
	}
	return "/console/supervision/cases?" + v.Encode()
}

func cells(counts supervision.Counts, f supervision.Filter) ([]stateCell, int) {
	out := make([]stateCell, len(supervision.States))
	for i, s := range supervision.States {
		f.State = s
		out[i] = stateCell{State: string(s), Label: s.Label(), Count: counts.Of(s), Href: casesHref(f)}
	}
	return out, counts.Total()
}

// stateColors are the chart's colours, one per state.
var stateColors = map[supervision.State]string{supervision.Normal: "#2e7d32", supervision.Yellow: "#f2b705", supervision.Red: "#c62828"}

// supervisionBoard handles GET /console/supervision: the counts by state,
// department and item (?dept= shows one department's items), and the
// counts of the last 30 days as a chart. No personal data: no audit.
func (c *Console) supervisionBoard(ctx *fiber.Ctx) error {
	rctx := ctx.UserContext()
	b, err := c.d.Supervision.Board(rctx)
	if err != nil {
		return err
	}
	hist, err := c.d.Supervision.History(rctx)
	if err != nil {
		return err
	}
	body := supervisionBody{Today: b.Today.String(), WarnDays: b.WarnDays}
	body.Totals, _ = cells(b.Total, supervision.Filter{})
	dept := strings.TrimSpace(ctx.Query("dept"))
	if body.Tables, err = c.frags.get(b, "tables\x00"+dept, func() (template.HTML, error) {
		return c.fragment("supervision.html", "supervision-tables", tablesOf(b, dept))
	}); err != nil {
		return err
	}
	// The stored days change only with a reload, which makes a new board.
	if body.Chart, err = c.frags.get(b, "chart", func() (template.HTML, error) { return historyChart(b.Today, hist), nil }); err != nil {
		return err
	}
	return c.page(ctx, fiber.StatusOK, "supervision.html", &pageData{Body: body})
}

// tablesOf is the board's department table and the item table of dept ("" = all).
func tablesOf(b *supervision.Board, dept string) boardTables {
	t := boardTables{Dept: dept}
	for _, r := range b.ByDept {
		row := boardRow{Dept: r.Dept, Href: "/console/supervision?" + url.Values{"dept": {r.Dept}}.Encode() + "#items"}
		row.Cells, row.Total = cells(r.Counts, supervision.Filter{Dept: r.Dept})
		t.Depts = append(t.Depts, row)
	}
	for _, r := range b.ByItem {
		if dept != "" && r.Dept != dept {
			continue
		}
		f := supervision.Filter{Dept: r.Dept, ItemCode: r.ItemCode}
		row := boardRow{Dept: r.Dept, Item: r.ItemName, ItemCode: r.ItemCode, Href: casesHref(f)}
		row.Cells, row.Total = cells(r.Counts, f)
		t.Items = append(t.Items, row)
	}
	return t
}

// historyChart draws the last HistoryDays days, today last; a day
// without stored counts has no bar.
func historyChart(today workdays.Date, hist []supervision.Day) template.HTML {
	byDay := make(map[string]supervision.Counts, len(hist))
	for _, d := range hist {
		byDay[d.Day] = d.Counts
	}
	series := make([]chartSeries, len(supervision.States))
	for i, s := range supervision.States {
		series[i] = chartSeries{Name: s.Label(), Color: stateColors[s]}
	}
	points := make([]chartPoint, 0, supervision.HistoryDays)
	for i := supervision.HistoryDays - 1; i >= 0; i-- {
		d := today.AddDays(-i)
		p := chartPoint{}
		if i%5 == 0 {
			p.Label = d.String()[5:] // MM-DD
		}
		counts, ok := byDay[d.String()]
		if !ok {
			p.Missing, p.Title = true, d.String()+" 无统计"
		} else {
			p.Values = []int{counts.Normal, counts.Yellow, counts.Red}
			p.Title = fmt.Sprintf("%s 正常 %d · 黄牌 %d · 红牌 %d", d, counts.Normal, counts.Yellow, counts.Red)
		}
		points = append(points, p)
	}
	return stackedBarsSVG(fmt.Sprintf("近 %d 天在办件时限状态（按日）", supervision.HistoryDays), series, points)
}

// supervisionFilter reads ?state=&dept=&item=; an unknown state is a 400.
func supervisionFilter(ctx *fiber.Ctx) (supervision.Filter, error) {
	f := supervision.Filter{State: supervision.State(ctx.Query("state")), Dept: strings.TrimSpace(ctx.Query("dept")), ItemCode: strings.TrimSpace(ctx.Query("item"))}
	if f.State != "" && !f.State.Valid() {
		return f, apperr.InvalidInput.WithMessage("时限状态不正确，请从电子监察页进入")
	}
	return f, nil
}

// supervisionCases handles GET /console/supervision/cases: the cases of
// one state, department and item (each optional), most overdue first.
func (c *Console) supervisionCases(ctx *fiber.Ctx) error {
	f, err := supervisionFilter(ctx)
	if err != nil {
		return err
	}
	b, err := c.d.Supervision.Board(ctx.UserContext())
	if err != nil {
		return err
	}
	body := supervisionListBody{Back: "/console/supervision"}
	var what []string
	if f.Dept != "" {
		what = append(what, f.Dept)
		body.Back += "?" + url.Values{"dept": {f.Dept}}.Encode() + "#items"
	}
	for _, r := range b.ByItem {
		if f.ItemCode != "" && r.ItemCode == f.ItemCode && (f.Dept == "" || r.Dept == f.Dept) {
			what = append(what, r.ItemName)
			break
		}
	}
	if f.State != "" {
		what = append(what, f.State.Label())
	} else {
		what = append(what, "全部在办件")
	}
	filter := strings.Join(what, " · ")
	if body.Rows, err = c.frags.get(b, "rows\x00"+casesHref(f), func() (template.HTML, error) {
		list, total := b.Cases(f, supervisionListMax)
		rows := caseRows{Filter: filter, Rows: make([]supervisionRow, len(list)), Shown: len(list), Total: total}
		for i, cs := range list {
			rows.Rows[i] = c.supervisionRow(cs)
		}
		return c.fragment("supervision_cases.html", "supervision-rows", rows)
	}); err != nil {
		return err
	}
	return c.page(ctx, fiber.StatusOK, "supervision_cases.html", &pageData{Title: "监察办件：" + filter, Body: body})
}

func (c *Console) supervisionRow(cs supervision.Case) supervisionRow {
	row := supervisionRow{ID: cs.CaseID, Number: cs.Number, Item: cs.ItemName, Dept: cs.Dept,
		StatusText: cases.Status(cs.Status).Label(), StartedAt: formatDateTime(cs.StartedAt),
		State: string(cs.State), StateLabel: cs.State.Label()}
	if cs.DueOn.IsZero() {
		row.Limit = "无承诺时限"
	} else {
		row.DueOn = cs.DueOn.String()
		row.Limit = limitText(cases.TimeLimit{DaysLeft: cs.DaysLeft, Overdue: cs.State == supervision.Red})
	}
	return row
}

// supervisionCase handles GET /console/supervision/cases/:id: the one
// view of a case in progress, personal data masked (no reveal here: a
// supervisor checks the handling, not the person); the opening is audited
// before anything is shown.
func (c *Console) supervisionCase(ctx *fiber.Ctx) error {
	rctx := ctx.UserContext()
	cs, on, err := c.d.Supervision.OpenCase(rctx, c.d.Audit, c.operator(ctx), ctx.Params("id"))
	if err != nil {
		return err
	}
	view, err := c.caseView(rctx, cs, "", nil)
	if err != nil {
		return err
	}
	// The time limit as the board counts it, at the console's today.
	tl := cases.TimeLimitOf(cs, c.d.Calendar, c.now())
	view.TimeLimit.DaysLeft, view.TimeLimit.Overdue = tl.DaysLeft, tl.Overdue
	if tl.DueOn != nil {
		view.TimeLimit.DueOn = tl.DueOn.In(workdays.Location).Format(time.DateOnly)
	}
	body := supervisionCaseBody{caseView: view, State: string(on.State), StateLabel: on.State.Label(), LimitText: "无承诺时限",
		Back: casesHref(supervision.Filter{State: on.State, Dept: on.Dept, ItemCode: on.ItemCode})}
	if tl.DueOn != nil {
		body.LimitText = limitText(tl)
	}
	return c.page(ctx, fiber.StatusOK, "supervision_case.html", &pageData{Title: "监察办件 " + cs.CaseNumber, Body: body})
}
