package bff_test

import (
	"context"
	"encoding/hex"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/pii"
	sbprovince "zwfw/sandbox/province"
)

// companyItem picks an online item only companies apply for.
func companyItem(t *testing.T, fake *sbprovince.Server) sbprovince.Guide {
	t.Helper()
	for _, g := range fake.Items() {
		if g.OnlineApply && reflect.DeepEqual(g.Audience, []string{"business"}) {
			return g
		}
	}
	t.Fatal("the sandbox has no online item for companies only")
	return sbprovince.Guide{}
}

func errorFieldNames(m map[string]any) []string {
	var out []string
	for _, f := range m["fields"].([]any) {
		out = append(out, f.(map[string]any)["field"].(string))
	}
	slices.Sort(out)
	return out
}

// Signed in as verified 张三, a form naming 李四 (his name, his ID number)
// is refused, nothing is stored and the province receives nothing; the
// applicant fields come from the account, and the owner alone sees them in full.
func TestApplicantIsTheSignedInPerson(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen("zhangsan")
	li := sbprovince.DemoPeople[1]
	g := onlineItem(t, fake)
	delivery := map[string]string{"materials": "upload", "result": "electronic"}
	draft := func(form map[string]any, extra ...string) *response {
		body := map[string]any{"item_code": g.Code, "form": form, "delivery": delivery}
		for i := 0; i+1 < len(extra); i += 2 {
			body[extra[i]] = extra[i+1]
		}
		return s.request("POST", "/api/v1/cases", me.Access, body)
	}
	tests := []struct {
		name   string
		typed  map[string]any
		fields []string
	}{
		{"李四's name and ID number", map[string]any{"applicant_name": li.Name, "applicant_id_number": li.IDNumber},
			[]string{"form.applicant_id_number", "form.applicant_name"}},
		{"张三's name with 李四's ID number", map[string]any{"applicant_name": zhang.Name, "applicant_id_number": li.IDNumber},
			[]string{"form.applicant_id_number"}},
		{"李四's name alone", map[string]any{"applicant_name": li.Name}, []string{"form.applicant_name"}},
	}
	for _, tt := range tests {
		form := fullForm(g, zhang, "")
		maps.Copy(form, tt.typed)
		m := wantError(t, draft(form), 403, "CASE_APPLICANT_MISMATCH")
		if got := errorFieldNames(m); !reflect.DeepEqual(got, tt.fields) {
			t.Fatalf("%s: fields %v, want %v", tt.name, got, tt.fields)
		}
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	s.request("GET", "/api/v1/cases", me.Access, nil).JSON(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("refused forms left %d cases", len(list.Items))
	}

	// A draft stored naming 李四 (filed before the check existed) is refused
	// at submission, and the province receives nothing.
	stale := s.preparedDraft(me, zhang, g)
	sm4, _ := hex.DecodeString(strings.Repeat("cd", 16)) // the test server's ZWFW_SM4_KEY
	cipher, err := pii.NewCipher(map[byte][]byte{1: sm4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := cipher.EncryptField("form.applicant_name", li.Name)
	if _, err := s.app.DB().Collection("cases").UpdateOne(context.Background(), bson.D{{Key: "_id", Value: stale}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "form.applicant_name", Value: enc}}}}); err != nil {
		t.Fatal(err)
	}
	wantError(t, s.request("POST", "/api/v1/cases/"+stale+"/submit", me.Access, nil, "Idempotency-Key", "stale-"+stale), 403, "CASE_APPLICANT_MISMATCH")
	if n := fake.Calls("POST /api/cases"); n != 0 || len(fake.Cases()) != 0 {
		t.Fatalf("the province was asked %d times and holds %d cases after refusals", n, len(fake.Cases()))
	}

	// Typed as the account says it: accepted. Left out: filled in.
	same := fullForm(g, zhang, "")
	same["applicant_name"], same["applicant_id_number"] = zhang.Name, zhang.IDNumber
	if r := draft(same); r.Status != 201 {
		t.Fatalf("a form naming the signed-in person: %d %s", r.Status, r.Body)
	}
	r := draft(fullForm(g, zhang, ""))
	if r.Status != 201 {
		t.Fatalf("a form without applicant fields: %d %s", r.Status, r.Body)
	}
	created := r.M(t)
	id := created["id"].(string)
	if strings.Contains(string(r.Body), zhang.IDNumber) || created["form"].(map[string]any)["applicant_name"] != pii.MaskName(zhang.Name) {
		t.Fatalf("the answer of the write shows personal data in full (it is kept for replays): %s", r.Body)
	}
	own := s.getCase(me.Access, id)["form"].(map[string]any)
	if own["applicant_name"] != zhang.Name || own["applicant_id_number"] != zhang.IDNumber {
		t.Fatalf("the owner's view of the form: %v", own)
	}
	if r := s.request("GET", "/api/v1/cases", me.Access, nil); strings.Contains(string(r.Body), zhang.IDNumber) {
		t.Fatalf("the list shows the ID number in full: %s", r.Body)
	}
	for _, mat := range g.Materials {
		if mat.Required {
			s.upload(me.Access, id, mat.ID, "m.pdf", strings.NewReader(string(minimalPDF)))
		}
	}
	if r := s.request("POST", "/api/v1/cases/"+id+"/submit", me.Access, nil, "Idempotency-Key", "submit-"+id); r.Status != 202 {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	number := s.waitCase(me.Access, id, "a case number", func(c map[string]any) bool { return c["case_number"] != nil })["case_number"].(string)
	pc, _ := fake.CaseByNumber(number)
	if pc.Applicant["name"] != zhang.Name || pc.Applicant["id_number"] != zhang.IDNumber ||
		pc.Form["applicant_name"] != zhang.Name || pc.Form["applicant_id_number"] != zhang.IDNumber {
		t.Fatalf("the province received applicant %v, form %v", pc.Applicant, pc.Form)
	}
}

// A company's case is filed for a company bound to the signed-in user, and
// names that company.
func TestCompanyApplicantIsBound(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen("boss")
	biz := companyItem(t, fake)
	ownCo, liCo := sbprovince.DemoCompanies[0], sbprovince.DemoCompanies[1] // 张三's; 李四's
	form := fullForm(biz, zhang, "")
	delete(form, "company_name")
	delete(form, "uscc")
	draft := func(item string, form map[string]any, asCompany string) *response {
		body := map[string]any{"item_code": item, "form": form, "delivery": map[string]string{"materials": "upload", "result": "electronic"}}
		if asCompany != "" {
			body["as_company"] = asCompany
		}
		return s.request("POST", "/api/v1/cases", me.Access, body)
	}

	wantError(t, draft(biz.Code, form, ""), 400, "CASE_COMPANY_REQUIRED")
	for range 2 { // the same refusal every time
		wantError(t, draft(biz.Code, form, ownCo.USCC), 403, "COMPANY_NOT_BOUND")
	}
	if r := s.request("POST", "/api/v1/me/companies", me.Access, map[string]string{"uscc": ownCo.USCC}); r.Status != 200 {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	wantError(t, draft(biz.Code, form, liCo.USCC), 403, "COMPANY_NOT_BOUND")
	other := maps.Clone(form)
	other["company_name"], other["uscc"] = liCo.Name, liCo.USCC
	m := wantError(t, draft(biz.Code, other, ownCo.USCC), 403, "CASE_APPLICANT_MISMATCH")
	if got := errorFieldNames(m); !reflect.DeepEqual(got, []string{"form.company_name", "form.uscc"}) {
		t.Fatalf("fields %v", got)
	}
	wantError(t, draft(onlineItem(t, fake).Code, fullForm(onlineItem(t, fake), zhang, ""), ownCo.USCC), 400, "CASE_COMPANY_NOT_ACCEPTED")

	r := draft(biz.Code, form, ownCo.USCC)
	if r.Status != 201 {
		t.Fatalf("a company's draft: %d %s", r.Status, r.Body)
	}
	c := r.M(t)
	got := s.getCase(me.Access, c["id"].(string))
	f := got["form"].(map[string]any)
	if a := got["applicant"].(map[string]any); a["type"] != "business" || a["uscc"] != ownCo.USCC ||
		f["uscc"] != ownCo.USCC || f["company_name"] != ownCo.Name || f["contact_name"] != zhang.Name || f["contact_id_number"] != zhang.IDNumber {
		t.Fatalf("company case: applicant %v, form %v", got["applicant"], f)
	}
	if len(fake.Cases()) != 0 {
		t.Fatal("drafts reached the province")
	}
}
