package bff_test

import (
	"net/url"
	"testing"
	"time"

	"zwfw/identity"
	sbprovince "zwfw/sandbox/province"
)

// The audit log is filtered and shown by the operators' usernames, and
// from/to take plain dates (days of Asia/Shanghai) as well as times.
func TestAuditByUsernameAndDates(t *testing.T) {
	s := start(t)
	_, id, _ := s.submittedCase("caller")
	for _, u := range []struct{ name, display, role string }{
		{"hotline07", "话务员七号", "hotline"}, {"hotline08", "话务员八号", "hotline"}, {"admin07", "管理员", "admin"},
	} {
		if _, err := s.app.Identity().CreateStaff(t.Context(), u.name, u.display, "Staff-pass-2026", []identity.Role{identity.Role(u.role)}); err != nil {
			t.Fatal(err)
		}
	}
	phone := sbprovince.DemoPeople[0].Phone
	for i, op := range []string{"hotline07", "hotline07", "hotline08"} {
		tok := s.loginStaff(op, "Staff-pass-2026")
		if r := s.request("GET", "/api/v1/hotline/cases?phone="+phone, tok, nil, "X-Hotline-Ticket", "T2026112300"+string(rune('1'+i))); r.Status != 200 {
			t.Fatalf("look-up: %d %s", r.Status, r.Body)
		}
	}
	admin := s.loginStaff("admin07", "Staff-pass-2026")
	type entry struct {
		OperatorID       string   `json:"operator_id"`
		OperatorUsername string   `json:"operator_username"`
		OperatorName     string   `json:"operator_name"`
		CaseIDs          []string `json:"case_ids"`
	}
	list := func(query string) []entry {
		t.Helper()
		r := s.request("GET", "/api/v1/admin/audit"+query, admin, nil)
		if r.Status != 200 {
			t.Fatalf("audit%s: %d %s", query, r.Status, r.Body)
		}
		var v struct {
			Items []entry `json:"items"`
		}
		r.JSON(t, &v)
		return v.Items
	}
	mine := list("?operator=hotline07")
	if len(mine) != 2 {
		t.Fatalf("hotline07's look-ups: %+v", mine)
	}
	for _, e := range mine {
		if e.OperatorUsername != "hotline07" || e.OperatorName != "话务员七号" || len(e.CaseIDs) != 1 || e.CaseIDs[0] != id {
			t.Fatalf("entry %+v", e)
		}
	}
	if got := list("?operator=" + mine[0].OperatorID); len(got) != 2 {
		t.Fatalf("by staff id: %d entries", len(got))
	}
	all := list("")
	if len(all) != 3 || all[0].OperatorUsername != "hotline08" {
		t.Fatalf("all entries %+v", all)
	}
	m := wantError(t, s.request("GET", "/api/v1/admin/audit?operator=nobody", admin, nil), 400, "REQUEST_INVALID")
	if f := m["fields"].([]any)[0].(map[string]any); f["field"] != "operator" || f["code"] != "OPERATOR_UNKNOWN" {
		t.Fatalf("refusal %v", m)
	}

	cst := time.FixedZone("CST", 8*3600)
	today := time.Now().In(cst)
	day := func(d int) string { return today.AddDate(0, 0, d).Format("2006-01-02") }
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"?from=" + day(0), 3},
		{"?to=" + day(0), 3},
		{"?from=" + day(0) + "&to=" + day(0) + "&operator=hotline08", 1},
		{"?from=" + day(1), 0},
		{"?to=" + day(-1), 0},
		{"?from=" + url.QueryEscape(today.Add(-time.Hour).Format(time.RFC3339)), 3},
	} {
		if got := list(tt.query); len(got) != tt.want {
			t.Errorf("audit%s: %d entries, want %d", tt.query, len(got), tt.want)
		}
	}
	for _, bad := range []string{"?from=2026-13-01", "?to=23/11/2026", "?from=yesterday"} {
		wantError(t, s.request("GET", "/api/v1/admin/audit"+bad, admin, nil), 400, "REQUEST_INVALID")
	}
}
