package bff_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/pii"
	sbprovince "zwfw/sandbox/province"
)

// patchCase sends a JSON merge patch of a case, as RFC 7386 names it.
func (s *server) patchCase(token, id string, patch any) *response {
	s.t.Helper()
	return s.request("PATCH", "/api/v1/cases/"+id, token, patch, "Content-Type", "application/merge-patch+json")
}

// materialRequest sends a multipart material to method path: a file, or an e-licence id.
func (s *server) materialRequest(method, path, token, filename string, content []byte, fields ...string) *response {
	s.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = w.WriteField(fields[i], fields[i+1])
	}
	if filename != "" {
		fw, _ := w.CreateFormFile("file", filename)
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	req, _ := http.NewRequest(method, s.base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	r := &response{Status: res.StatusCode, Header: res.Header, Body: out}
	s.validate(req, r)
	return r
}

// storedFiles counts the material files in GridFS.
func (s *server) storedFiles() int64 {
	s.t.Helper()
	n, err := s.app.DB().Collection("materials.files").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// slotFiles lists the materials of a slot in a case view, by round.
func slotFiles(c map[string]any, slot string) (rounds []int) {
	for _, m := range c["materials"].([]any) {
		mm := m.(map[string]any)
		if mm["slot_id"] == slot {
			rounds = append(rounds, int(mm["round"].(float64)))
		}
	}
	return rounds
}

// A draft is edited as a JSON merge patch: fields set and removed, the
// delivery switched to mail (the owner alone sees the address in full), the
// applicant always the verified person; once submitted it cannot be edited.
func TestEditDraft(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen("editor")
	li := sbprovince.DemoPeople[1]
	g := onlineItem(t, fake)
	form := fullForm(g, zhang, "")
	var typed []string // fields the applicant types, in the guide's order
	for _, f := range g.FormFields {
		if _, ok := form[f.Name]; ok {
			typed = append(typed, f.Name)
		}
	}
	if len(typed) < 2 {
		t.Fatalf("item %s has too few typed fields", g.Code)
	}
	missing := typed[0]
	delete(form, missing)
	r := s.request("POST", "/api/v1/cases", me.Access, map[string]any{"item_code": g.Code, "form": form,
		"delivery": map[string]string{"materials": "upload", "result": "electronic"}})
	if r.Status != 201 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	id := r.M(t)["id"].(string)

	// Set the missing field, remove another.
	removed := typed[1]
	r = s.patchCase(me.Access, id, map[string]any{"form": map[string]any{missing: fullForm(g, zhang, "")[missing], removed: nil}})
	if r.Status != 200 {
		t.Fatalf("patch form: %d %s", r.Status, r.Body)
	}
	own := s.getCase(me.Access, id)["form"].(map[string]any)
	if own[missing] == nil || own[removed] != nil || own["applicant_name"] != zhang.Name {
		t.Fatalf("form after the patch: %v", own)
	}

	// The result by mail: the address is checked, stored, shown in full to the owner alone.
	addr := map[string]any{"name": "张三", "phone": "13800138000", "province": "福建省", "city": "福州市", "district": "鼓楼区", "detail": "杨桥中路219号3座1201"}
	wantError(t, s.patchCase(me.Access, id, map[string]any{"delivery": map[string]any{"result": "mail"}}), 400, "REQUEST_INVALID")
	r = s.patchCase(me.Access, id, map[string]any{"delivery": map[string]any{"result": "mail", "address": addr}})
	if r.Status != 200 {
		t.Fatalf("patch delivery: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "杨桥中路219号3座1201") || strings.Contains(string(r.Body), "13800138000") {
		t.Fatalf("the answer of the write shows the address in full (it is kept for replays): %s", r.Body)
	}
	r = s.patchCase(me.Access, id, map[string]any{"delivery": map[string]any{"address": map[string]any{"detail": "杨桥中路219号5座808"}}})
	if r.Status != 200 {
		t.Fatalf("patch address detail: %d %s", r.Status, r.Body)
	}
	got := s.getCase(me.Access, id)
	d := got["delivery"].(map[string]any)
	a := d["address"].(map[string]any)
	if d["result"] != "mail" || a["detail"] != "杨桥中路219号5座808" || a["phone"] != "13800138000" || a["name"] != "张三" || a["district"] != "鼓楼区" {
		t.Fatalf("the owner's delivery: %v", d)
	}
	for _, path := range []string{"/api/v1/cases"} {
		if body := string(s.request("GET", path, me.Access, nil).Body); strings.Contains(body, "杨桥中路219号5座808") || strings.Contains(body, "13800138000") {
			t.Fatalf("%s shows the address in full: %s", path, body)
		}
	}

	// The applicant stays the verified person: another name is refused and
	// changes nothing; a removed applicant field comes back filled in.
	m := wantError(t, s.patchCase(me.Access, id, map[string]any{"form": map[string]any{"applicant_name": li.Name}}), 403, "CASE_APPLICANT_MISMATCH")
	if got := errorFieldNames(m); !slices.Equal(got, []string{"form.applicant_name"}) {
		t.Fatalf("fields %v", got)
	}
	if r := s.patchCase(me.Access, id, map[string]any{"form": map[string]any{"applicant_name": nil, "applicant_id_number": nil}}); r.Status != 200 {
		t.Fatalf("patch removing the applicant: %d %s", r.Status, r.Body)
	}
	own = s.getCase(me.Access, id)["form"].(map[string]any)
	if own["applicant_name"] != zhang.Name || own["applicant_id_number"] != zhang.IDNumber {
		t.Fatalf("applicant after removing it: %v", own)
	}

	// Bad patches, each refused precisely.
	wantError(t, s.patchCase(me.Access, id, map[string]any{"item_code": "X"}), 400, "REQUEST_UNKNOWN_FIELD")
	wantError(t, s.patchCase(me.Access, id, map[string]any{"form": map[string]any{"no_such_field": "1"}}), 400, "REQUEST_INVALID")
	wantError(t, s.patchCase(me.Access, id, map[string]any{"as_company": sbprovince.DemoCompanies[0].USCC}), 400, "CASE_COMPANY_NOT_ACCEPTED")
	wantError(t, s.request("PATCH", "/api/v1/cases/"+id, me.Access, `{"form":`, "Content-Type", "application/merge-patch+json"), 400, "REQUEST_MALFORMED_JSON")
	wantError(t, s.patchCase(s.loginWeChat("stranger").Access, id, map[string]any{"form": map[string]any{}}), 404, "CASE_NOT_FOUND")

	// Complete again, and submitted: no more edits.
	if r := s.patchCase(me.Access, id, map[string]any{"form": map[string]any{removed: fullForm(g, zhang, "")[removed]}}); r.Status != 200 {
		t.Fatalf("patch back: %d %s", r.Status, r.Body)
	}
	for _, mat := range g.Materials {
		if mat.Required {
			s.upload(me.Access, id, mat.ID, "m.pdf", bytes.NewReader(minimalPDF))
		}
	}
	if r := s.request("POST", "/api/v1/cases/"+id+"/submit", me.Access, nil, "Idempotency-Key", "submit-"+id); r.Status != 202 {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	wantError(t, s.patchCase(me.Access, id, map[string]any{"form": map[string]any{missing: nil}}), 409, "CASE_NOT_DRAFT")
	number := s.waitCase(me.Access, id, "a case number", func(c map[string]any) bool { return c["case_number"] != nil })["case_number"].(string)
	pc, _ := fake.CaseByNumber(number)
	if addr, _ := pc.Delivery["address"].(map[string]any); addr["detail"] != "杨桥中路219号5座808" || pc.Form[missing] == nil {
		t.Fatalf("the province received delivery %v, form %v", pc.Delivery, pc.Form)
	}
	if pii.MaskPhone("13800138000") == "13800138000" {
		t.Fatal("masking is off")
	}
}

// A draft filed in person is switched to a company the user is bound to
// (as_company), and back: the applicant follows, the form's applicant stays the person.
func TestEditDraftApplicantCapacity(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen("capacity")
	var g sbprovince.Guide
	for _, it := range fake.Items() {
		if it.OnlineApply && slices.Equal(it.Audience, []string{"citizen", "business"}) &&
			!slices.ContainsFunc(it.FormFields, func(f sbprovince.FormField) bool { return f.Name == "uscc" }) {
			g = it
			break
		}
	}
	if g.Code == "" {
		t.Fatal("no sandbox item takes people and companies alike")
	}
	r := s.request("POST", "/api/v1/cases", me.Access, map[string]any{"item_code": g.Code, "form": fullForm(g, zhang, ""),
		"delivery": map[string]string{"materials": "upload", "result": "electronic"}})
	if r.Status != 201 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	id := r.M(t)["id"].(string)
	co := sbprovince.DemoCompanies[0]
	wantError(t, s.patchCase(me.Access, id, map[string]any{"as_company": co.USCC}), 403, "COMPANY_NOT_BOUND")
	if r := s.request("POST", "/api/v1/me/companies", me.Access, map[string]string{"uscc": co.USCC}); r.Status != 200 {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	r = s.patchCase(me.Access, id, map[string]any{"as_company": co.USCC})
	if r.Status != 200 {
		t.Fatalf("as the company: %d %s", r.Status, r.Body)
	}
	if a := r.M(t)["applicant"].(map[string]any); a["type"] != "business" || a["uscc"] != co.USCC {
		t.Fatalf("applicant %v", a)
	}
	r = s.patchCase(me.Access, id, map[string]any{"as_company": nil})
	if a := r.M(t)["applicant"].(map[string]any); r.Status != 200 || a["type"] != "citizen" || a["uscc"] != nil {
		t.Fatalf("in person again: %d %s", r.Status, r.Body)
	}
}

// A material is replaced or removed while a draft (its old files leave
// GridFS), and during a supplement only in the supplement's round.
func TestReplaceAndRemoveMaterials(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen("materials")
	g := onlineItem(t, fake)
	id := s.preparedDraft(me, zhang, g)
	slot := g.Materials[0].ID
	base := s.storedFiles()
	// A scan in two pages, then a better one instead.
	if r := s.upload(me.Access, id, slot, "page2.pdf", bytes.NewReader(minimalPDF)); r.Status != 201 {
		t.Fatalf("second page: %d %s", r.Status, r.Body)
	}
	if n := len(slotFiles(s.getCase(me.Access, id), slot)); n != 2 || s.storedFiles() != base+1 {
		t.Fatalf("%d files in the slot, %d stored", n, s.storedFiles())
	}
	path := "/api/v1/cases/" + id + "/materials/" + slot
	r := s.materialRequest("PUT", path, me.Access, "clean-scan.pdf", minimalPDF)
	if r.Status != 200 {
		t.Fatalf("replace: %d %s", r.Status, r.Body)
	}
	// Two files out, one in.
	if n := len(slotFiles(r.M(t), slot)); n != 1 || s.storedFiles() != base {
		t.Fatalf("after replacing: %d files in the slot, %d stored (want 1 and %d)", n, s.storedFiles(), base)
	}
	wantError(t, s.materialRequest("PUT", "/api/v1/cases/"+id+"/materials/no-such-slot", me.Access, "a.pdf", minimalPDF), 400, "MATERIAL_SLOT_UNKNOWN")
	wantError(t, s.materialRequest("PUT", path, me.Access, "", nil), 400, "REQUEST_INVALID")
	r = s.request("DELETE", path, me.Access, nil)
	if r.Status != 200 || len(slotFiles(r.M(t), slot)) != 0 || s.storedFiles() != base-1 {
		t.Fatalf("remove: %d, %d stored: %s", r.Status, s.storedFiles(), r.Body)
	}
	wantError(t, s.request("DELETE", path, me.Access, nil), 404, "MATERIAL_NOT_FOUND")
	wantError(t, s.request("POST", "/api/v1/cases/"+id+"/submit", me.Access, nil, "Idempotency-Key", "early-"+id), 400, "CASE_PREREVIEW_FAILED")
	if r := s.materialRequest("PUT", path, me.Access, "final.pdf", minimalPDF); r.Status != 200 {
		t.Fatalf("put into an empty slot: %d %s", r.Status, r.Body)
	}

	// Submitted: the materials are the province's now.
	if r := s.request("POST", "/api/v1/cases/"+id+"/submit", me.Access, nil, "Idempotency-Key", "submit-"+id); r.Status != 202 {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	wantError(t, s.materialRequest("PUT", path, me.Access, "late.pdf", minimalPDF), 409, "CASE_STATE_CONFLICT")
	wantError(t, s.request("DELETE", path, me.Access, nil), 409, "CASE_STATE_CONFLICT")
	number := s.waitCase(me.Access, id, "a case number", func(c map[string]any) bool { return c["case_number"] != nil })["case_number"].(string)

	// A supplement of the slot: replaced within its round, the application's file stays.
	advance(t, fake, number, sbprovince.Advance{Status: "supplement_requested", Note: "扫描件不清晰", Materials: []string{slot}})
	s.waitCase(me.Access, id, "supplement requested", statusIs("supplement_requested"))
	for _, name := range []string{"blurred.pdf", "sharp.pdf"} {
		if r := s.materialRequest("PUT", path, me.Access, name, minimalPDF); r.Status != 200 {
			t.Fatalf("replace %s in the supplement: %d %s", name, r.Status, r.Body)
		}
	}
	if rounds := slotFiles(s.getCase(me.Access, id), slot); !slices.Equal(rounds, []int{0, 1}) {
		t.Fatalf("rounds of the slot's files: %v", rounds)
	}
	other := g.Materials[1].ID
	wantError(t, s.request("DELETE", "/api/v1/cases/"+id+"/materials/"+other, me.Access, nil), 400, "MATERIAL_SLOT_UNKNOWN")
	r = s.request("POST", "/api/v1/cases/"+id+"/supplement", me.Access, nil, "Idempotency-Key", "supp-"+id)
	if r.Status != 200 || r.M(t)["status"] != "resubmitted" {
		t.Fatalf("supplement: %d %s", r.Status, r.Body)
	}
	pc, _ := fake.CaseByNumber(number)
	var sent []string
	for _, m := range pc.Materials {
		if m["material_id"] == slot {
			sent = append(sent, m["name"].(string))
		}
	}
	if !slices.Equal(sent, []string{"final.pdf", "sharp.pdf"}) {
		t.Fatalf("the province holds %v for %s", sent, slot)
	}
}
