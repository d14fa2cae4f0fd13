package province

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"zwfw/pii"
)

type page struct {
	Items         []ItemSummary `json:"items"`
	NextPageToken string        `json:"next_page_token"`
}

func (e *env) search(t *testing.T, v url.Values) page {
	t.Helper()
	var p page
	e.do("GET", "/api/catalog/items?"+v.Encode(), nil).ok(t).into(t, &p)
	return p
}

// searchAll follows next_page_token to the end.
func (e *env) searchAll(t *testing.T, v url.Values) []ItemSummary {
	t.Helper()
	var all []ItemSummary
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("pagination does not end")
		}
		p := e.search(t, v)
		all = append(all, p.Items...)
		if p.NextPageToken == "" {
			return all
		}
		v.Set("page_token", p.NextPageToken)
	}
}

func names(items []ItemSummary) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func TestSearchFindsBusinessLicenceItems(t *testing.T) {
	e := newEnv(t, Options{})
	got := names(e.searchAll(t, url.Values{"q": {"营业执照"}}))
	for _, want := range []string{"个体工商户设立登记", "有限责任公司设立登记", "有限责任公司变更登记", "个体工商户变更登记", "营业执照补领、换发"} {
		if !slices.Contains(got, want) {
			t.Errorf("search 营业执照: %q missing from %q", want, got)
		}
	}
	// Items named with the term come first.
	if got[0] != "营业执照补领、换发" {
		t.Errorf("first result %q, want the item whose name contains the term", got[0])
	}
	for _, n := range got {
		if strings.Contains(n, "结婚") || strings.Contains(n, "驾驶证") {
			t.Errorf("search 营业执照 found %q", n)
		}
	}
}

func TestSearchMatchesNameKeywordsAndDept(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		q, want string
	}{
		{"驾照", "机动车驾驶证换证"},        // keyword
		{"二手房", "不动产登记（二手房转移登记）"}, // name and keyword
		{"民政局", "内地居民结婚登记"},       // department
		{"结婚 登记", "内地居民结婚登记"},     // every term must match
		{"社保卡", "社会保障卡申领"},        // keyword
		{"失业金", "失业保险金申领"},        // keyword
		{"医师执业注册", "医师执业注册"},      // name
		{"施工许可", "建筑工程施工许可证核发"},   // name
	}
	for _, tt := range tests {
		got := names(e.searchAll(t, url.Values{"q": {tt.q}}))
		if !slices.Contains(got, tt.want) {
			t.Errorf("search %q = %q, want %q among them", tt.q, got, tt.want)
		}
	}
	if got := e.searchAll(t, url.Values{"q": {"量子纠缠"}}); len(got) != 0 {
		t.Errorf("nonsense search found %q", names(got))
	}
}

func TestSearchFilters(t *testing.T) {
	e := newEnv(t, Options{})
	biz := e.searchAll(t, url.Values{"audience": {"business"}})
	cit := e.searchAll(t, url.Values{"audience": {"citizen"}})
	if len(biz) == 0 || len(cit) == 0 || len(biz) == len(e.s.Items()) || len(cit) == len(e.s.Items()) {
		t.Fatalf("audience filters: %d business, %d citizen of %d", len(biz), len(cit), len(e.s.Items()))
	}
	for _, it := range biz {
		if !slices.Contains(it.Audience, AudienceBusiness) {
			t.Errorf("business search found %s (%v)", it.Name, it.Audience)
		}
	}
	for _, it := range cit {
		if !slices.Contains(it.Audience, AudienceCitizen) {
			t.Errorf("citizen search found %s (%v)", it.Name, it.Audience)
		}
	}
	for _, dept := range []string{"scjg", "福州市市场监督管理局"} {
		items := e.searchAll(t, url.Values{"dept": {dept}})
		if len(items) < 5 {
			t.Fatalf("dept %s: %d items", dept, len(items))
		}
		for _, it := range items {
			if it.Dept != "福州市市场监督管理局" {
				t.Errorf("dept %s found %s of %s", dept, it.Name, it.Dept)
			}
		}
	}
	both := e.searchAll(t, url.Values{"q": {"营业执照"}, "audience": {"business"}, "dept": {"scjg"}})
	if len(both) == 0 {
		t.Fatal("combined filters found nothing")
	}
	e.do("GET", "/api/catalog/items?audience=alien", nil).want(t, http.StatusBadRequest, CodeParamInvalid)
	e.do("GET", "/api/catalog/items?page_size=0", nil).want(t, http.StatusBadRequest, CodeParamInvalid)
}

func TestPaginationCoversEveryItemOnce(t *testing.T) {
	e := newEnv(t, Options{})
	for _, size := range []string{"1", "7", "20", "50"} {
		all := e.searchAll(t, url.Values{"page_size": {size}})
		seen := map[string]int{}
		for _, it := range all {
			seen[it.Code]++
		}
		if len(all) != len(e.s.Items()) || len(seen) != len(all) {
			t.Fatalf("page_size %s: %d results, %d distinct, %d items", size, len(all), len(seen), len(e.s.Items()))
		}
	}
	// The default page is 20, the largest 50.
	if p := e.search(t, url.Values{}); len(p.Items) != DefaultPageSize || p.NextPageToken == "" {
		t.Fatalf("default page: %d items", len(p.Items))
	}
	if p := e.search(t, url.Values{"page_size": {"500"}}); len(p.Items) != MaxPageSize {
		t.Fatalf("page_size 500 gave %d items", len(p.Items))
	}
	// Ordering is stable: the same query gives the same pages.
	a, b := e.searchAll(t, url.Values{"q": {"登记"}, "page_size": {"3"}}), e.searchAll(t, url.Values{"q": {"登记"}, "page_size": {"3"}})
	if !slices.Equal(names(a), names(b)) {
		t.Fatal("two identical searches differ")
	}
	// A token belongs to its query.
	p := e.search(t, url.Values{"q": {"登记"}, "page_size": {"3"}})
	e.do("GET", "/api/catalog/items?q=%E8%AF%81&page_token="+p.NextPageToken, nil).want(t, http.StatusBadRequest, CodePageTokenInvalid)
	e.do("GET", "/api/catalog/items?page_token=garbage", nil).want(t, http.StatusBadRequest, CodePageTokenInvalid)
}

func TestGuide(t *testing.T) {
	e := newEnv(t, Options{})
	var code string
	for _, g := range e.s.Items() {
		if g.Name == "不动产登记（二手房转移登记）" {
			code = g.Code
		}
	}
	var g Guide
	e.do("GET", "/api/catalog/items/"+code, nil).ok(t).into(t, &g)
	if g.Name != "不动产登记（二手房转移登记）" || g.DeptCode != "bdc" || len(g.Fees) != 1 || g.Fees[0].AmountFen != 8000 ||
		g.Fees[0].NontaxItemCode == "" || len(g.Materials) < 4 || len(g.Halls) == 0 || len(g.FormFields) == 0 || g.UpdatedAt == "" {
		t.Fatalf("guide %+v", g)
	}
	if m := g.Materials[0]; m.ID != "m1" || m.BlankFormURL == "" || m.SampleURL == "" {
		t.Fatalf("application form material %+v", m)
	}
	e.do("GET", "/api/catalog/items/11350100MB0123456X99999", nil).want(t, http.StatusNotFound, CodeItemNotFound)

	var halls struct {
		Halls []Hall `json:"halls"`
	}
	e.do("GET", "/api/catalog/halls", nil).ok(t).into(t, &halls)
	if len(halls.Halls) != len(e.s.Halls()) {
		t.Fatalf("%d halls", len(halls.Halls))
	}
	e.do("GET", "/api/catalog/halls?item_code="+code, nil).ok(t).into(t, &halls)
	if len(halls.Halls) != len(g.Halls) || halls.Halls[0].ID != "fz-bdc" {
		t.Fatalf("halls of the item %+v", halls.Halls)
	}
	e.do("GET", "/api/catalog/halls?item_code=nope", nil).want(t, http.StatusNotFound, CodeItemNotFound)
	if g.SupplementDays != 10 { // 30 statutory days: ten to supplement
		t.Fatalf("supplement_days %d", g.SupplementDays)
	}

	// The departments: each code filters the search.
	var depts struct {
		Departments []Department `json:"departments"`
	}
	e.do("GET", "/api/catalog/departments", nil).ok(t).into(t, &depts)
	if len(depts.Departments) != len(e.s.Departments()) {
		t.Fatalf("%d departments", len(depts.Departments))
	}
	for _, d := range depts.Departments {
		items := e.searchAll(t, url.Values{"dept": {d.Code}})
		if d.Code == "" || d.Name == "" || len(d.USCC) != 18 || len(items) == 0 || items[0].Dept != d.Name {
			t.Fatalf("department %+v finds %d items", d, len(items))
		}
	}
}

func TestDataSetInvariants(t *testing.T) {
	s := New(Options{})
	items := s.Items()
	if len(items) < 60 {
		t.Errorf("%d items, want at least 60", len(items))
	}
	depts := map[string]Department{}
	for _, d := range s.Departments() {
		if err := pii.ValidateUSCC(d.USCC); err != nil {
			t.Errorf("department %s USCC %s: %v", d.Name, d.USCC, err)
		}
		depts[d.Code] = d
	}
	used := map[string]bool{}
	halls := map[string]bool{}
	for _, h := range s.Halls() {
		if h.Name == "" || h.Address == "" || h.Phone == "" || h.Hours == "" || h.Lat < 25 || h.Lat > 27 || h.Lng < 118 || h.Lng > 120 {
			t.Errorf("hall %+v", h)
		}
		halls[h.ID] = true
	}
	codes := map[string]bool{}
	fieldTypes := []string{FieldString, FieldNumber, FieldDate, FieldEnum, FieldPhone, FieldIDNumber, FieldUSCC, FieldAddress}
	for _, g := range items {
		used[g.DeptCode] = true
		if codes[g.Code] {
			t.Errorf("duplicate code %s", g.Code)
		}
		codes[g.Code] = true
		if len(g.Code) != 23 || pii.ValidateUSCC(g.Code[:18]) != nil || g.Code[:18] != depts[g.DeptCode].USCC {
			t.Errorf("%s: code %s is not the department USCC + 5 digits", g.Name, g.Code)
		}
		if strings.Trim(g.Code[18:], "0123456789") != "" {
			t.Errorf("%s: code sequence %s", g.Name, g.Code[18:])
		}
		if g.Name == "" || g.Category == "" || len(g.Audience) == 0 || len(g.Keywords) == 0 || len(g.LegalBasis) == 0 ||
			len(g.Conditions) == 0 || len(g.Materials) == 0 || len(g.Steps) == 0 || len(g.Halls) == 0 {
			t.Errorf("%s: incomplete guide", g.Name)
		}
		if g.StatutoryDays < g.PromisedDays || g.PromisedDays < 0 {
			t.Errorf("%s: statutory %d < promised %d", g.Name, g.StatutoryDays, g.PromisedDays)
		}
		if g.MaxTrips != 0 && g.MaxTrips != 1 {
			t.Errorf("%s: max_trips %d", g.Name, g.MaxTrips)
		}
		for _, h := range g.Halls {
			if !halls[h.ID] {
				t.Errorf("%s: unknown hall %s", g.Name, h.ID)
			}
		}
		for _, f := range g.Fees {
			if f.AmountFen < 0 || f.Name == "" || (f.AmountFen > 0 && f.NontaxItemCode == "") {
				t.Errorf("%s: fee %+v", g.Name, f)
			}
		}
		for i, m := range g.Materials {
			if m.ID != "m"+string(rune('1'+i)) && i < 9 {
				t.Errorf("%s: material %d id %s", g.Name, i, m.ID)
			}
			if m.ElicenseType != "" && LicenseTypes[m.ElicenseType] == "" {
				t.Errorf("%s: material %s has unknown e-licence type %s", g.Name, m.Name, m.ElicenseType)
			}
			if m.Copies < 1 || (m.Form != FormOriginal && m.Form != FormCopy && m.Form != FormOriginalAndCopy) {
				t.Errorf("%s: material %+v", g.Name, m)
			}
		}
		for _, f := range g.FormFields {
			if !slices.Contains(fieldTypes, f.Type) || f.Label == "" || (f.Type == FieldEnum && len(f.Options) == 0) {
				t.Errorf("%s: form field %+v", g.Name, f)
			}
		}
		if g.OnlineApply && len(g.FormFields) == 0 && utf8.RuneCountInString(g.Name) == 0 {
			t.Errorf("%s: online item without form", g.Name)
		}
	}
	if len(used) < 8 {
		t.Errorf("items in %d departments, want at least 8", len(used))
	}
	for _, want := range []string{"ga", "scjg", "rs", "mz", "bdc", "jt", "wj", "zj"} {
		if !used[want] {
			t.Errorf("no item of department %s", want)
		}
	}
	free, charged := 0, 0
	for _, g := range items {
		if len(g.Fees) == 0 {
			free++
		} else {
			charged++
		}
	}
	if free <= charged || charged < 5 {
		t.Errorf("%d free and %d charged items", free, charged)
	}
}
