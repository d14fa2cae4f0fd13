package bff_test

import (
	"net/url"
	"testing"

	"zwfw/platform/testenv"
	"zwfw/sandbox/courier"
)

// The courier aggregator repeats pushes it is not sure arrived: the same
// signed push sent again is acknowledged the way Kuaidi100 expects and
// changes nothing (it is also the harness's real exchange of courierPush).
func TestARepeatedCourierPushIsAcknowledgedAndChangesNothing(t *testing.T) {
	s := start(t, fastCallbacks)
	token, caseID, _ := s.pickupCase("zhangsan")
	sh := s.bookPickup(token, caseID, "replay")
	fake := s.app.Sandbox().CourierServer()
	advanceToDelivered(t, fake, sh.WaybillNumber, nil)
	var last courier.Push
	testenv.WaitFor(t, "the delivery push arrived", func() bool {
		pushes := fake.Pushes(sh.WaybillNumber)
		if len(pushes) == 0 {
			return false
		}
		last = pushes[len(pushes)-1]
		return last.Outcome == courier.OutcomeDelivered && s.shipment(token, sh.ID).State == "delivered"
	})
	before := s.shipment(token, sh.ID)

	form := url.Values{"param": {last.Param}, "sign": {last.Sign}}
	r := s.request("POST", "/api/v1/callbacks/courier/"+last.Com, "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	if r.Status != 200 {
		t.Fatalf("a repeated push: %d %s", r.Status, r.Body)
	}
	if ack := r.M(t); ack["result"] != true || ack["returnCode"] != "200" {
		t.Fatalf("a repeated push is answered %s, want result true and returnCode 200", r.Body)
	}
	after := s.shipment(token, sh.ID)
	if after.State != before.State || len(after.Timeline) != len(before.Timeline) {
		t.Fatalf("a repeated push changed the shipment: %+v -> %+v", before, after)
	}
}
