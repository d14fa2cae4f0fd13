package bff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"

	"zwfw/bff"
	"zwfw/platform/testenv"
	sbprovince "zwfw/sandbox/province"
)

// copies is how many copies of one write a double-tapping, retrying phone sends at once.
const copies = 20

// noRateLimits keeps the per-user and per-IP limits out of the way of
// volleys: they are not what these tests measure.
func noRateLimits(c *bff.Config) { c.RatePerUser, c.RatePerIP = 1_000_000, 1_000_000 }

// volley sends len(keys) copies of one request at the same moment, the i-th
// with Idempotency-Key keys[i], and returns the answers (each validated
// against the OpenAPI document).
func (s *server) volley(method, path, token string, body any, keys []string) []*response {
	s.t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	reqs := make([]*http.Request, len(keys))
	for i, k := range keys {
		var rd io.Reader
		if raw != nil {
			rd = bytes.NewReader(raw)
		}
		req, err := http.NewRequest(method, s.base+path, rd)
		if err != nil {
			s.t.Fatal(err)
		}
		if raw != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", k)
		reqs[i] = req
	}
	out := make([]*response, len(keys))
	errs := make([]error, len(keys))
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			res, err := s.http.Do(reqs[i])
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			out[i] = &response{Status: res.StatusCode, Header: res.Header, Body: b}
		}()
	}
	close(ready)
	wg.Wait()
	for i := range reqs {
		if errs[i] != nil {
			s.t.Fatalf("copy %d: %v", i, errs[i])
		}
		s.validate(reqs[i], out[i])
	}
	return out
}

// tally sorts a volley's answers: first-hand successes, replays of one,
// and refusals with their codes.
type tally struct {
	winners, replayed []*response
	refused           map[string]int // code -> count
}

func tallyOf(t *testing.T, answers []*response) tally {
	t.Helper()
	tl := tally{refused: map[string]int{}}
	for _, r := range answers {
		switch {
		case r.Status/100 == 2 && r.Header.Get("Idempotent-Replayed") == "true":
			tl.replayed = append(tl.replayed, r)
		case r.Status/100 == 2:
			tl.winners = append(tl.winners, r)
		default:
			var e struct {
				Code string `json:"code"`
			}
			r.JSON(t, &e)
			tl.refused[fmt.Sprintf("%d %s", r.Status, e.Code)]++
		}
	}
	return tl
}

func (tl tally) refusals() int {
	n := 0
	for _, c := range tl.refused {
		n += c
	}
	return n
}

// sameKey checks a volley under one key: one request did the work, every
// success carries its answer byte for byte, and the others were replayed
// or told the first is still running.
func sameKey(t *testing.T, route string, answers []*response) *response {
	t.Helper()
	tl := tallyOf(t, answers)
	t.Logf("concurrency %s (one key): requests=%d winners=%d replayed=%d refused=%d",
		route, len(answers), len(tl.winners), len(tl.replayed), tl.refusals())
	if len(tl.winners) != 1 {
		t.Fatalf("%s: %d first-hand successes under one key, want 1 (refused: %v)", route, len(tl.winners), tl.refused)
	}
	for code := range tl.refused {
		if code != "409 IDEMPOTENCY_KEY_IN_USE" {
			t.Fatalf("%s: a copy under the same key got %s", route, code)
		}
	}
	first := tl.winners[0]
	for _, r := range tl.replayed {
		if r.Status != first.Status || !bytes.Equal(r.Body, first.Body) {
			t.Fatalf("%s: a replay differs from the first answer:\n%s\n%s", route, r.Body, first.Body)
		}
	}
	return first
}

// differentKeys checks a real double tap (a key per tap): one success, the
// rest refused with the domain's codes.
func differentKeys(t *testing.T, route string, answers []*response, codes ...string) *response {
	t.Helper()
	tl := tallyOf(t, answers)
	t.Logf("concurrency %s (different keys): requests=%d winners=%d replayed=%d refused=%d %v",
		route, len(answers), len(tl.winners), len(tl.replayed), tl.refusals(), tl.refused)
	if len(tl.winners) != 1 || len(tl.replayed) != 0 {
		t.Fatalf("%s: %d successes and %d replays from %d taps, want exactly 1 success (refused: %v)",
			route, len(tl.winners), len(tl.replayed), len(answers), tl.refused)
	}
	for code := range tl.refused {
		if !slices.Contains(codes, code) {
			t.Fatalf("%s: a tap got %s, want one of %v", route, code, codes)
		}
	}
	return tl.winners[0]
}

func keys(prefix string, n int, same bool) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix
		if !same {
			out[i] = fmt.Sprintf("%s-%02d", prefix, i)
		}
	}
	return out
}

// preparedDraft is a complete draft of the citizen's, ready to submit.
func (s *server) preparedDraft(me session, person sbprovince.Person, g sbprovince.Guide) string {
	s.t.Helper()
	r := s.request("POST", "/api/v1/cases", me.Access, map[string]any{"item_code": g.Code, "form": fullForm(g, person, sbprovince.DemoCompanies[0].USCC),
		"delivery": map[string]string{"materials": "upload", "result": "electronic"}})
	if r.Status != 201 {
		s.t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	id := r.M(s.t)["id"].(string)
	for _, mat := range g.Materials {
		if mat.Required {
			if r := s.upload(me.Access, id, mat.ID, "m.pdf", bytes.NewReader(minimalPDF)); r.Status != 201 {
				s.t.Fatalf("upload: %d %s", r.Status, r.Body)
			}
		}
	}
	return id
}

// statusEvents counts the case.status_changed events of a case in the log, by status.
func (s *server) statusEvents(caseID string) map[string]int {
	s.t.Helper()
	list, err := s.app.Events().ReadSubject(context.Background(), "case:"+caseID, 0, 1000)
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range list {
		var d struct {
			Status string `bson:"status"`
		}
		if e.Type == "case.status_changed" && e.Decode(&d) == nil {
			out[d.Status]++
		} else if e.Type != "case.status_changed" {
			out[e.Type]++
		}
	}
	return out
}

// waitEvents waits until the log holds want of a case's events (its outbox
// relayed) and checks nothing more came.
func (s *server) waitEvents(caseID, what string, want int) {
	s.t.Helper()
	testenv.WaitFor(s.t, what+" in the event log", func() bool { return s.statusEvents(caseID)[what] >= want })
	if got := s.statusEvents(caseID)[what]; got != want {
		s.t.Fatalf("%d %s events for one case, want %d", got, what, want)
	}
}

// Submit: 20 copies under one key and 20 taps with their own keys each make
// one submission, one event and one case at the province.
func TestSubmitConcurrentDuplicates(t *testing.T) {
	s := start(t, noRateLimits)
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen("submitter")
	g := onlineItem(t, fake)
	for _, same := range []bool{true, false} {
		id := s.preparedDraft(me, zhang, g)
		answers := s.volley("POST", "/api/v1/cases/"+id+"/submit", me.Access, nil, keys("submit-"+id, copies, same))
		var won *response
		if same {
			won = sameKey(t, "POST /cases/{id}/submit", answers)
		} else {
			won = differentKeys(t, "POST /cases/{id}/submit", answers, "409 CASE_NOT_DRAFT")
		}
		if won.Status != 202 || won.M(t)["status"] != "submitted" {
			t.Fatalf("submit: %d %s", won.Status, won.Body)
		}
		s.waitCase(me.Access, id, "the province's case number", func(c map[string]any) bool { return c["case_number"] != nil })
		s.waitEvents(id, "submitted", 1)
		s.waitEvents(id, "case.submitted_to_province", 1)
	}
	if n := countCases(fake, g.Code); n != 2 {
		t.Fatalf("the province has %d cases for two submitted drafts", n)
	}
	if n := fake.Calls("POST /api/cases"); n != 2 {
		t.Fatalf("the province was asked %d times to create a case, want once per draft", n)
	}
}

// A submission whose answer the province lost is retried under the same
// key (the case id): the province answers with the first receipt, and no
// second case is made.
func TestSubmitRetryAfterLostAnswerMakesOneProvinceCase(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen("lost-answer")
	g := onlineItem(t, fake)
	id := s.preparedDraft(me, zhang, g)
	if err := fake.SetFault(sbprovince.Fault{Group: "cases", Mode: sbprovince.FaultLost, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if r := s.request("POST", "/api/v1/cases/"+id+"/submit", me.Access, nil, "Idempotency-Key", "submit-"+id); r.Status != 202 {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	c := s.waitCase(me.Access, id, "the case number after the retry", func(c map[string]any) bool { return c["case_number"] != nil })
	if n := countCases(fake, g.Code); n != 1 {
		t.Fatalf("the province has %d cases after a lost answer and a retry", n)
	}
	if n := fake.Calls("POST /api/cases"); n < 2 {
		t.Fatalf("the province was asked %d times: the lost answer was not retried", n)
	}
	if pc := fake.Cases()[0]; pc.CaseNumber != c["case_number"] {
		t.Fatalf("the case holds number %v, the province made %s", c["case_number"], pc.CaseNumber)
	}
}

// Supplement: one answer to the province's request, however many copies.
func TestSupplementConcurrentDuplicates(t *testing.T) {
	s := start(t, noRateLimits)
	fake := s.app.Sandbox().ProvinceServer()
	g := onlineItem(t, fake)
	for _, same := range []bool{true, false} {
		me, id, number := s.submittedCase(fmt.Sprintf("supplementer-%v", same))
		slot := g.Materials[0].ID
		advance(t, fake, number, sbprovince.Advance{Status: "supplement_requested", Note: "复印件不清晰", Materials: []string{slot}})
		s.waitCase(me.Access, id, "supplement requested", statusIs("supplement_requested"))
		if r := s.upload(me.Access, id, slot, "补正.pdf", bytes.NewReader(minimalPDF)); r.Status != 201 {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		before := fake.Calls("POST /api/cases/{case_number}/supplement")
		answers := s.volley("POST", "/api/v1/cases/"+id+"/supplement", me.Access, map[string]string{"note": "已补正"}, keys("supp-"+id, copies, same))
		var won *response
		if same {
			won = sameKey(t, "POST /cases/{id}/supplement", answers)
		} else {
			won = differentKeys(t, "POST /cases/{id}/supplement", answers, "409 CASE_ACTION_IN_PROGRESS", "409 CASE_STATE_CONFLICT")
		}
		if won.Status != 200 || won.M(t)["status"] != "resubmitted" {
			t.Fatalf("supplement: %d %s", won.Status, won.Body)
		}
		if n := fake.Calls("POST /api/cases/{case_number}/supplement") - before; n != 1 {
			t.Fatalf("the province was sent %d supplements", n)
		}
		pc, _ := fake.CaseByNumber(number)
		if n := historyCount(pc, "resubmitted"); n != 1 {
			t.Fatalf("the province's history has %d resubmissions", n)
		}
		s.waitEvents(id, "resubmitted", 1)
	}
}

func historyCount(c sbprovince.Case, status string) int {
	n := 0
	for _, h := range c.History {
		if h.Status == status {
			n++
		}
	}
	return n
}

// Withdraw: the province hears of the withdrawal once.
func TestWithdrawConcurrentDuplicates(t *testing.T) {
	s := start(t, noRateLimits)
	fake := s.app.Sandbox().ProvinceServer()
	for _, same := range []bool{true, false} {
		me, id, number := s.submittedCase(fmt.Sprintf("withdrawer-%v", same))
		before := fake.Calls("POST /api/cases/{case_number}/withdraw")
		answers := s.volley("POST", "/api/v1/cases/"+id+"/withdraw", me.Access, map[string]string{"reason": "材料有误"}, keys("wd-"+id, copies, same))
		var won *response
		if same {
			won = sameKey(t, "POST /cases/{id}/withdraw", answers)
		} else {
			won = differentKeys(t, "POST /cases/{id}/withdraw", answers, "409 CASE_ACTION_IN_PROGRESS", "409 CASE_STATE_CONFLICT")
		}
		if won.Status != 200 || won.M(t)["status"] != "withdrawn" {
			t.Fatalf("withdraw: %d %s", won.Status, won.Body)
		}
		if n := fake.Calls("POST /api/cases/{case_number}/withdraw") - before; n != 1 {
			t.Fatalf("the province was sent %d withdrawals", n)
		}
		pc, _ := fake.CaseByNumber(number)
		if n := historyCount(pc, "withdrawn"); n != 1 {
			t.Fatalf("the province's history has %d withdrawals", n)
		}
		s.waitEvents(id, "withdrawn", 1)
	}
}

// Evaluation: one rating, reported to the province once.
func TestEvaluationConcurrentDuplicates(t *testing.T) {
	s := start(t, noRateLimits)
	fake := s.app.Sandbox().ProvinceServer()
	for _, same := range []bool{true, false} {
		me, id, number := s.submittedCase(fmt.Sprintf("rater-%v", same))
		advance(t, fake, number, sbprovince.Advance{Status: "accepted"})
		advance(t, fake, number, sbprovince.Advance{Status: "completed_approved", Result: "electronic"})
		s.waitCase(me.Access, id, "completed", statusIs("completed_approved"))
		answers := s.volley("POST", "/api/v1/cases/"+id+"/evaluation", me.Access, map[string]any{"level": 5, "comment": "很方便"},
			keys("eval-"+id, copies, same))
		var won *response
		if same {
			won = sameKey(t, "POST /cases/{id}/evaluation", answers)
		} else {
			won = differentKeys(t, "POST /cases/{id}/evaluation", answers, "409 EVALUATION_EXISTS")
		}
		if won.Status != 201 {
			t.Fatalf("evaluate: %d %s", won.Status, won.Body)
		}
		testenv.WaitFor(t, "the evaluation reported to the province", func() bool {
			pc, ok := fake.CaseByNumber(number)
			return ok && pc.Evaluation != nil
		})
		s.waitEvents(id, "case.evaluated", 1)
	}
	if n := fake.Calls("POST /api/cases/{case_number}/evaluation"); n != 2 {
		t.Fatalf("the province got %d evaluation reports for two cases", n)
	}
}
