package bff_test

import (
	"testing"
)

// The self-check runs every domain's checks and keeps its report: before
// the first run there is none; after it, the last report is the one that
// ran, with every domain's checks listed and, on fresh data, nothing found.
func TestSelfCheckReportsEveryDomainAndKeepsTheLastReport(t *testing.T) {
	s := start(t)
	admin := s.admin()
	wantError(t, s.request("GET", "/api/v1/admin/invariants", admin, nil), 404, "INVARIANTS_NO_REPORT")
	citizen, _ := s.verifiedCitizen("self-check")
	wantError(t, s.request("POST", "/api/v1/admin/invariants/run", citizen.Access, nil), 403, "AUTH_FORBIDDEN")

	run := s.request("POST", "/api/v1/admin/invariants/run?repair=false", admin, nil)
	if run.Status != 200 {
		t.Fatalf("run: %d %s", run.Status, run.Body)
	}
	type report struct {
		StartedAt string `json:"started_at"`
		Repair    bool   `json:"repair"`
		Found     int    `json:"found"`
		Results   []struct {
			Check string `json:"check"`
			Error string `json:"error"`
		} `json:"results"`
	}
	var ran, last report
	run.JSON(t, &ran)
	if ran.Repair || ran.Found != 0 {
		t.Fatalf("a dry run on fresh data: %+v", ran)
	}
	domains := map[string]bool{}
	for _, r := range ran.Results {
		if r.Error != "" {
			t.Fatalf("check %s failed: %s", r.Check, r.Error)
		}
		for _, d := range []string{"booking.", "payments.", "cases.", "logistics."} {
			if len(r.Check) > len(d) && r.Check[:len(d)] == d {
				domains[d] = true
			}
		}
	}
	if len(domains) != 4 {
		t.Fatalf("checks of %d domains ran (%v), want booking, payments, cases and logistics", len(domains), domains)
	}
	s.request("GET", "/api/v1/admin/invariants", admin, nil).JSON(t, &last)
	if last.StartedAt != ran.StartedAt || len(last.Results) != len(ran.Results) {
		t.Fatalf("last report %+v is not the run %+v", last, ran)
	}
	wantError(t, s.request("POST", "/api/v1/admin/invariants/run?repair=maybe", admin, nil), 400, "REQUEST_INVALID")
}
