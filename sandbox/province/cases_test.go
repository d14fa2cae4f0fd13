package province

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// itemNamed returns the guide of the item called name.
func itemNamed(t *testing.T, s *Server, name string) Guide {
	t.Helper()
	for _, g := range s.Items() {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no item %s", name)
	return Guide{}
}

// application is a complete, valid submission for g by 张三.
func application(g Guide) map[string]any {
	form := map[string]any{}
	for _, f := range g.FormFields {
		switch f.Type {
		case FieldNumber:
			form[f.Name] = 10
		case FieldDate:
			form[f.Name] = "2026-03-01"
		case FieldEnum:
			form[f.Name] = f.Options[0]
		case FieldPhone:
			form[f.Name] = zhangSan.Phone
		case FieldIDNumber:
			form[f.Name] = zhangSan.IDNumber
		case FieldUSCC:
			form[f.Name] = DemoCompanies[0].USCC
		case FieldAddress:
			form[f.Name] = zhangSan.Address
		default:
			form[f.Name] = "测试"
		}
	}
	var mats []map[string]any
	for _, m := range g.Materials {
		if m.Required {
			mats = append(mats, map[string]any{"material_id": m.ID, "file_id": "F" + m.ID})
		}
	}
	return map[string]any{
		"item_code": g.Code,
		"applicant": map[string]any{"type": "citizen", "name": zhangSan.Name, "id_number": zhangSan.IDNumber, "phone": zhangSan.Phone},
		"form":      form, "materials": mats,
		"delivery": map[string]any{"result": "electronic"},
	}
}

type submitted struct {
	CaseNumber    string `json:"case_number"`
	QueryPassword string `json:"query_password"`
	Status        string `json:"status"`
}

func (e *env) submit(t *testing.T, name, key string) submitted {
	t.Helper()
	var s submitted
	e.post("/api/cases", key, application(itemNamed(t, e.s, name))).ok(t).into(t, &s)
	return s
}

const shop = "个体工商户设立登记"

func TestSubmitCase(t *testing.T) {
	e := newEnv(t, Options{})
	s := e.submit(t, shop, "k1")
	if !regexp.MustCompile(`^FZ20260302\d{8}$`).MatchString(s.CaseNumber) || len(s.QueryPassword) != 6 || s.Status != StatusSubmitted {
		t.Fatalf("submitted %+v", s)
	}
	var got struct {
		CaseNumber string      `json:"case_number"`
		Status     string      `json:"status"`
		History    []CaseEvent `json:"history"`
		DueOn      string      `json:"due_on"`
		Applicant  map[string]string
	}
	e.do("GET", "/api/cases/"+s.CaseNumber, nil).ok(t).into(t, &got)
	if got.Status != StatusSubmitted || len(got.History) != 1 || got.DueOn != "2026-03-03" || got.Applicant["name_masked"] != "张*" {
		t.Fatalf("case %+v", got)
	}
	e.do("GET", "/api/cases/"+s.CaseNumber+"?query_password="+s.QueryPassword, nil).ok(t)
	e.do("GET", "/api/cases/"+s.CaseNumber+"?query_password=WRONG1", nil).want(t, http.StatusNotFound, CodeCaseNotFound)
	e.do("GET", "/api/cases/FZ2026030299999999", nil).want(t, http.StatusNotFound, CodeCaseNotFound)
}

func TestSubmitCaseIsIdempotent(t *testing.T) {
	e := newEnv(t, Options{})
	g := itemNamed(t, e.s, shop)
	app := application(g)
	// Concurrent retries with one key make one case.
	var wg sync.WaitGroup
	results := make([]submitted, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := e.signed("POST", "/api/cases", app)
			req.Header.Set(HeaderIdempotencyKey, "same-key")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var env struct {
				Data submitted `json:"data"`
			}
			_ = json.NewDecoder(res.Body).Decode(&env)
			results[i] = env.Data
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.CaseNumber == "" || r != results[0] {
			t.Fatalf("idempotent submissions differ: %+v", results)
		}
	}
	if n := len(e.s.Cases()); n != 1 {
		t.Fatalf("%d cases", n)
	}
	// The same key on another request is a conflict; a new key is a new case.
	app["form"].(map[string]any)["business_name"] = "另一家店"
	e.post("/api/cases", "same-key", app).want(t, http.StatusConflict, CodeIdempotencyKeyConflict)
	if other := e.submit(t, shop, "other-key"); other.CaseNumber == results[0].CaseNumber {
		t.Fatal("a new key gave the old case")
	}
	// Errors are remembered too: the first answer is the answer.
	bad := application(g)
	bad["item_code"] = "nope"
	e.post("/api/cases", "bad-key", bad).want(t, http.StatusNotFound, CodeItemNotFound)
	e.post("/api/cases", "bad-key", bad).want(t, http.StatusNotFound, CodeItemNotFound)
	e.do("POST", "/api/cases", application(g)).want(t, http.StatusBadRequest, CodeIdempotencyKeyRequired)
}

func TestSubmitCaseValidates(t *testing.T) {
	e := newEnv(t, Options{})
	g := itemNamed(t, e.s, shop)
	offline := itemNamed(t, e.s, "内地居民结婚登记")
	tests := map[string]struct {
		change func(app map[string]any)
		status int
		code   string
	}{
		"unknown item":       {func(a map[string]any) { a["item_code"] = "x" }, 404, CodeItemNotFound},
		"not online":         {func(a map[string]any) { a["item_code"] = offline.Code }, 409, CodeItemNotOnline},
		"no applicant":       {func(a map[string]any) { delete(a, "applicant") }, 400, CodeParamInvalid},
		"bad applicant id":   {func(a map[string]any) { a["applicant"].(map[string]any)["id_number"] = "123" }, 400, CodeIDNumberInvalid},
		"missing form field": {func(a map[string]any) { delete(a["form"].(map[string]any), "business_name") }, 400, CodeFormInvalid},
		"bad enum":           {func(a map[string]any) { a["form"].(map[string]any)["org_form"] = "合伙" }, 400, CodeFormInvalid},
		"bad number":         {func(a map[string]any) { a["form"].(map[string]any)["capital"] = "十万" }, 400, CodeFormInvalid},
		"bad phone":          {func(a map[string]any) { a["form"].(map[string]any)["phone"] = "12345" }, 400, CodeFormInvalid},
		"missing material":   {func(a map[string]any) { a["materials"] = a["materials"].([]map[string]any)[1:] }, 400, CodeMaterialsMissing},
		"unknown material": {func(a map[string]any) {
			a["materials"] = append(a["materials"].([]map[string]any), map[string]any{"material_id": "m99"})
		}, 400, CodeParamInvalid},
		"bad delivery":         {func(a map[string]any) { a["delivery"] = map[string]any{"result": "pigeon"} }, 400, CodeParamInvalid},
		"mail without address": {func(a map[string]any) { a["delivery"] = map[string]any{"result": "mail"} }, 400, CodeParamInvalid},
	}
	i := 0
	for name, tt := range tests {
		i++
		app := application(g)
		tt.change(app)
		a := e.post("/api/cases", fmt.Sprint("v", i), app)
		a.want(t, tt.status, tt.code)
		if tt.code == CodeFormInvalid {
			var d struct {
				Fields map[string]string `json:"fields"`
			}
			a.into(t, &d)
			if len(d.Fields) != 1 {
				t.Errorf("%s: fields %v", name, d.Fields)
			}
		}
	}
	if n := len(e.s.Cases()); n != 0 {
		t.Fatalf("%d cases from invalid submissions", n)
	}
	// An item that does not mail results refuses mail delivery.
	nocr := itemNamed(t, e.s, "无犯罪记录证明开具")
	app := application(nocr)
	app["delivery"] = map[string]any{"result": "mail", "address": map[string]string{"detail": zhangSan.Address}}
	e.post("/api/cases", "mail", app).want(t, http.StatusBadRequest, CodeDeliveryNotSupported)
}

func TestAdvanceStateMachine(t *testing.T) {
	e := newEnv(t, Options{})
	n := e.submit(t, shop, "k").CaseNumber
	adv := func(status string, extra ...any) int {
		body := map[string]any{"status": status}
		for i := 0; i+1 < len(extra); i += 2 {
			body[extra[i].(string)] = extra[i+1]
		}
		code, _ := e.control("POST", "/sandbox/province/cases/"+n+"/advance", body)
		return code
	}
	// From submitted: completion is illegal before acceptance.
	for _, s := range []string{StatusCompletedApproved, StatusCompletedDenied} {
		if code := adv(s); code != http.StatusConflict {
			t.Fatalf("submitted -> %s: HTTP %d", s, code)
		}
	}
	if code := adv(StatusResubmitted); code != http.StatusBadRequest {
		t.Fatalf("a clerk set resubmitted: HTTP %d", code)
	}
	if code := adv(StatusSupplementRequested); code != http.StatusBadRequest {
		t.Fatalf("supplement request without materials: HTTP %d", code)
	}
	if code := adv(StatusSupplementRequested, "materials", []string{"m9"}); code != http.StatusBadRequest {
		t.Fatalf("supplement request with unknown material: HTTP %d", code)
	}
	if code := adv(StatusSupplementRequested, "materials", []string{"m3"}, "supplement_due", "2020-01-01"); code != http.StatusBadRequest {
		t.Fatalf("supplement request due in the past: HTTP %d", code)
	}
	due := time.Now().In(chinaTime).AddDate(0, 0, 10).Format(time.DateOnly)
	if code := adv(StatusSupplementRequested, "materials", []string{"m3"}, "note", "经营场所证明不清晰", "supplement_due", due); code != 200 {
		t.Fatalf("supplement_requested: HTTP %d", code)
	}
	if c, _ := e.s.CaseByNumber(n); c.SupplementDue != due || c.History[len(c.History)-1].SupplementDue != due {
		t.Fatalf("the deadline: case %q, history %+v", c.SupplementDue, c.History[len(c.History)-1])
	}
	if code := adv(StatusAccepted); code != http.StatusConflict {
		t.Fatalf("accepted while waiting for the supplement: HTTP %d", code)
	}
	// The applicant supplements: the requested material must be there.
	e.post("/api/cases/"+n+"/supplement", "s1", map[string]any{"materials": []map[string]any{{"material_id": "m1"}}}).want(t, http.StatusBadRequest, CodeSupplementIncomplete)
	e.post("/api/cases/"+n+"/supplement", "s2", map[string]any{"materials": []map[string]any{{"material_id": "m3", "file_id": "F2"}}}).ok(t)
	e.post("/api/cases/"+n+"/supplement", "s3", map[string]any{"materials": []map[string]any{{"material_id": "m3"}}}).want(t, http.StatusConflict, CodeCaseStateConflict)
	// Evaluation before completion is refused.
	e.post("/api/cases/"+n+"/evaluation", "e0", map[string]any{"level": 5}).want(t, http.StatusConflict, CodeCaseStateConflict)
	for _, s := range []string{StatusAccepted, StatusCompletedApproved} {
		if code := adv(s, "result", "electronic"); code != 200 {
			t.Fatalf("-> %s: HTTP %d", s, code)
		}
	}
	// Final: nothing moves it, the applicant cannot withdraw.
	for _, s := range operatorStatuses {
		if code := adv(s, "materials", []string{"m1"}); code != http.StatusConflict {
			t.Fatalf("completed -> %s: HTTP %d", s, code)
		}
	}
	e.post("/api/cases/"+n+"/withdraw", "w", map[string]any{"reason": "不办了"}).want(t, http.StatusConflict, CodeCaseStateConflict)

	var c struct {
		Status  string      `json:"status"`
		Result  string      `json:"result"`
		History []CaseEvent `json:"history"`
	}
	e.do("GET", "/api/cases/"+n, nil).ok(t).into(t, &c)
	var seq []string
	for _, h := range c.History {
		seq = append(seq, h.Status)
	}
	want := []string{StatusSubmitted, StatusSupplementRequested, StatusResubmitted, StatusAccepted, StatusCompletedApproved}
	if fmt.Sprint(seq) != fmt.Sprint(want) || c.Result != ResultElectronic || c.History[1].Note != "经营场所证明不清晰" || c.History[1].Materials[0] != "m3" {
		t.Fatalf("case %+v", c)
	}
	// 好差评: once, and a bad rating needs a comment.
	e.post("/api/cases/"+n+"/evaluation", "e1", map[string]any{"level": 1}).want(t, http.StatusBadRequest, CodeEvaluationInvalid)
	e.post("/api/cases/"+n+"/evaluation", "e2", map[string]any{"level": 6, "comment": "x"}).want(t, http.StatusBadRequest, CodeEvaluationInvalid)
	e.post("/api/cases/"+n+"/evaluation", "e3", map[string]any{"level": 5, "comment": "办事快", "tags": []string{"一次办好"}}).ok(t)
	e.post("/api/cases/"+n+"/evaluation", "e4", map[string]any{"level": 4}).want(t, http.StatusConflict, CodeEvaluationExists)

	if code, _ := e.control("POST", "/sandbox/province/cases/FZ0/advance", map[string]string{"status": "accepted"}); code != 404 {
		t.Fatalf("unknown case: HTTP %d", code)
	}
}

func TestWithdraw(t *testing.T) {
	e := newEnv(t, Options{})
	n := e.submit(t, shop, "k").CaseNumber
	e.post("/api/cases/"+n+"/withdraw", "w1", map[string]any{"reason": "信息填错"}).ok(t)
	e.post("/api/cases/"+n+"/withdraw", "w2", map[string]any{}).want(t, http.StatusConflict, CodeCaseStateConflict)
	if c, _ := e.s.CaseByNumber(n); c.Status != StatusWithdrawn || c.History[1].Note != "申请人撤回申请：信息填错" {
		t.Fatalf("case %+v", c)
	}
	if _, err := e.s.AdvanceCase(n, Advance{Status: StatusAccepted}); err == nil {
		t.Fatal("a withdrawn case was accepted")
	}
}

func TestCallbacksAreSignedAndRetried(t *testing.T) {
	type got struct {
		ev  CallbackEvent
		err error
	}
	var calls atomic.Int32
	received := make(chan got, 10)
	var e *env
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError) // the first attempt fails
			return
		}
		var ev CallbackEvent
		_ = json.Unmarshal(body, &ev)
		err := VerifyCallback(r, body, e.s.AppKey(), e.s.AppSecret(), e.clock.Now())
		if err == nil && r.Header.Get(HeaderIdempotencyKey) != ev.EventID {
			err = fmt.Errorf("idempotency key %q", r.Header.Get(HeaderIdempotencyKey))
		}
		received <- got{ev, err}
	}))
	defer hook.Close()
	e = newEnv(t, Options{CallbackRetryDelays: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}})
	n := e.submit(t, shop, "k").CaseNumber
	if code, _ := e.control("POST", "/sandbox/province/callback", map[string]string{"url": hook.URL + "/province/callback?tenant=fz"}); code != 200 {
		t.Fatalf("set callback: HTTP %d", code)
	}
	if _, err := e.s.AdvanceCase(n, Advance{Status: StatusAccepted, Note: "予以受理"}); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-received:
		if g.err != nil {
			t.Fatal(g.err)
		}
		if g.ev.CaseNumber != n || g.ev.Status != StatusAccepted || g.ev.PreviousStatus != StatusSubmitted || g.ev.Note != "予以受理" || g.ev.Seq != 2 {
			t.Fatalf("callback %+v", g.ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no callback")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := e.s.Deliveries()
		if len(d) == 1 && d[0].Delivered && d[0].Attempts == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries %+v", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A receiver that never answers 2xx is given up on after the retries.
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer dead.Close()
	e.s.SetCallbackURL(dead.URL)
	if _, err := e.s.AdvanceCase(n, Advance{Status: StatusCompletedDenied}); err != nil {
		t.Fatal(err)
	}
	for {
		d := e.s.Deliveries()
		if len(d) == 2 && d[1].GaveUp && d[1].Attempts == 3 && !d[1].Delivered && d[1].LastStatus == 503 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries %+v", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestVerifyCallbackRejectsTampering(t *testing.T) {
	s := New(Options{})
	body := []byte(`{"case_number":"FZ1"}`)
	req := httptest.NewRequest("POST", "http://bff.example/callbacks/province?a=1", nil)
	now := time.Now()
	ts := fmt.Sprint(now.UnixMilli())
	nonce := NewNonce()
	sts, _ := StringToSign("POST", "/callbacks/province", "a=1", body, MethodSM3, s.AppKey(), ts, nonce)
	req.Header.Set(HeaderAppKey, s.AppKey())
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, Sign(s.AppSecret(), MethodSM3, sts))
	if err := VerifyCallback(req, body, s.AppKey(), s.AppSecret(), now); err != nil {
		t.Fatal(err)
	}
	if VerifyCallback(req, []byte(`{"case_number":"FZ2"}`), s.AppKey(), s.AppSecret(), now) == nil {
		t.Fatal("tampered body accepted")
	}
	if VerifyCallback(req, body, s.AppKey(), s.AppSecret(), now.Add(6*time.Minute)) == nil {
		t.Fatal("stale callback accepted")
	}
}
