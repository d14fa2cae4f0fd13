package bff_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"zwfw/bff"
	"zwfw/identity"
	"zwfw/platform/testenv"
	sbprovince "zwfw/sandbox/province"
)

// minimalPDF is a tiny but well-formed PDF.
var minimalPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

// upload posts a multipart material like the app does.
func (s *server) upload(token, caseID, slot, filename string, content io.Reader) *response {
	s.t.Helper()
	r, err := s.tryUpload(token, caseID, slot, filename, content)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// tryUpload is upload that returns transport errors instead of failing.
func (s *server) tryUpload(token, caseID, slot, filename string, content io.Reader) (*response, error) {
	s.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("slot_id", slot)
	fw, _ := w.CreateFormFile("file", filename)
	_, _ = io.Copy(fw, content)
	_ = w.Close()
	req, _ := http.NewRequest("POST", s.base+"/api/v1/cases/"+caseID+"/materials", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	r := &response{Status: res.StatusCode, Header: res.Header, Body: out}
	s.validate(req, r)
	return r, nil
}

// onlineItem picks a sandbox item that can be applied for online, with
// required materials and form fields.
func onlineItem(t testing.TB, fake *sbprovince.Server) sbprovince.Guide {
	for _, g := range fake.Items() {
		required := 0
		for _, m := range g.Materials {
			if m.Required {
				required++
			}
		}
		if g.OnlineApply && required >= 2 && len(g.FormFields) > 0 {
			return g
		}
	}
	t.Fatal("the sandbox has no online item with required materials")
	return sbprovince.Guide{}
}

// accountFields are the form fields zwfw fills in from the signed-in,
// verified person: the app does not send them.
var accountFields = map[string]bool{"applicant_name": true, "applicant_id_number": true, "contact_name": true, "contact_id_number": true}

// fullForm fills every field of g's form the applicant types.
func fullForm(g sbprovince.Guide, person sbprovince.Person, uscc string) map[string]any {
	form := map[string]any{}
	for _, f := range g.FormFields {
		if accountFields[f.Name] {
			continue
		}
		switch f.Type {
		case "number":
			form[f.Name] = 1
		case "date":
			form[f.Name] = "2026-11-20"
		case "enum":
			form[f.Name] = f.Options[0]
		case "phone":
			form[f.Name] = person.Phone
		case "id_number":
			form[f.Name] = person.IDNumber
		case "uscc":
			form[f.Name] = uscc
		case "address":
			form[f.Name] = person.Address
		default:
			form[f.Name] = "测试"
		}
	}
	return form
}

// verifiedCitizen signs in through WeChat as name, verified as 张三. One
// person holds an identity: once a first name is verified as 张三 in this
// zwfw, later names get a session of that person.
func (s *server) verifiedCitizen(name string) (session, sbprovince.Person) {
	s.t.Helper()
	zhang := sbprovince.DemoPeople[0]
	if s.zhang != "" {
		return s.loginWeChat(s.zhang), zhang
	}
	me := s.loginWeChat(name)
	r := s.request("POST", "/api/v1/me/realname", me.Access, map[string]string{"name": zhang.Name, "id_number": zhang.IDNumber})
	if r.Status != 200 {
		s.t.Fatalf("realname: %d %s", r.Status, r.Body)
	}
	s.zhang = name
	return me, zhang
}

func (s *server) getCase(token, id string) map[string]any {
	s.t.Helper()
	r := s.request("GET", "/api/v1/cases/"+id, token, nil)
	if r.Status != 200 {
		s.t.Fatalf("get case: %d %s", r.Status, r.Body)
	}
	return r.M(s.t)
}

func (s *server) waitCase(token, id, what string, cond func(c map[string]any) bool) map[string]any {
	s.t.Helper()
	var c map[string]any
	testenv.WaitFor(s.t, what, func() bool {
		c = s.getCase(token, id)
		return cond(c)
	})
	return c
}

func statusIs(want string) func(map[string]any) bool {
	return func(c map[string]any) bool { return c["status"] == want }
}

// The online application journey of the issue, through the public API.
func TestApplicationJourney(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen("applicant")
	g := onlineItem(t, fake)
	delivery := map[string]string{"materials": "upload", "result": "electronic"}

	// A draft with nothing: pre-review lists every missing material and field at once.
	r := s.request("POST", "/api/v1/cases", me.Access, map[string]any{"item_code": g.Code, "form": map[string]any{}, "delivery": delivery})
	if r.Status != 201 {
		t.Fatalf("create draft: %d %s", r.Status, r.Body)
	}
	empty := r.M(t)["id"].(string)
	r = s.request("POST", "/api/v1/cases/"+empty+"/submit", me.Access, nil, "Idempotency-Key", "submit-empty-1")
	m := wantError(t, r, 400, "CASE_PREREVIEW_FAILED")
	want := 0
	for _, mat := range g.Materials {
		if mat.Required {
			want++
		}
	}
	for _, f := range g.FormFields {
		if f.Required && !accountFields[f.Name] { // the account's fields are filled in already
			want++
		}
	}
	if fields, _ := m["fields"].([]any); len(fields) != want {
		t.Fatalf("pre-review named %d problems, want %d (every missing material and field): %s", len(fields), want, r.Body)
	}

	// A complete application.
	r = s.request("POST", "/api/v1/cases", me.Access, map[string]any{"item_code": g.Code, "form": fullForm(g, zhang, sbprovince.DemoCompanies[0].USCC), "delivery": delivery})
	if r.Status != 201 {
		t.Fatalf("create draft: %d %s", r.Status, r.Body)
	}
	id := r.M(t)["id"].(string)
	var slots []string
	for _, mat := range g.Materials {
		if mat.Required {
			slots = append(slots, mat.ID)
			if r := s.upload(me.Access, id, mat.ID, mat.Name+".pdf", bytes.NewReader(minimalPDF)); r.Status != 201 {
				t.Fatalf("upload %s: %d %s", mat.ID, r.Status, r.Body)
			}
		}
	}
	for i := 0; i < 2; i++ {
		r = s.request("POST", "/api/v1/cases/"+id+"/submit", me.Access, nil, "Idempotency-Key", "submit-"+id)
		if r.Status != 202 {
			t.Fatalf("submit %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	c := s.waitCase(me.Access, id, "the province's case number", func(c map[string]any) bool { return c["case_number"] != nil })
	number := c["case_number"].(string)
	if c["status"] != "submitted" || c["query_password"] == nil {
		t.Fatalf("after delivery: %v", c)
	}
	if n := countCases(fake, g.Code); n != 1 {
		t.Fatalf("two submits with one key made %d province cases", n)
	}

	// The province accepts, asks for a supplement, gets it, and approves.
	advance(t, fake, number, sbprovince.Advance{Status: "accepted"})
	c = s.waitCase(me.Access, id, "accepted", statusIs("accepted"))
	tl := c["time_limit"].(map[string]any)
	if tl["due_on"] == nil || tl["working_days_left"] == nil || tl["overdue"] != false {
		t.Fatalf("time limit after acceptance: %v", tl)
	}
	advance(t, fake, number, sbprovince.Advance{Status: "supplement_requested", Note: "身份证复印件不清晰", Materials: slots[:1]})
	c = s.waitCase(me.Access, id, "supplement requested", statusIs("supplement_requested"))
	r = s.request("POST", "/api/v1/cases/"+id+"/supplement", me.Access, nil, "Idempotency-Key", "supp-"+id)
	wantError(t, r, 400, "CASE_PREREVIEW_FAILED")
	if r := s.upload(me.Access, id, slots[0], "补正.pdf", bytes.NewReader(minimalPDF)); r.Status != 201 {
		t.Fatalf("supplement upload: %d %s", r.Status, r.Body)
	}
	r = s.request("POST", "/api/v1/cases/"+id+"/supplement", me.Access, nil, "Idempotency-Key", "supp-"+id)
	if r.Status != 200 || r.M(t)["status"] != "resubmitted" {
		t.Fatalf("supplement: %d %s", r.Status, r.Body)
	}
	advance(t, fake, number, sbprovince.Advance{Status: "accepted", Note: "补正材料已审核"})
	s.waitCase(me.Access, id, "accepted again", statusIs("accepted"))
	advance(t, fake, number, sbprovince.Advance{Status: "completed_approved", Result: "electronic"})
	c = s.waitCase(me.Access, id, "completed", statusIs("completed_approved"))
	if tl, _ := c["timeline"].([]any); len(tl) < 6 {
		t.Fatalf("timeline has %d entries: %v", len(tl), c["timeline"])
	}

	r = s.request("POST", "/api/v1/cases/"+id+"/evaluation", me.Access, map[string]any{"level": 1}, "Idempotency-Key", "eval-1-"+id)
	wantError(t, r, 400, "EVALUATION_INVALID")
	r = s.request("POST", "/api/v1/cases/"+id+"/evaluation", me.Access, map[string]any{"level": 5, "comment": "很方便"}, "Idempotency-Key", "eval-2-"+id)
	if r.Status != 201 {
		t.Fatalf("evaluate: %d %s", r.Status, r.Body)
	}
	r = s.request("POST", "/api/v1/cases/"+id+"/evaluation", me.Access, map[string]any{"level": 4}, "Idempotency-Key", "eval-3-"+id)
	wantError(t, r, 409, "EVALUATION_EXISTS")
	testenv.WaitFor(t, "the evaluation reported to the province", func() bool {
		pc, ok := fake.CaseByNumber(number)
		return ok && pc.Evaluation != nil
	})

	r = s.request("GET", "/api/v1/cases", me.Access, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), id) {
		t.Fatalf("my cases: %d %s", r.Status, r.Body)
	}
	// Someone else's case does not exist for me.
	other := s.loginWeChat("stranger")
	r = s.request("GET", "/api/v1/cases/"+id, other.Access, nil)
	wantError(t, r, 404, "CASE_NOT_FOUND")
}

func advance(t *testing.T, fake *sbprovince.Server, number string, a sbprovince.Advance) {
	t.Helper()
	if _, err := fake.AdvanceCase(number, a); err != nil {
		t.Fatalf("advance %s to %s: %v", number, a.Status, err)
	}
}

func countCases(fake *sbprovince.Server, itemCode string) int {
	n := 0
	for _, c := range fake.Cases() {
		if c.ItemCode == itemCode {
			n++
		}
	}
	return n
}

// The province is down while a citizen submits: the case waits as
// submitted and is delivered, once, when the province is back.
func TestSubmitDuringProvinceOutage(t *testing.T) {
	// It polls the case while the province is away; retries come every 100 ms here.
	s := start(t, noRateLimits, func(c *bff.Config) { c.ProvinceOutageRetry = func() time.Duration { return 100 * time.Millisecond } })
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen("outage")
	g := onlineItem(t, fake)
	r := s.request("POST", "/api/v1/cases", me.Access, map[string]any{"item_code": g.Code, "form": fullForm(g, zhang, sbprovince.DemoCompanies[0].USCC),
		"delivery": map[string]string{"materials": "upload", "result": "electronic"}})
	id := r.M(t)["id"].(string)
	for _, mat := range g.Materials {
		if mat.Required {
			s.upload(me.Access, id, mat.ID, "m.pdf", bytes.NewReader(minimalPDF))
		}
	}
	if err := fake.SetFault(sbprovince.Fault{Group: "cases", Mode: "error", Status: 503}); err != nil {
		t.Fatal(err)
	}
	r = s.request("POST", "/api/v1/cases/"+id+"/submit", me.Access, nil, "Idempotency-Key", "outage-"+id)
	if r.Status != 202 {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	testenv.WaitFor(t, "delivery attempts while the province is down", func() bool {
		for _, f := range fake.Faults() {
			if f.Group == "cases" && f.Hits >= 1 {
				return true
			}
		}
		return false
	})
	if c := s.getCase(me.Access, id); c["status"] != "submitted" || c["case_number"] != nil {
		t.Fatalf("during the outage: %v", c)
	}
	fake.ClearFaults()
	// The retry backoff is up to a few seconds here; the job keeps its key.
	s.waitCase(me.Access, id, "delivery after the outage", func(c map[string]any) bool { return c["case_number"] != nil })
	if n := countCases(fake, g.Code); n != 1 {
		t.Fatalf("the province has %d cases for one submission", n)
	}
}

// Hostile uploads are refused cleanly and change nothing.
func TestHostileUploads(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen("hostile")
	g := onlineItem(t, fake)
	r := s.request("POST", "/api/v1/cases", me.Access, map[string]any{"item_code": g.Code, "form": fullForm(g, zhang, sbprovince.DemoCompanies[0].USCC),
		"delivery": map[string]string{"materials": "upload", "result": "electronic"}})
	id := r.M(t)["id"].(string)
	slot := g.Materials[0].ID
	elf := append([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0}, bytes.Repeat([]byte{0}, 2048)...)

	r = s.upload(me.Access, id, slot, "x.pdf", bytes.NewReader(elf))
	wantError(t, r, 400, "MATERIAL_TYPE_UNSUPPORTED")
	r = s.upload(me.Access, id, slot, "../../etc/passwd", bytes.NewReader(minimalPDF))
	wantError(t, r, 400, "MATERIAL_NAME_INVALID")
	// 50 MB: the server refuses on the declared length before reading the
	// body (never buffering it). A client still sending may see the 413 or,
	// when the server closes first, a reset connection; either way nothing is stored.
	big := io.MultiReader(bytes.NewReader(minimalPDF[:9]), io.LimitReader(zeros{}, 50<<20))
	if r, err := s.tryUpload(me.Access, id, slot, "big.pdf", big); err == nil {
		wantError(t, r, 413, "REQUEST_BODY_TOO_LARGE")
	}
	// Just over the 10 MB material limit (but under the request limit): the store refuses it while reading.
	over := io.MultiReader(bytes.NewReader(minimalPDF[:9]), io.LimitReader(zeros{}, 10<<20))
	r = s.upload(me.Access, id, slot, "over.pdf", over)
	wantError(t, r, 413, "MATERIAL_TOO_LARGE")
	r = s.upload(me.Access, id, "no-such-slot", "a.pdf", bytes.NewReader(minimalPDF))
	wantError(t, r, 400, "MATERIAL_SLOT_UNKNOWN")
	if c := s.getCase(me.Access, id); len(c["materials"].([]any)) != 0 {
		t.Fatalf("refused uploads left materials: %v", c["materials"])
	}
	_ = fmt.Sprint(time.Now())
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	return len(p), nil
}

// submittedCase creates, fills and submits a case and waits for its number.
func (s *server) submittedCase(name string) (session, string, string) {
	s.t.Helper()
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen(name)
	g := onlineItem(s.t, fake)
	r := s.request("POST", "/api/v1/cases", me.Access, map[string]any{"item_code": g.Code, "form": fullForm(g, zhang, sbprovince.DemoCompanies[0].USCC),
		"delivery": map[string]string{"materials": "upload", "result": "electronic"}})
	id := r.M(s.t)["id"].(string)
	for _, mat := range g.Materials {
		if mat.Required {
			s.upload(me.Access, id, mat.ID, "m.pdf", bytes.NewReader(minimalPDF))
		}
	}
	if r := s.request("POST", "/api/v1/cases/"+id+"/submit", me.Access, nil, "Idempotency-Key", "submit-"+id); r.Status != 202 {
		s.t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	c := s.waitCase(me.Access, id, "a case number", func(c map[string]any) bool { return c["case_number"] != nil })
	return me, id, c["case_number"].(string)
}

func TestWithdraw(t *testing.T) {
	s := start(t)
	me, id, _ := s.submittedCase("withdrawer")
	r := s.request("POST", "/api/v1/cases/"+id+"/withdraw", me.Access, map[string]string{"reason": "材料准备有误"})
	wantError(t, r, 400, "IDEMPOTENCY_KEY_REQUIRED")
	r = s.request("POST", "/api/v1/cases/"+id+"/withdraw", me.Access, map[string]string{"reason": "材料准备有误"}, "Idempotency-Key", "withdraw-"+id)
	if r.Status != 200 || r.M(t)["status"] != "withdrawn" {
		t.Fatalf("withdraw: %d %s", r.Status, r.Body)
	}
	// Withdrawn is final: submitting again is refused.
	r = s.request("POST", "/api/v1/cases/"+id+"/submit", me.Access, nil, "Idempotency-Key", "again-"+id)
	wantError(t, r, 409, "CASE_NOT_DRAFT")
}

// Callbacks are verified before anything is read; a late or repeated
// delivery never moves a case backwards.
func TestProvinceCallbacks(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	me, id, number := s.submittedCase("callbacks")
	advance(t, fake, number, sbprovince.Advance{Status: "accepted"})
	s.waitCase(me.Access, id, "accepted", statusIs("accepted"))

	send := func(body map[string]any, sign bool, secret string) *response {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", s.base+"/api/v1/callbacks/province", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		if sign {
			sbprovince.SignRequest(req, raw, fake.AppKey(), secret, "HMAC-SM3", time.Now())
		}
		res, err := s.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		r := &response{Status: res.StatusCode, Header: res.Header, Body: out}
		s.validate(req, r)
		return r
	}
	late := map[string]any{"event_id": "ev-late", "event": "case.status_changed", "case_number": number,
		"status": "submitted", "previous_status": "", "at": time.Now().Add(-time.Hour).Format(time.RFC3339), "seq": 1}
	r := send(late, true, fake.AppSecret())
	if r.Status != 200 || r.Header.Get("X-Gw-Signature") == "" {
		t.Fatalf("late callback: %d %s", r.Status, r.Body)
	}
	if c := s.getCase(me.Access, id); c["status"] != "accepted" {
		t.Fatalf("a late callback moved the case back to %v", c["status"])
	}
	forged := map[string]any{"event_id": "ev-x", "event": "case.status_changed", "case_number": number, "status": "completed_approved", "seq": 9}
	wantError(t, send(forged, true, "not-the-secret"), 401, "PROVINCE_CALLBACK_SIGNATURE_INVALID")
	wantError(t, send(forged, false, ""), 401, "PROVINCE_CALLBACK_SIGNATURE_MISSING")
	if c := s.getCase(me.Access, id); c["status"] != "accepted" {
		t.Fatalf("a forged callback changed the case to %v", c["status"])
	}
}

// A citizen calls 12345: the operator finds the case by the phone on the
// application, with the call's ticket, sees masked data only, and the look-up
// is in the audit log an admin reads.
func TestHotlineLookupIsAudited(t *testing.T) {
	s := start(t)
	me, id, number := s.submittedCase("caller")
	_ = me
	for _, u := range []struct{ name, role string }{{"hotline07", "hotline"}, {"admin07", "admin"}} {
		if _, err := s.app.Identity().CreateStaff(t.Context(), u.name, u.name, "Staff-pass-2026", []identity.Role{identity.Role(u.role)}); err != nil {
			t.Fatal(err)
		}
	}
	op := s.loginStaff("hotline07", "Staff-pass-2026")
	admin := s.loginStaff("admin07", "Staff-pass-2026")
	phone := sbprovince.DemoPeople[0].Phone

	r := s.request("GET", "/api/v1/hotline/cases?phone="+phone, op, nil)
	wantError(t, r, 400, "HOTLINE_TICKET_REQUIRED")
	r = s.request("GET", "/api/v1/hotline/cases?phone="+phone, me.Access, nil, "X-Hotline-Ticket", "T20261123001")
	wantError(t, r, 403, "AUTH_FORBIDDEN")
	r = s.request("GET", "/api/v1/hotline/cases?phone="+phone+"&number="+number, op, nil, "X-Hotline-Ticket", "T20261123001")
	wantError(t, r, 400, "REQUEST_INVALID")

	r = s.request("GET", "/api/v1/hotline/cases?phone="+phone, op, nil, "X-Hotline-Ticket", "T20261123001")
	if r.Status != 200 || !strings.Contains(string(r.Body), id) {
		t.Fatalf("hotline by phone: %d %s", r.Status, r.Body)
	}
	body := string(r.Body)
	if strings.Contains(body, sbprovince.DemoPeople[0].IDNumber) || strings.Contains(body, "query_password") {
		t.Fatal("the hotline view shows the ID number in clear or the query password")
	}
	r = s.request("GET", "/api/v1/hotline/cases?number="+number, op, nil, "X-Hotline-Ticket", "T20261123002")
	if r.Status != 200 || !strings.Contains(string(r.Body), id) {
		t.Fatalf("hotline by number: %d %s", r.Status, r.Body)
	}
	r = s.request("GET", "/api/v1/hotline/cases?id_number="+sbprovince.DemoPeople[0].IDNumber, op, nil, "X-Hotline-Ticket", "T20261123003")
	if r.Status != 200 || !strings.Contains(string(r.Body), id) {
		t.Fatalf("hotline by ID number: %d %s", r.Status, r.Body)
	}

	r = s.request("GET", "/api/v1/admin/audit", admin, nil)
	if r.Status != 200 {
		t.Fatalf("audit: %d %s", r.Status, r.Body)
	}
	var audit struct {
		Items []struct {
			Ticket    string   `json:"ticket"`
			QueryType string   `json:"query_type"`
			Query     string   `json:"query"`
			CaseIDs   []string `json:"case_ids"`
		} `json:"items"`
	}
	r.JSON(t, &audit)
	if len(audit.Items) != 3 || audit.Items[2].Ticket != "T20261123001" || audit.Items[2].QueryType != "phone" ||
		audit.Items[2].Query == phone || len(audit.Items[2].CaseIDs) != 1 {
		t.Fatalf("audit log = %+v", audit.Items)
	}
	r = s.request("GET", "/api/v1/admin/audit?from=yesterday", admin, nil)
	wantError(t, r, 400, "REQUEST_INVALID")
	r = s.request("GET", "/api/v1/admin/audit", op, nil)
	wantError(t, r, 403, "AUTH_FORBIDDEN")
}

func TestPublicLookupLocksAfterWrongPasswords(t *testing.T) {
	s := start(t)
	me, id, number := s.submittedCase("public")
	pw := s.getCase(me.Access, id)["query_password"].(string)
	r := s.request("GET", "/api/v1/public/cases/"+number+"?password="+pw, "", nil)
	if r.Status != 200 || r.M(t)["status"] != "submitted" || strings.Contains(string(r.Body), `"applicant":`) {
		t.Fatalf("public look-up: %d %s", r.Status, r.Body)
	}
	for i := 1; i <= 4; i++ {
		r = s.request("GET", "/api/v1/public/cases/"+number+"?password=wrong"+fmt.Sprint(i), "", nil)
		wantError(t, r, 404, "CASE_LOOKUP_FAILED")
	}
	r = s.request("GET", "/api/v1/public/cases/"+number+"?password=wrong5", "", nil)
	wantError(t, r, 429, "CASE_LOOKUP_LOCKED")
	// Locked: even the right password waits.
	r = s.request("GET", "/api/v1/public/cases/"+number+"?password="+pw, "", nil)
	wantError(t, r, 429, "CASE_LOOKUP_LOCKED")
	r = s.request("GET", "/api/v1/public/cases/NOSUCHCASE01?password=x", "", nil)
	wantError(t, r, 404, "CASE_LOOKUP_FAILED")
}

// An e-licence the applicant holds replaces an upload where the guide allows it.
func TestAttachELicence(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen("elicence")
	var g sbprovince.Guide
	var slot string
	for _, it := range fake.Items() {
		for _, m := range it.Materials {
			if it.OnlineApply && m.ElicenseType == "id_card" && slot == "" {
				g, slot = it, m.ID
			}
		}
	}
	if slot == "" {
		t.Fatal("no sandbox item takes an ID card e-licence")
	}
	r := s.request("POST", "/api/v1/cases", me.Access, map[string]any{"item_code": g.Code, "form": fullForm(g, zhang, sbprovince.DemoCompanies[0].USCC),
		"delivery": map[string]string{"materials": "upload", "result": "electronic"}})
	if r.Status != 201 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	id := r.M(t)["id"].(string)
	r = s.request("GET", "/api/v1/me/licenses", me.Access, nil)
	var ls struct {
		Licenses []struct{ ID, Type string } `json:"licenses"`
	}
	r.JSON(t, &ls)
	idCard := ""
	for _, l := range ls.Licenses {
		if l.Type == "id_card" {
			idCard = l.ID
		}
	}
	attach := func(lic string) *response {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		_ = w.WriteField("slot_id", slot)
		_ = w.WriteField("license_id", lic)
		_ = w.Close()
		req, _ := http.NewRequest("POST", s.base+"/api/v1/cases/"+id+"/materials", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+me.Access)
		res, err := s.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		resp := &response{Status: res.StatusCode, Header: res.Header, Body: out}
		s.validate(req, resp)
		return resp
	}
	wantError(t, attach("EL-NOT-MINE"), 404, "LICENSE_NOT_FOUND")
	if r := attach(idCard); r.Status != 201 || !strings.Contains(string(r.Body), idCard) {
		t.Fatalf("attach e-licence: %d %s", r.Status, r.Body)
	}
}
