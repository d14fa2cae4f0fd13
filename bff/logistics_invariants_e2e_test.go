package bff_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/bff"
	"zwfw/identity"
	"zwfw/logistics"
	"zwfw/platform/events"
	"zwfw/platform/testenv"
	sbfake "zwfw/sandbox/fake"
)

// shipmentCheck runs the self-checks as an admin and returns what the
// shipments' check examined and found: subject -> repaired.
func (s *server) shipmentCheck(admin string) (examined int, found map[string]bool) {
	s.t.Helper()
	r := s.request("POST", "/api/v1/admin/invariants/run", admin, nil)
	if r.Status != 200 {
		s.t.Fatalf("self-check: %d %s", r.Status, r.Body)
	}
	var rep struct {
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
	r.JSON(s.t, &rep)
	for _, res := range rep.Results {
		if res.Check != logistics.CheckStates {
			continue
		}
		if res.Error != "" {
			s.t.Fatalf("the shipments check failed: %s", res.Error)
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
	s.t.Fatalf("the report has no shipments check: %s", r.Body)
	return 0, nil
}

// A delivered shipment whose stored state fell behind its timeline and
// whose shipment.delivered event was lost (what a crash between the state
// write and the append did before events rode in the document): the
// admin's self-check finds it, puts the state back where the timeline
// says, emits the event once through the outbox, and finds nothing next time.
func TestShipmentStateDriftRepairedBySelfCheck(t *testing.T) {
	clock := sbfake.NewManualClock(time.Now())
	s := start(t, fastCallbacks, func(c *bff.Config) { c.SandboxClock = clock.Now })
	if _, err := s.app.Identity().CreateStaff(t.Context(), "admin-shp", "管理员", "Admin-pass-2026", []identity.Role{identity.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	admin := s.loginStaff("admin-shp", "Admin-pass-2026")
	token, caseID, _ := s.pickupCase("zhangsan")
	sh := s.bookPickup(token, caseID, "drift")
	advanceToDelivered(t, s.app.Sandbox().CourierServer(), sh.WaybillNumber, clock)
	testenv.WaitFor(t, "the shipment delivered", func() bool { return s.shipment(token, sh.ID).State == "delivered" })
	s.shipmentEvents(sh.ID, logistics.EventDelivered, 1)
	if examined, found := s.shipmentCheck(admin); examined != 1 || len(found) != 0 {
		t.Fatalf("a healthy shipment: examined %d, found %v", examined, found)
	}

	ctx := context.Background()
	db := s.app.DB()
	if _, err := db.Collection(logistics.ShipmentsCollection).UpdateOne(ctx, bson.D{{Key: "_id", Value: sh.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: "out_for_delivery"}}}}); err != nil {
		t.Fatal(err)
	}
	lost := "shipment:" + sh.ID + ":" + logistics.EventDelivered
	for _, c := range []struct{ coll, field string }{{events.EventsCollection, "event_id"}, {events.EventIDsCollection, "_id"}} {
		if res, err := db.Collection(c.coll).DeleteMany(ctx, bson.D{{Key: c.field, Value: lost}}); err != nil || res.DeletedCount != 1 {
			t.Fatalf("lose the event from %s: %v", c.coll, err)
		}
	}

	_, found := s.shipmentCheck(admin)
	if repaired, ok := found["shipment:"+sh.ID]; !ok || !repaired || len(found) != 1 {
		t.Fatalf("findings %v", found)
	}
	if got := s.shipment(token, sh.ID); got.State != "delivered" {
		t.Fatalf("state after the repair: %s", got.State)
	}
	s.shipmentEvents(sh.ID, logistics.EventDelivered, 1)
	s.shipmentEvents(sh.ID, logistics.EventPickedUp, 1)
	if _, found := s.shipmentCheck(admin); len(found) != 0 {
		t.Fatalf("second run found %v", found)
	}
	s.shipmentEvents(sh.ID, logistics.EventDelivered, 1)
}
