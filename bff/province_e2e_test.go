package bff_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"zwfw/bff"
	"zwfw/identity"
	sbprovince "zwfw/sandbox/province"
)

func TestCatalogSearchAndGuide(t *testing.T) {
	s := start(t)
	r := s.request("GET", "/api/v1/items?q=营业执照", "", nil)
	if r.Status != 200 {
		t.Fatalf("search: %d %s", r.Status, r.Body)
	}
	var page struct {
		Items []struct {
			Code string `json:"code"`
			Name string `json:"name"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
		Stale      bool   `json:"stale"`
	}
	r.JSON(t, &page)
	names := map[string]string{}
	for _, it := range page.Items {
		names[it.Name] = it.Code
	}
	code, ok := names["个体工商户设立登记"]
	if !ok || page.Stale {
		t.Fatalf("营业执照 did not find 个体工商户设立登记 (stale=%v): %v", page.Stale, names)
	}

	r = s.request("GET", "/api/v1/items/"+code, "", nil)
	if r.Status != 200 {
		t.Fatalf("guide: %d %s", r.Status, r.Body)
	}
	g := r.M(t)
	for _, k := range []string{"materials", "legal_basis", "halls", "statutory_days", "promised_days", "max_trips", "bookable", "online_apply", "mail_result"} {
		if _, ok := g[k]; !ok {
			t.Errorf("guide lacks %s", k)
		}
	}

	// Every item is reached exactly once by following the cursor.
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; pages < 50; pages++ {
		r := s.request("GET", "/api/v1/items?limit=20&cursor="+cursor, "", nil)
		if r.Status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.Status, r.Body)
		}
		var p struct {
			Items []struct {
				Code string `json:"code"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		r.JSON(t, &p)
		for _, it := range p.Items {
			if seen[it.Code] {
				t.Fatalf("item %s on two pages", it.Code)
			}
			seen[it.Code] = true
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if want := len(s.app.Sandbox().ProvinceServer().Items()); len(seen) != want {
		t.Fatalf("paging reached %d items, the catalog has %d", len(seen), want)
	}

	r = s.request("GET", "/api/v1/items/11350100MB0000000X99999", "", nil)
	wantError(t, r, 404, "ITEM_NOT_FOUND")
	r = s.request("GET", "/api/v1/items/not-a-code", "", nil)
	wantError(t, r, 404, "ITEM_NOT_FOUND")
	r = s.request("GET", "/api/v1/items?audience=alien&limit=500", "", nil)
	m := wantError(t, r, 400, "REQUEST_INVALID")
	if fields, _ := m["fields"].([]any); len(fields) != 2 {
		t.Fatalf("want both bad parameters named at once: %v", m)
	}
}

// The province has a bad day: cached catalog data keeps being served,
// marked stale; what is not cached fails fast with 503 and Retry-After;
// readiness says degraded; everything recovers when the province is back.
func TestProvinceOutage(t *testing.T) {
	s := start(t, func(c *bff.Config) {
		c.ProvinceCacheFresh = time.Millisecond // every cached read is already stale
		c.ProvinceBreakerOpen = 300 * time.Millisecond
	})
	fake := s.app.Sandbox().ProvinceServer()
	code := fake.Items()[0].Code
	if r := s.request("GET", "/api/v1/items/"+code, "", nil); r.Status != 200 {
		t.Fatalf("warm the cache: %d %s", r.Status, r.Body)
	}

	if err := fake.SetFault(sbprovince.Fault{Group: "catalog", Mode: "error", Status: 503}); err != nil {
		t.Fatal(err)
	}
	r := s.request("GET", "/api/v1/items/"+code, "", nil)
	if r.Status != 200 || r.M(t)["stale"] != true || r.Header.Get("X-Data-Stale") != "true" {
		t.Fatalf("cached guide during the outage: %d %s", r.Status, r.Body)
	}
	var last *response
	for i := 0; i < 8; i++ {
		last = s.request("GET", "/api/v1/items?q=outage"+string(rune('a'+i)), "", nil)
		wantError(t, last, 503, "PROVINCE_UNAVAILABLE")
	}
	if last.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	r = s.request("GET", "/readyz", "", nil)
	if r.Status != 200 || r.M(t)["status"] != "degraded" {
		t.Fatalf("readyz during the outage: %d %s", r.Status, r.Body)
	}
	r = s.request("GET", "/metrics", "", nil)
	if !strings.Contains(string(r.Body), `zwfw_province_breaker_state{group="catalog"} 2`) {
		t.Fatal("the catalog breaker did not open")
	}

	fake.ClearFaults()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = s.request("GET", "/api/v1/items?q=recovered", "", nil)
		if r.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the province came back: %d %s", r.Status, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := s.request("GET", "/readyz", "", nil); r.M(t)["status"] != "ready" {
		t.Fatalf("readyz after recovery: %s", r.Body)
	}
}

// Twenty phones open the same guide at once: the province is asked once.
func TestConcurrentIdenticalReadsHitTheProvinceOnce(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	code := fake.Items()[3].Code
	if err := fake.SetFault(sbprovince.Fault{Group: "catalog", Mode: "slow", DelayMS: 300}); err != nil {
		t.Fatal(err)
	}
	before := fake.Calls("GET /api/catalog/items/{code}")
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := s.request("GET", "/api/v1/items/"+code, "", nil); r.Status != 200 {
				t.Errorf("guide: %d", r.Status)
			}
		}()
	}
	wg.Wait()
	if n := fake.Calls("GET /api/catalog/items/{code}") - before; n != 1 {
		t.Fatalf("20 concurrent reads made %d province calls, want 1", n)
	}
}

func TestRealNameCompanyAndLicenses(t *testing.T) {
	s := start(t)
	zhang := sbprovince.DemoPeople[0]
	li := sbprovince.DemoPeople[1]
	me := s.loginWeChat("realname")

	r := s.request("GET", "/api/v1/me/licenses", me.Access, nil)
	wantError(t, r, 403, "REALNAME_REQUIRED")

	bad := zhang.IDNumber[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", zhang.IDNumber[17])+1)%11])
	r = s.request("POST", "/api/v1/me/realname", me.Access, map[string]string{"name": "张三", "id_number": bad})
	m := wantError(t, r, 400, "REQUEST_INVALID")
	if !strings.Contains(string(r.Body), "ID_NUMBER_CHECKSUM") {
		t.Fatalf("the error does not say the check digit is wrong: %v", m)
	}
	r = s.request("POST", "/api/v1/me/realname", me.Access, map[string]string{"name": li.Name, "id_number": zhang.IDNumber})
	wantError(t, r, 400, "REALNAME_MISMATCH")
	if strings.Contains(string(r.Body), "姓名错误") || strings.Contains(string(r.Body), "号码错误") {
		t.Fatal("the mismatch says which part was wrong")
	}

	r = s.request("POST", "/api/v1/me/realname", me.Access, map[string]string{"name": zhang.Name, "id_number": zhang.IDNumber})
	if r.Status != 200 {
		t.Fatalf("realname: %d %s", r.Status, r.Body)
	}
	u := r.M(t)
	if u["real_name_verified"] != true || u["id_number"] == zhang.IDNumber || strings.Contains(string(r.Body), zhang.IDNumber) {
		t.Fatalf("verified user shows %s", r.Body)
	}
	// Again with the same person: fine. With another: refused.
	if r := s.request("POST", "/api/v1/me/realname", me.Access, map[string]string{"name": zhang.Name, "id_number": zhang.IDNumber}); r.Status != 200 {
		t.Fatalf("repeat: %d", r.Status)
	}
	r = s.request("POST", "/api/v1/me/realname", me.Access, map[string]string{"name": li.Name, "id_number": li.IDNumber})
	wantError(t, r, 409, "REALNAME_ALREADY_VERIFIED")

	// 张三 runs 福州榕城餐饮管理有限公司 (the first demo company); 李四's company is not his.
	own, other := sbprovince.DemoCompanies[0], sbprovince.DemoCompanies[1]
	r = s.request("POST", "/api/v1/me/companies", me.Access, map[string]string{"uscc": other.USCC})
	wantError(t, r, 403, "COMPANY_NOT_AUTHORIZED")
	r = s.request("POST", "/api/v1/me/companies", me.Access, map[string]string{"uscc": "91350100M000100Y44"})
	wantError(t, r, 400, "REQUEST_INVALID")
	r = s.request("POST", "/api/v1/me/companies", me.Access, map[string]string{"uscc": own.USCC})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"business"`) || !strings.Contains(string(r.Body), own.Name) {
		t.Fatalf("bind company: %d %s", r.Status, r.Body)
	}

	r = s.request("GET", "/api/v1/me/licenses", me.Access, nil)
	if r.Status != 200 {
		t.Fatalf("licenses: %d %s", r.Status, r.Body)
	}
	var ls struct {
		Licenses []struct {
			ID         string `json:"id"`
			Type       string `json:"type"`
			HolderType string `json:"holder_type"`
		} `json:"licenses"`
	}
	r.JSON(t, &ls)
	types := map[string]string{}
	for _, l := range ls.Licenses {
		types[l.Type+"/"+l.HolderType] = l.ID
	}
	idCard, ok := types["id_card/citizen"]
	if !ok || types["business_license/business"] == "" {
		t.Fatalf("licences = %v", types)
	}
	r = s.request("GET", "/api/v1/me/licenses/"+idCard, me.Access, nil)
	code, _ := r.M(t)["verify_code"].(string)
	if r.Status != 200 || code == "" {
		t.Fatalf("licence with code: %d %s", r.Status, r.Body)
	}

	// At the hall, a clerk checks the code; a citizen may not.
	if _, err := s.app.Identity().CreateStaff(t.Context(), "hall09", "窗口九", "Window-pass-2026", []identity.Role{identity.RoleStaff}); err != nil {
		t.Fatal(err)
	}
	clerk := s.loginStaff("hall09", "Window-pass-2026")
	r = s.request("GET", "/api/v1/staff/licenses/verify?code="+code, clerk, nil)
	if r.Status != 200 || r.M(t)["valid"] != true {
		t.Fatalf("clerk check: %d %s", r.Status, r.Body)
	}
	r = s.request("GET", "/api/v1/staff/licenses/verify?code=ZZZZZZ", clerk, nil)
	if r.Status != 200 || r.M(t)["valid"] != false {
		t.Fatalf("clerk check of a wrong code: %d %s", r.Status, r.Body)
	}
	r = s.request("GET", "/api/v1/staff/licenses/verify?code="+code, me.Access, nil)
	wantError(t, r, 403, "AUTH_FORBIDDEN")
	r = s.request("GET", "/api/v1/me/licenses/not-mine", me.Access, nil)
	wantError(t, r, 404, "LICENSE_NOT_FOUND")
}
