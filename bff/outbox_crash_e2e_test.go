package bff_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/bff"
	"zwfw/cases"
	"zwfw/platform/testenv"
	sbprovince "zwfw/sandbox/province"
)

// zwfw stops after the province completed a case with the result by mail
// but before any of the case's events were relayed (the relay is off, then
// the process shuts down: the work is abandoned between the state writes
// and the relay). The next process relays them at start: the completion
// event reaches the log once, the applicant's "completed" reminder arrives
// once and the result shipment is created once; a third start changes
// nothing.
func TestCaseCompletionSurvivesACrashBeforeTheRelay(t *testing.T) {
	var cfg bff.Config
	s := start(t, fastCallbacks, func(c *bff.Config) { c.OutboxRelayOff = true; cfg = *c })
	token, caseID, number := s.pickupCase("crash-completed")
	fake := s.app.Sandbox().ProvinceServer()
	advance(t, fake, number, sbprovince.Advance{Status: "accepted"})
	advance(t, fake, number, sbprovince.Advance{Status: "completed_approved", Result: "mail"})
	s.waitCase(token, caseID, "completed", statusIs("completed_approved"))
	ctx := context.Background()
	if list, _ := s.app.Events().ReadSubject(ctx, cases.Subject(caseID), 0, 100); len(list) != 0 {
		t.Fatalf("%d case events relayed with the relay off", len(list))
	}
	var doc struct {
		Outbox []bson.M `bson:"outbox"`
	}
	if err := s.app.DB().Collection("cases").FindOne(ctx, bson.M{"_id": caseID}).Decode(&doc); err != nil || len(doc.Outbox) == 0 {
		t.Fatalf("the completed case holds no pending events: %v %v", doc.Outbox, err)
	}
	stop := func(s *server) {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.app.Shutdown(sctx); err != nil {
			t.Fatal(err)
		}
	}
	stop(s)

	cfg.OutboxRelayOff = false
	s = launch(t, cfg)
	completions := func() int {
		list, err := s.app.Events().ReadSubject(ctx, cases.Subject(caseID), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range list {
			var d cases.StatusChanged
			if e.Type == cases.EventStatusChanged && e.Decode(&d) == nil && d.Status == string(cases.StatusCompletedApproved) {
				n++
			}
		}
		return n
	}
	reminders := func() int {
		var inbox struct {
			Items []struct {
				Rule string `json:"rule"`
			} `json:"items"`
		}
		s.request("GET", "/api/v1/me/notifications", token, nil).JSON(t, &inbox)
		n := 0
		for _, it := range inbox.Items {
			if it.Rule == "case.completed" {
				n++
			}
		}
		return n
	}
	resultShipments := func() int {
		var list struct {
			Items []shipmentJSON `json:"items"`
		}
		s.request("GET", "/api/v1/cases/"+caseID+"/shipments", token, nil).JSON(t, &list)
		n := 0
		for _, it := range list.Items {
			if it.Direction == "to_applicant" {
				n++
			}
		}
		return n
	}
	testenv.WaitFor(t, "the completion event, its reminder and the result shipment", func() bool {
		return completions() > 0 && reminders() > 0 && resultShipments() > 0
	})
	if err := s.app.DB().Collection("cases").FindOne(ctx, bson.M{"_id": caseID}).Decode(&doc); err != nil || len(doc.Outbox) != 0 {
		t.Fatalf("outbox after the relay: %v %v", doc.Outbox, err)
	}
	stop(s)

	// Once more: nothing is relayed, reminded or mailed twice.
	s = launch(t, cfg)
	time.Sleep(500 * time.Millisecond) // the start-up sweep and the consumers' first reads
	if c, r, sh := completions(), reminders(), resultShipments(); c != 1 || r != 1 || sh != 1 {
		t.Fatalf("after two restarts: %d completion events, %d reminders, %d result shipments; want 1 each", c, r, sh)
	}
}
