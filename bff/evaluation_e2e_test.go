package bff_test

import (
	"slices"
	"strings"
	"testing"

	"zwfw/platform/testenv"
	sbprovince "zwfw/sandbox/province"
)

// The 好差评 reasons are published per level, every level takes its own,
// and a refusal names the ones the level takes.
func TestEvaluationReasonsPerLevel(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()

	r := s.request("GET", "/api/v1/evaluation-reasons", "", nil)
	if r.Status != 200 {
		t.Fatalf("reasons: %d %s", r.Status, r.Body)
	}
	var list struct {
		Levels []struct {
			Level           int  `json:"level"`
			ReasonsRequired bool `json:"reasons_required"`
			Reasons         []struct{ Code, Label string }
		} `json:"levels"`
	}
	r.JSON(t, &list)
	codes := map[int][]string{}
	for _, l := range list.Levels {
		if len(l.Reasons) == 0 {
			t.Fatalf("level %d has no reasons", l.Level)
		}
		for _, rs := range l.Reasons {
			codes[l.Level] = append(codes[l.Level], rs.Code)
		}
		if l.ReasonsRequired != (l.Level <= 2) {
			t.Fatalf("level %d: reasons_required %v", l.Level, l.ReasonsRequired)
		}
	}
	if len(list.Levels) != 5 || !slices.Contains(codes[1], "too_slow") || !slices.Contains(codes[5], "fast") || slices.Contains(codes[1], "fast") {
		t.Fatalf("levels %+v", list.Levels)
	}

	me, id, number := s.submittedCase("rater")
	advance(t, fake, number, sbprovince.Advance{Status: "accepted"})
	advance(t, fake, number, sbprovince.Advance{Status: "completed_approved", Result: "electronic"})
	s.waitCase(me.Access, id, "completed", statusIs("completed_approved"))
	rate := func(key string, body map[string]any) *response {
		return s.request("POST", "/api/v1/cases/"+id+"/evaluation", me.Access, body, "Idempotency-Key", key)
	}

	// A good reason for a bad rating: refused, naming the reasons of the level.
	m := wantError(t, rate("e1", map[string]any{"level": 1, "reasons": []string{"fast"}}), 400, "EVALUATION_INVALID")
	allowed, _ := m["details"].(map[string]any)["allowed_reasons"].([]any)
	var got []string
	for _, a := range allowed {
		got = append(got, a.(string))
	}
	if !slices.Equal(got, codes[1]) {
		t.Fatalf("allowed_reasons %v, want %v", got, codes[1])
	}
	if f := m["fields"].([]any)[0].(map[string]any); f["field"] != "reasons.0" || !strings.Contains(f["message"].(string), "too_slow") {
		t.Fatalf("field %v", f)
	}
	wantError(t, rate("e2", map[string]any{"level": 2}), 400, "EVALUATION_INVALID")
	wantError(t, rate("e3", map[string]any{"level": 4, "reasons": []string{"no_such_reason"}}), 400, "REQUEST_INVALID")
	wantError(t, rate("e4", map[string]any{"level": 3, "reasons": []string{"too_slow"}}), 400, "EVALUATION_INVALID")

	// A good rating with its reasons: recorded, and reported in words.
	r = rate("e5", map[string]any{"level": 5, "reasons": []string{"fast", "few_trips"}})
	if r.Status != 201 {
		t.Fatalf("evaluate: %d %s", r.Status, r.Body)
	}
	if e := r.M(t)["evaluation"].(map[string]any); len(e["reasons"].([]any)) != 2 {
		t.Fatalf("evaluation %v", e)
	}
	testenv.WaitFor(t, "the evaluation reported to the province", func() bool {
		pc, ok := fake.CaseByNumber(number)
		return ok && pc.Evaluation != nil
	})
	pc, _ := fake.CaseByNumber(number)
	if !slices.Equal(pc.Evaluation.Tags, []string{"办理速度快", "少跑腿，一次办好"}) {
		t.Fatalf("the province recorded tags %v", pc.Evaluation.Tags)
	}
}
