package handlers

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/cases"
	"zwfw/identity"
)

// StaffDirectory finds staff accounts by username and by id (implemented
// by *identity.Service).
type StaffDirectory interface {
	// StaffByUsername returns identity's USER_NOT_FOUND for an unknown username.
	StaffByUsername(ctx context.Context, username string) (*identity.User, error)
	Person(ctx context.Context, userID string) (*identity.User, error)
}

// Audit serves the admins' view of the hotline audit log.
type Audit struct {
	Log   cases.AuditLog
	Staff StaffDirectory
}

// AuditEntryView is one audit log entry, with the operator's username.
type AuditEntryView struct {
	ID               string    `json:"id"`
	At               time.Time `json:"at"`
	OperatorID       string    `json:"operator_id"`
	OperatorUsername string    `json:"operator_username,omitempty"`
	OperatorName     string    `json:"operator_name,omitempty"`
	Ticket           string    `json:"ticket"`
	QueryType        string    `json:"query_type"`
	Query            string    `json:"query"`
	CaseIDs          []string  `json:"case_ids"`
	IP               string    `json:"ip,omitempty"`
	Reason           string    `json:"reason,omitempty"`
}

// List handles GET /api/v1/admin/audit?operator=&from=&to=&cursor=:
// operator is a staff username (or a staff id); from and to are RFC 3339 times or plain
// dates (YYYY-MM-DD, days of Asia/Shanghai: from the start of from's day
// to the end of to's).
func (h *Audit) List(c *fiber.Ctx) error {
	f := cases.AuditFilter{Before: c.Query("cursor"), Limit: 50}
	var fields []apperr.FieldError
	for _, p := range []struct {
		name string
		end  bool
		dst  *time.Time
	}{{"from", false, &f.From}, {"to", true, &f.To}} {
		if v := c.Query(p.name); v != "" {
			t, ok := parseBound(v, p.end)
			if !ok {
				fields = append(fields, apperr.Field(p.name, "TIME_INVALID", "应为日期（如 2026-11-23）或 RFC 3339 时间（如 2026-11-23T09:00:00+08:00）"))
				continue
			}
			*p.dst = t
		}
	}
	if op := strings.TrimSpace(c.Query("operator")); op != "" && len(fields) == 0 {
		u, err := h.Staff.StaffByUsername(c.UserContext(), op)
		switch {
		case errors.Is(err, identity.ErrUserNotFound) && strings.HasPrefix(op, "s_"):
			f.OperatorID = op // a staff id, as this filter took before usernames (never a username: no "_" in those)
		case errors.Is(err, identity.ErrUserNotFound):
			fields = append(fields, apperr.Field("operator", "OPERATOR_UNKNOWN", "没有用户名为 "+op+" 的工作人员"))
		case err != nil:
			return err
		default:
			f.OperatorID = u.ID
		}
	}
	if len(fields) > 0 {
		return apperr.InvalidInput.WithFields(fields...)
	}
	list, err := h.Log.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	staff := map[string]*identity.User{}
	out := make([]AuditEntryView, 0, len(list))
	for _, e := range list {
		v := AuditEntryView{ID: e.ID, At: e.At.In(Shanghai), OperatorID: e.OperatorID, OperatorName: e.OperatorName,
			Ticket: e.Ticket, QueryType: e.QueryType, Query: e.Query, CaseIDs: e.CaseIDs, IP: e.IP, Reason: e.Reason}
		u, seen := staff[e.OperatorID]
		if !seen {
			// An account gone since is shown by its id alone.
			u, _ = h.Staff.Person(c.UserContext(), e.OperatorID)
			staff[e.OperatorID] = u
		}
		if u != nil {
			v.OperatorUsername = u.Username
			if v.OperatorName == "" {
				v.OperatorName = u.DisplayName
			}
		}
		out = append(out, v)
	}
	next := ""
	if len(out) == f.Limit {
		next = out[len(out)-1].ID
	}
	return c.JSON(fiber.Map{"items": out, "next_cursor": next})
}

// parseBound reads an RFC 3339 time or a plain date; a date bounds the
// start of its day in Asia/Shanghai, or with end the start of the next day.
func parseBound(v string, end bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), true
	}
	d, err := time.ParseInLocation(time.DateOnly, v, Shanghai)
	if err != nil {
		return time.Time{}, false
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d.UTC(), true
}
