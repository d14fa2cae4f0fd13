package bff_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/identity"
	sbprovince "zwfw/sandbox/province"
)

type invariantReport struct {
	Results []struct {
		Check    string `json:"check"`
		Examined int    `json:"examined"`
		Error    string `json:"error"`
		Findings []struct {
			Subject  string `json:"subject"`
			Problem  string `json:"problem"`
			Repaired bool   `json:"repaired"`
			Action   string `json:"action"`
		} `json:"findings"`
	} `json:"results"`
}

// caseEventsCheck runs the self-checks as an admin and returns what the
// cases check found: subject -> repaired.
func (s *server) caseEventsCheck(admin, query string) (examined int, found map[string]bool) {
	s.t.Helper()
	r := s.request("POST", "/api/v1/admin/invariants/run"+query, admin, nil)
	if r.Status != 200 {
		s.t.Fatalf("self-check: %d %s", r.Status, r.Body)
	}
	var rep invariantReport
	r.JSON(s.t, &rep)
	for _, res := range rep.Results {
		if res.Check != "cases.final_status_event" {
			continue
		}
		if res.Error != "" {
			s.t.Fatalf("the cases check failed: %s", res.Error)
		}
		found = map[string]bool{}
		for _, f := range res.Findings {
			if f.Problem == "" || f.Action == "" {
				s.t.Fatalf("a finding without its problem or action: %+v", f)
			}
			found[f.Subject] = f.Repaired
		}
		return res.Examined, found
	}
	s.t.Fatalf("the report has no cases check: %s", r.Body)
	return 0, nil
}

// Every finished case has its status event, on which reminders and the
// result shipment hang. Drift is injected twice (an event deleted from the
// log; a status written without its event): the self-check reports both,
// repairs both through the outbox, and finds nothing on the next run.
func TestFinishedCasesHaveTheirStatusEvents(t *testing.T) {
	s := start(t)
	fake := s.app.Sandbox().ProvinceServer()
	ctx := context.Background()
	if _, err := s.app.Identity().CreateStaff(t.Context(), "admin16", "管理员", "Admin-pass-2026", []identity.Role{identity.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	admin := s.loginStaff("admin16", "Admin-pass-2026")

	// A healthy finished case.
	meOK, ok, okNumber := s.submittedCase("healthy")
	advance(t, fake, okNumber, sbprovince.Advance{Status: "rejected_at_intake"})
	s.waitCase(meOK.Access, ok, "rejected", statusIs("rejected_at_intake"))
	s.waitEvents(ok, "rejected_at_intake", 1)

	// Withdrawn, and its event lost from the log.
	meLost, lost, _ := s.submittedCase("lost-event")
	if r := s.request("POST", "/api/v1/cases/"+lost+"/withdraw", meLost.Access, map[string]string{"reason": "不办了"}, "Idempotency-Key", "wd-"+lost); r.Status != 200 {
		t.Fatalf("withdraw: %d %s", r.Status, r.Body)
	}
	s.waitEvents(lost, "withdrawn", 1)
	del, err := s.app.DB().Collection("events").DeleteMany(ctx, bson.D{{Key: "subject", Value: "case:" + lost},
		{Key: "type", Value: "case.status_changed"}, {Key: "data.status", Value: "withdrawn"}})
	if err != nil || del.DeletedCount != 1 {
		t.Fatalf("delete the event: %v, %v", del, err)
	}

	// Completed, written without its event (a hand edit, a crash of old code).
	_, silent, _ := s.submittedCase("silent")
	now := time.Now().UTC()
	if _, err := s.app.DB().Collection("cases").UpdateOne(ctx, bson.D{{Key: "_id", Value: silent}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "status", Value: "completed_denied"}, {Key: "completed_at", Value: now}, {Key: "updated_at", Value: now}}},
		{Key: "$push", Value: bson.D{{Key: "timeline", Value: bson.D{{Key: "at", Value: now}, {Key: "status", Value: "completed_denied"},
			{Key: "actor", Value: "province"}, {Key: "note", Value: "不予许可"}}}}},
		// A new version, so a save in flight (the submit job's, a callback's)
		// cannot write the old status back over the edit.
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	}); err != nil {
		t.Fatal(err)
	}

	want := map[string]bool{"case:" + lost: false, "case:" + silent: false}
	examined, found := s.caseEventsCheck(admin, "?repair=false")
	if examined != 3 || len(found) != 2 || found["case:"+lost] || found["case:"+silent] || len(found) != len(want) {
		t.Fatalf("report only: examined %d, found %v, want %v unrepaired", examined, found, want)
	}
	if s.statusEvents(lost)["withdrawn"] != 0 || s.statusEvents(silent)["completed_denied"] != 0 {
		t.Fatal("a report-only run repaired something")
	}
	if _, found = s.caseEventsCheck(admin, ""); !found["case:"+lost] || !found["case:"+silent] || len(found) != 2 {
		t.Fatalf("repair run found %v, want both repaired", found)
	}
	s.waitEvents(lost, "withdrawn", 1)
	s.waitEvents(silent, "completed_denied", 1)
	if _, found = s.caseEventsCheck(admin, ""); len(found) != 0 {
		t.Fatalf("a second run found %v, want nothing", found)
	}
	if n := s.statusEvents(ok)["rejected_at_intake"]; n != 1 {
		t.Fatalf("the healthy case has %d rejection events", n)
	}
}
