package bff_test

import (
	"net/url"
	"strings"
	"testing"
)

// The catalog's departments are listed, and their codes filter the search;
// a code that is not one of them is refused naming those there are.
func TestDepartmentsFilterTheCatalog(t *testing.T) {
	s := start(t)
	r := s.request("GET", "/api/v1/departments", "", nil)
	if r.Status != 200 {
		t.Fatalf("departments: %d %s", r.Status, r.Body)
	}
	var list struct {
		Departments []struct{ Code, Name string } `json:"departments"`
	}
	r.JSON(t, &list)
	if len(list.Departments) != len(s.app.Sandbox().ProvinceServer().Departments()) {
		t.Fatalf("%d departments", len(list.Departments))
	}
	for _, d := range list.Departments {
		var page struct {
			Items []struct {
				Dept string `json:"dept"`
			} `json:"items"`
		}
		r := s.request("GET", "/api/v1/items?limit=50&dept="+url.QueryEscape(d.Code), "", nil)
		if r.Status != 200 {
			t.Fatalf("items of %s: %d %s", d.Code, r.Status, r.Body)
		}
		r.JSON(t, &page)
		if len(page.Items) == 0 {
			t.Fatalf("department %s (%s) has no items", d.Code, d.Name)
		}
		for _, it := range page.Items {
			if it.Dept != d.Name {
				t.Fatalf("dept=%s found an item of %s", d.Code, it.Dept)
			}
		}
	}
	m := wantError(t, s.request("GET", "/api/v1/items?dept=nosuch", "", nil), 400, "REQUEST_INVALID")
	if f := m["fields"].([]any)[0].(map[string]any); f["field"] != "dept" || !strings.Contains(f["message"].(string), "scjg（福州市市场监督管理局）") {
		t.Fatalf("refusal %v", m)
	}
	wantError(t, s.request("GET", "/api/v1/items?dept="+url.QueryEscape("福州市公安局"), "", nil), 400, "REQUEST_INVALID")
}
