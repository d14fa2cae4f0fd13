package console

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/cases"
	"zwfw/identity"
	"zwfw/platform/workdays"
)

// StaffDirectory finds staff accounts by username (implemented by
// *identity.Service), for the audit log's filter.
type StaffDirectory interface {
	// StaffByUsername returns identity's USER_NOT_FOUND for an unknown username.
	StaffByUsername(ctx context.Context, username string) (*identity.User, error)
}

// auditPageSize is how many entries one page of the audit log shows.
const auditPageSize = 50

type auditBody struct {
	Operator, From, To string
	// Errors are the filter's field errors, by field.
	Errors  map[string]string
	Entries []auditRow
	// Next is the next (older) page's address, First the first's; "" when none.
	Next, First string
	Filtered    bool
}

type auditRow struct {
	ID, At, Operator, OperatorName, Ticket, Kind, Query, Reason, IP string
	Records                                                         int
}

var auditKindText = map[string]string{
	"number": "按办件编号查询", "phone": "按手机号查询", "id_number": "按身份证号查询", "uscc": "按统一社会信用代码查询",
	"open": "打开办件", "reveal": "查看完整信息", "payment": "查看缴费", "reminders": "查看失败提醒",
}

// auditLog handles GET /console/audit?operator=&from=&to=&before=: the
// audit log, newest first, by staff username and a range of days (Asia/Shanghai),
// auditPageSize a page. The entries hold no personal data (queries are masked).
func (c *Console) auditLog(ctx *fiber.Ctx) error {
	rctx := ctx.UserContext()
	body := auditBody{Operator: strings.TrimSpace(ctx.Query("operator")), From: strings.TrimSpace(ctx.Query("from")),
		To: strings.TrimSpace(ctx.Query("to")), Errors: map[string]string{}}
	f := cases.AuditFilter{Before: ctx.Query("before"), Limit: auditPageSize}
	var from, to workdays.Date
	for _, p := range []struct {
		name, v string
		dst     *workdays.Date
	}{{"from", body.From, &from}, {"to", body.To, &to}} {
		if p.v == "" {
			continue
		}
		d, err := workdays.ParseDate(p.v)
		if err != nil {
			body.Errors[p.name] = "日期格式应为 YYYY-MM-DD，如 2026-12-07"
			continue
		}
		*p.dst = d
	}
	if !from.IsZero() {
		f.From = from.Start().UTC()
	}
	if !to.IsZero() {
		f.To = to.AddDays(1).Start().UTC()
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		body.Errors["to"] = "结束日期不能早于开始日期"
	}
	names := map[string]string{} // operator id -> username
	if body.Operator != "" {
		u, err := c.d.Directory.StaffByUsername(rctx, body.Operator)
		switch {
		case errors.Is(err, identity.ErrUserNotFound):
			body.Errors["operator"] = "没有用户名为 " + body.Operator + " 的工作人员"
		case err != nil:
			return err
		default:
			f.OperatorID = u.ID
			names[u.ID] = u.Username
		}
	}
	body.Filtered = body.Operator != "" || body.From != "" || body.To != ""
	if len(body.Errors) > 0 {
		return c.page(ctx, fiber.StatusBadRequest, "audit.html", &pageData{Body: body, Problem: "筛选条件有误，请按提示修改"})
	}
	list, err := c.d.Audit.List(rctx, f)
	if err != nil {
		return err
	}
	for _, e := range list {
		name, seen := names[e.OperatorID]
		if !seen {
			// An account gone since shows by its id alone.
			if u, err := c.d.Staff.Person(rctx, e.OperatorID); err == nil {
				name = u.Username
			}
			names[e.OperatorID] = name
		}
		if name == "" {
			name = e.OperatorID
		}
		body.Entries = append(body.Entries, auditRow{ID: e.ID, At: e.At.In(workdays.Location).Format(time.DateTime), Operator: name,
			OperatorName: e.OperatorName, Ticket: e.Ticket, Kind: labelOf(auditKindText, e.QueryType), Query: e.Query,
			Reason: e.Reason, IP: e.IP, Records: len(e.CaseIDs)})
	}
	q := url.Values{}
	for k, v := range map[string]string{"operator": body.Operator, "from": body.From, "to": body.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(list) == auditPageSize {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("before", list[len(list)-1].ID)
		body.Next = "/console/audit?" + next.Encode()
	}
	if f.Before != "" {
		body.First = "/console/audit?" + q.Encode()
	}
	return c.page(ctx, fiber.StatusOK, "audit.html", &pageData{Body: body})
}
