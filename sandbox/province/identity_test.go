package province

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"zwfw/pii"
)

func TestDemoDataIsValid(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range DemoPeople {
		if err := pii.ValidateIDNumber(p.IDNumber); err != nil || seen[p.IDNumber] {
			t.Errorf("%s %s: %v", p.Name, p.IDNumber, err)
		}
		seen[p.IDNumber] = true
		if birthOf(p.IDNumber) != p.BirthDate || genderOf(p.IDNumber) != p.Gender {
			t.Errorf("%s: birth %s gender %s disagree with %s", p.Name, p.BirthDate, p.Gender, p.IDNumber)
		}
	}
	for _, c := range DemoCompanies {
		if err := pii.ValidateUSCC(c.USCC); err != nil {
			t.Errorf("%s %s: %v", c.Name, c.USCC, err)
		}
		if !seen[c.LegalRep.IDNumber] {
			t.Errorf("%s: legal representative %s is not a demo person", c.Name, c.LegalRep.Name)
		}
	}
}

// unregistered is a valid ID number of nobody in the demo data.
var unregistered = idNumber("350181", "19991231", "456")

func TestRealnameVerify(t *testing.T) {
	bad := zhangSan.IDNumber[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", zhangSan.IDNumber[17])+1)%11])
	tests := []struct {
		name, id string
		status   int
		code     string
		match    bool
	}{
		{"张三", zhangSan.IDNumber, 200, CodeOK, true},
		{" 张三 ", zhangSan.IDNumber, 200, CodeOK, true},
		{"张三", strings.ToLower(zhangSan.IDNumber), 200, CodeOK, true},
		{"李四", zhangSan.IDNumber, 200, CodeOK, false},                         // registered, wrong name
		{"张叁", zhangSan.IDNumber, 200, CodeOK, false},                         // registered, near miss
		{"欧阳娜娜", unregistered, 200, CodeOK, true},                             // sandbox mode: unregistered and valid
		{"Tom", idNumber("350181", "19991231", "457"), 200, CodeOK, false},    // not 2-4 Chinese characters
		{"王", idNumber("350181", "19991231", "458"), 200, CodeOK, false},      // one character
		{"爱新觉罗溥仪", idNumber("350181", "19991231", "459"), 200, CodeOK, false}, // six
		{"张三", bad, 400, CodeIDNumberInvalid, false},
		{"张三", "35010219900307123", 400, CodeIDNumberInvalid, false},
		{"张三", "", 400, CodeIDNumberInvalid, false},
		{"", zhangSan.IDNumber, 400, CodeParamInvalid, false},
	}
	e := newEnv(t, Options{})
	for _, tt := range tests {
		a := e.do("POST", "/api/identity/realname/verify", map[string]string{"name": tt.name, "id_number": tt.id})
		a.want(t, tt.status, tt.code)
		if tt.status != 200 {
			continue
		}
		var r RealnameResult
		a.into(t, &r)
		if r.Match != tt.match || !strings.HasPrefix(r.VerifyID, "RV") {
			t.Errorf("%s %s: %+v, want match %v", tt.name, tt.id, r, tt.match)
		}
		if !r.Match && strings.Contains(string(a.Raw), "name") {
			t.Errorf("a mismatch says which part was wrong: %s", a.Raw)
		}
	}
	// The unregistered number is now bound to its first name.
	var r RealnameResult
	e.do("POST", "/api/identity/realname/verify", map[string]string{"name": "欧阳娜娜", "id_number": unregistered}).ok(t).into(t, &r)
	if !r.Match {
		t.Fatal("sandbox-registered person does not match again")
	}
	e.do("POST", "/api/identity/realname/verify", map[string]string{"name": "李娜", "id_number": unregistered}).ok(t).into(t, &r)
	if r.Match {
		t.Fatal("sandbox-registered person matched another name")
	}
	e.do("POST", "/api/identity/realname/verify", []byte("{not json")).want(t, http.StatusBadRequest, CodeParamInvalid)
}

func TestCompanyVerify(t *testing.T) {
	co := DemoCompanies[0] // legal rep 张三, agent 王五
	badUSCC := co.USCC[:17] + "0"
	if co.USCC[17] == '0' {
		badUSCC = co.USCC[:17] + "1"
	}
	tests := []struct {
		what, uscc, name, id string
		status               int
		code                 string
		match                bool
		role                 string
	}{
		{"legal representative", co.USCC, "张三", zhangSan.IDNumber, 200, CodeOK, true, "legal_representative"},
		{"agent", co.USCC, "王五", wangWu.IDNumber, 200, CodeOK, true, "agent"},
		{"stranger", co.USCC, "李四", liSi.IDNumber, 200, CodeOK, false, ""},
		{"wrong name", co.USCC, "张叁", zhangSan.IDNumber, 200, CodeOK, false, ""},
		{"lower-case uscc", strings.ToLower(co.USCC), "张三", zhangSan.IDNumber, 200, CodeOK, true, "legal_representative"},
		{"unknown company", uscc("91350100MA0000001"), "张三", zhangSan.IDNumber, 404, CodeCompanyNotFound, false, ""},
		{"bad uscc", badUSCC, "张三", zhangSan.IDNumber, 400, CodeUSCCInvalid, false, ""},
		{"bad id", co.USCC, "张三", "350102199003071230", 400, CodeIDNumberInvalid, false, ""},
	}
	e := newEnv(t, Options{})
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			a := e.do("POST", "/api/identity/company/verify", map[string]string{"uscc": tt.uscc, "operator_name": tt.name, "operator_id_number": tt.id})
			a.want(t, tt.status, tt.code)
			if tt.status != 200 {
				return
			}
			var r struct {
				Match       bool   `json:"match"`
				CompanyName string `json:"company_name"`
				Role        string `json:"role"`
			}
			a.into(t, &r)
			if r.Match != tt.match || r.Role != tt.role || r.CompanyName != co.Name {
				t.Fatalf("%+v", r)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func licensesOf(t *testing.T, e *env, holderType, id string) []License {
	t.Helper()
	var d struct {
		Licenses []License `json:"licenses"`
	}
	e.do("POST", "/api/licenses/query", map[string]string{"holder_type": holderType, "holder_id": id}).ok(t).into(t, &d)
	return d.Licenses
}

func find(ls []License, typ string) (License, bool) {
	for _, l := range ls {
		if l.Type == typ {
			return l, true
		}
	}
	return License{}, false
}

func TestLicensesQuery(t *testing.T) {
	e := newEnv(t, Options{})
	today := day(e.clock.Now())
	within30 := func(l License) bool {
		exp, err := time.ParseInLocation(time.DateOnly, l.ExpiresOn, chinaTime)
		return err == nil && !exp.Before(today) && exp.Sub(today) <= 30*24*time.Hour
	}

	zs := licensesOf(t, e, HolderCitizen, zhangSan.IDNumber)
	id, ok1 := find(zs, "id_card")
	dl, ok2 := find(zs, "driving_license")
	if !ok1 || !ok2 || id.Status != LicenseValid || dl.Status != LicenseValid || !within30(dl) {
		t.Fatalf("张三's licences %+v", zs)
	}
	if id.NumberMasked != pii.MaskIDNumber(zhangSan.IDNumber) || id.HolderNameMasked != "张*" || id.Name != "居民身份证" || id.Issuer == "" {
		t.Fatalf("ID card view %+v", id)
	}
	if strings.Contains(string(mustJSON(t, zs)), zhangSan.IDNumber) {
		t.Fatal("the query shows a clear ID number")
	}
	if dl, _ := find(licensesOf(t, e, HolderCitizen, wangWu.IDNumber), "driving_license"); dl.Status != LicenseExpired {
		t.Fatalf("王五's driving licence %+v, want expired", dl)
	}
	if id, _ := find(licensesOf(t, e, HolderCitizen, linXiaoHong.IDNumber), "id_card"); id.Status != LicenseValid || !within30(id) {
		t.Fatalf("林小红's ID card %+v, want expiring within 30 days", id)
	}
	if id, _ := find(licensesOf(t, e, HolderCitizen, zhaoLiu.IDNumber), "id_card"); id.ExpiresOn != "" {
		t.Fatalf("赵六's ID card %+v, want long-term", id)
	}
	revoked := 0
	for _, l := range licensesOf(t, e, HolderCitizen, chenJianHua.IDNumber) {
		if l.Status == LicenseRevoked {
			revoked++
		}
	}
	if revoked != 1 {
		t.Fatalf("陈建华 has %d revoked licences", revoked)
	}
	biz := licensesOf(t, e, HolderBusiness, DemoCompanies[0].USCC)
	if bl, ok := find(biz, "business_license"); !ok || bl.NumberMasked != pii.MaskUSCC(DemoCompanies[0].USCC) {
		t.Fatalf("company licences %+v", biz)
	}
	if fl, ok := find(biz, "food_business_license"); !ok || !within30(fl) {
		t.Fatalf("food licence %+v", biz)
	}

	// An unregistered but valid number gets an ID card, named once verified.
	gen := licensesOf(t, e, HolderCitizen, unregistered)
	if len(gen) != 1 || gen[0].Type != "id_card" || gen[0].Status != LicenseValid {
		t.Fatalf("generated %+v", gen)
	}
	e.do("POST", "/api/identity/realname/verify", map[string]string{"name": "欧阳娜娜", "id_number": unregistered}).ok(t)
	again := licensesOf(t, e, HolderCitizen, unregistered)
	if len(again) != 1 || again[0].ID != gen[0].ID || again[0].HolderNameMasked != "欧***" {
		t.Fatalf("after verification %+v", again)
	}

	e.do("POST", "/api/licenses/query", map[string]string{"holder_type": "citizen", "holder_id": "123"}).want(t, http.StatusBadRequest, CodeIDNumberInvalid)
	e.do("POST", "/api/licenses/query", map[string]string{"holder_type": "business", "holder_id": "123"}).want(t, http.StatusBadRequest, CodeUSCCInvalid)
	e.do("POST", "/api/licenses/query", map[string]string{"holder_type": "alien", "holder_id": "123"}).want(t, http.StatusBadRequest, CodeParamInvalid)
}

func TestLicenseVerifyCode(t *testing.T) {
	e := newEnv(t, Options{})
	id, _ := find(licensesOf(t, e, HolderCitizen, zhangSan.IDNumber), "id_card")
	var vc struct {
		Code      string `json:"code"`
		ExpiresAt string `json:"expires_at"`
	}
	e.do("POST", "/api/licenses/"+id.ID+"/verify-code", map[string]string{"holder_id": zhangSan.IDNumber}).ok(t).into(t, &vc)
	exp, err := time.Parse(time.RFC3339, vc.ExpiresAt)
	if len(vc.Code) != 8 || err != nil || !exp.Equal(e.clock.Now().Add(VerifyCodeTTL)) {
		t.Fatalf("verify code %+v", vc)
	}
	var check struct {
		Valid   bool    `json:"valid"`
		License License `json:"license"`
	}
	e.do("GET", "/api/licenses/verify?code="+vc.Code, nil).ok(t).into(t, &check)
	if !check.Valid || check.License.ID != id.ID {
		t.Fatalf("check %+v", check)
	}
	e.clock.Advance(VerifyCodeTTL - time.Second)
	e.do("GET", "/api/licenses/verify?code="+strings.ToLower(vc.Code), nil).ok(t).into(t, &check)
	if !check.Valid {
		t.Fatal("code expired early")
	}
	e.clock.Advance(time.Second)
	check.Valid = true
	e.do("GET", "/api/licenses/verify?code="+vc.Code, nil).ok(t).into(t, &check)
	if check.Valid {
		t.Fatal("code works after 5 minutes")
	}
	e.do("GET", "/api/licenses/verify?code=NOPE2345", nil).ok(t).into(t, &check)
	if check.Valid {
		t.Fatal("unknown code valid")
	}
	e.do("GET", "/api/licenses/verify", nil).want(t, http.StatusBadRequest, CodeParamInvalid)

	// Only the holder may show a licence; an expired one cannot be shown.
	e.do("POST", "/api/licenses/"+id.ID+"/verify-code", map[string]string{"holder_id": liSi.IDNumber}).want(t, http.StatusNotFound, CodeLicenseNotFound)
	e.do("POST", "/api/licenses/ELNOPE/verify-code", map[string]string{"holder_id": zhangSan.IDNumber}).want(t, http.StatusNotFound, CodeLicenseNotFound)
	dl, _ := find(licensesOf(t, e, HolderCitizen, wangWu.IDNumber), "driving_license")
	e.do("POST", "/api/licenses/"+dl.ID+"/verify-code", map[string]string{"holder_id": wangWu.IDNumber}).want(t, http.StatusConflict, CodeLicenseNotValid)
}
