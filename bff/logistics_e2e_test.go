package bff_test

import (
	"bytes"
	"net/url"
	"sort"
	"testing"
	"time"

	"zwfw/bff"
	"zwfw/platform/testenv"
	"zwfw/sandbox/courier"
	sbfake "zwfw/sandbox/fake"
	sbprovince "zwfw/sandbox/province"
)

// mailItem is an online item whose materials can be picked up and whose
// result can be mailed.
func mailItem(t testing.TB, fake *sbprovince.Server) sbprovince.Guide {
	for _, g := range fake.Items() {
		if g.OnlineApply && g.MailMaterials && g.MailResult && len(g.FormFields) > 0 {
			return g
		}
	}
	t.Fatal("the sandbox has no item with pickup and mailed results")
	return sbprovince.Guide{}
}

// pickupCase files and submits a case whose materials go by courier pickup
// and whose result is mailed; it returns the token, case id and number.
func (s *server) pickupCase(name string) (string, string, string) {
	s.t.Helper()
	fake := s.app.Sandbox().ProvinceServer()
	me, zhang := s.verifiedCitizen(name)
	g := mailItem(s.t, fake)
	r := s.request("POST", "/api/v1/cases", me.Access, map[string]any{"item_code": g.Code,
		"form": fullForm(g, zhang, sbprovince.DemoCompanies[0].USCC), "delivery": map[string]any{"materials": "pickup", "result": "mail", "address": pickupAddress}})
	if r.Status != 201 {
		s.t.Fatalf("create: %d %s", r.Status, r.Body)
	}
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
	return me.Access, id, c["case_number"].(string)
}

// tomorrowWindow is 09:00-11:00 China time tomorrow.
func tomorrowWindow() map[string]string {
	cst := time.FixedZone("CST", 8*3600)
	d := time.Now().In(cst).AddDate(0, 0, 1)
	start := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, cst)
	return map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)}
}

var pickupAddress = map[string]string{"name": "张三", "phone": "13800138000", "province": "福建省", "city": "福州市",
	"district": "鼓楼区", "detail": "五四路158号环球广场1201室"}

type shipmentJSON struct {
	ID            string `json:"id"`
	Direction     string `json:"direction"`
	State         string `json:"state"`
	WaybillNumber string `json:"waybill_number"`
	Carrier       string `json:"carrier"`
	Receiver      struct {
		Phone  string `json:"phone"`
		Detail string `json:"detail"`
	} `json:"receiver"`
	Timeline []struct {
		At      time.Time `json:"at"`
		State   string    `json:"state"`
		Context string    `json:"context"`
		Source  string    `json:"source"`
	} `json:"timeline"`
}

func (s *server) shipment(token, id string) shipmentJSON {
	s.t.Helper()
	r := s.request("GET", "/api/v1/shipments/"+id, token, nil)
	if r.Status != 200 {
		s.t.Fatalf("shipment: %d %s", r.Status, r.Body)
	}
	var v shipmentJSON
	r.JSON(s.t, &v)
	return v
}

func (s *server) bookPickup(token, caseID, key string) shipmentJSON {
	s.t.Helper()
	r := s.request("POST", "/api/v1/cases/"+caseID+"/shipments", token,
		map[string]any{"direction": "to_hall", "address": pickupAddress, "pickup_window": tomorrowWindow()}, "Idempotency-Key", key)
	if r.Status != 201 {
		s.t.Fatalf("pickup: %d %s", r.Status, r.Body)
	}
	var v shipmentJSON
	r.JSON(s.t, &v)
	var booked shipmentJSON
	testenv.WaitFor(s.t, "the courier booked the pickup", func() bool {
		booked = s.shipment(token, v.ID)
		return booked.WaybillNumber != ""
	})
	return booked
}

// advanceToDelivered moves the sandbox parcel step by step to 签收, the
// sandbox clock (when given) two seconds on per step, as parcels move in
// time (the courier's times have whole seconds).
func advanceToDelivered(t *testing.T, fake *courier.Server, number string, clock *sbfake.ManualClock) {
	for i := 0; i < 30; i++ {
		if clock != nil {
			clock.Advance(2 * time.Second)
		}
		p, err := fake.Advance(number, 1)
		if err != nil {
			t.Fatal(err)
		}
		if p.Checked {
			return
		}
	}
	t.Fatal("parcel never delivered")
}

func TestShipmentJourney(t *testing.T) {
	clock := sbfake.NewManualClock(time.Now())
	s := start(t, fastCallbacks, func(c *bff.Config) { c.SandboxClock = clock.Now })
	token, caseID, number := s.pickupCase("zhangsan")
	wantError(t, s.request("POST", "/api/v1/cases/"+caseID+"/shipments", token,
		map[string]any{"direction": "to_hall", "address": map[string]string{"name": "张三", "phone": "123", "province": "福建省",
			"city": "广州市", "district": "鼓楼区", "detail": "x"}, "pickup_window": tomorrowWindow()}, "Idempotency-Key", "bad"),
		400, "SHIPMENT_ADDRESS_INVALID")

	sh := s.bookPickup(token, caseID, "pickup-1")
	if again := s.request("POST", "/api/v1/cases/"+caseID+"/shipments", token,
		map[string]any{"direction": "to_hall", "address": pickupAddress, "pickup_window": tomorrowWindow()}, "Idempotency-Key", "pickup-1"); again.M(t)["id"] != sh.ID {
		t.Fatal("a retried pickup request made a second shipment")
	}
	fake := s.app.Sandbox().CourierServer()
	if n := len(fake.Orders()); n != 1 {
		t.Fatalf("%d pickup orders at the courier", n)
	}
	if sh.Receiver.Phone == "13800138000" {
		t.Fatal("the view shows a phone number in full")
	}
	// Pushes duplicated and out of order.
	if err := fake.SetFault(courier.PushFault{Number: sh.WaybillNumber, Mode: courier.FaultDuplicate}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		clock.Advance(2 * time.Second)
		if _, err := fake.Advance(sh.WaybillNumber, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := fake.SetFault(courier.PushFault{Number: sh.WaybillNumber, Mode: courier.FaultReorder}); err != nil {
		t.Fatal(err)
	}
	advanceToDelivered(t, fake, sh.WaybillNumber, clock)
	var got shipmentJSON
	testenv.WaitFor(t, "the shipment delivered", func() bool {
		got = s.shipment(token, sh.ID)
		return got.State == "delivered"
	})
	parcel, _ := fake.ParcelByNumber(sh.WaybillNumber)
	var courierEvents int
	for _, e := range got.Timeline {
		if e.Source != "system" {
			courierEvents++
		}
	}
	if courierEvents != len(parcel.Events) {
		t.Fatalf("timeline has %d courier entries, the courier %d", courierEvents, len(parcel.Events))
	}
	if !sort.SliceIsSorted(got.Timeline, func(i, j int) bool { return got.Timeline[i].At.Before(got.Timeline[j].At) }) {
		t.Fatalf("timeline out of order: %+v", got.Timeline)
	}
	if last := got.Timeline[len(got.Timeline)-1]; last.State != "delivered" || last.Context == "" {
		t.Fatalf("timeline ends %+v; all %+v", last, got.Timeline)
	}
	// Too late to cancel.
	wantError(t, s.request("POST", "/api/v1/shipments/"+sh.ID+"/cancel", token, nil, "Idempotency-Key", "late-cancel"), 409, "SHIPMENT_STATE_CONFLICT")

	// The case completes with the result by mail: the return shipment appears by itself.
	advance(t, s.app.Sandbox().ProvinceServer(), number, sbprovince.Advance{Status: "accepted"})
	advance(t, s.app.Sandbox().ProvinceServer(), number, sbprovince.Advance{Status: "completed_approved", Result: "mail"})
	var list struct {
		Items []shipmentJSON `json:"items"`
	}
	testenv.WaitFor(t, "the result shipment", func() bool {
		s.request("GET", "/api/v1/cases/"+caseID+"/shipments", token, nil).JSON(t, &list)
		return len(list.Items) == 2
	})
	var result shipmentJSON
	for _, it := range list.Items {
		if it.Direction == "to_applicant" {
			result = it
		}
	}
	if result.ID == "" {
		t.Fatalf("shipments %+v", list.Items)
	}
	// The case's file reads its index, which the parcels' events fill a moment later.
	s.waitCase(token, caseID, "both parcels in the case's file", func(c map[string]any) bool {
		return len(c["links"].(map[string]any)["shipments"].([]any)) == 2
	})
}

func TestShipmentPollingAndForgedPushes(t *testing.T) {
	s := start(t, fastCallbacks, func(c *bff.Config) { c.ShipmentPollStaleAfter = time.Millisecond })
	token, caseID, _ := s.pickupCase("zhangsan")
	sh := s.bookPickup(token, caseID, "p")
	fake := s.app.Sandbox().CourierServer()
	if err := fake.SetFault(courier.PushFault{Number: sh.WaybillNumber, Mode: courier.FaultOff}); err != nil {
		t.Fatal(err)
	}
	advanceToDelivered(t, fake, sh.WaybillNumber, nil)

	// A forged push (right shape, wrong signature) is refused and changes nothing.
	parcel, _ := fake.ParcelByNumber(sh.WaybillNumber)
	param := `{"status":"polling","message":"","lastResult":{"message":"ok","state":"3","status":"200","condition":"F00","ischeck":"1","com":"` +
		parcel.Com + `","nu":"` + sh.WaybillNumber + `","data":[{"time":"2026-11-23 10:00:00","ftime":"2026-11-23 10:00:00","context":"已签收","status":"签收"}]}}`
	form := url.Values{"param": {param}, "sign": {"0123456789ABCDEF0123456789ABCDEF"}}
	r := s.request("POST", "/api/v1/callbacks/courier/"+parcel.Com, "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	if r.Status != 401 {
		t.Fatalf("forged push: %d %s", r.Status, r.Body)
	}
	if got := s.shipment(token, sh.ID); got.State != "created" {
		t.Fatalf("after pushes off and a forged push the shipment is %s", got.State)
	}
	// Polling alone brings it to delivered.
	testenv.WaitFor(t, "the poller delivered it", func() bool {
		if _, err := s.app.Logistics().Poll(t.Context(), 10); err != nil {
			t.Fatal(err)
		}
		return s.shipment(token, sh.ID).State == "delivered"
	})
	got := s.shipment(token, sh.ID)
	for _, e := range got.Timeline {
		if e.Source == "push" {
			t.Fatalf("a push got through with pushes off: %+v", e)
		}
	}

	// Cancel before pickup.
	sh2 := s.bookPickup(token, caseID, "p2")
	wantError(t, s.request("POST", "/api/v1/shipments/"+sh2.ID+"/cancel", token, nil), 400, "IDEMPOTENCY_KEY_REQUIRED")
	r = s.request("POST", "/api/v1/shipments/"+sh2.ID+"/cancel", token, nil, "Idempotency-Key", "cancel-p2")
	if r.Status != 200 || r.M(t)["state"] != "cancelled" {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	other := s.loginWeChat("lisi")
	wantError(t, s.request("GET", "/api/v1/shipments/"+sh.ID, other.Access, nil), 404, "SHIPMENT_NOT_FOUND")
}
