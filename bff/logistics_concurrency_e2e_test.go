package bff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"zwfw/platform/testenv"
)

// shipmentTaps is how many copies of one shipment write a phone sends at once.
const shipmentTaps = 20

// shipmentVolley sends the same request once per key, all at the same
// moment, and returns the answers, each validated against the OpenAPI
// document afterwards (on the test's goroutine).
func (s *server) shipmentVolley(method, path, token string, body any, keys []string) []*response {
	s.t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	reqs := make([]*http.Request, len(keys))
	for i, k := range keys {
		req, err := http.NewRequest(method, s.base+path, bytes.NewReader(raw))
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
			b, err := io.ReadAll(res.Body)
			out[i], errs[i] = &response{Status: res.StatusCode, Header: res.Header, Body: b}, err
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

// shipmentKeys is n copies of one key, or n different keys.
func shipmentKeys(prefix string, n int, same bool) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix
		if !same {
			out[i] = fmt.Sprintf("%s-%d", prefix, i)
		}
	}
	return out
}

// volleyTally sorts a volley's answers the way ISSUE16 counts them.
type volleyTally struct {
	winners, replayed, refused int
	body                       []byte // the 2xx answer every success carries
	refusedCodes               map[string]int
}

// tallyVolley checks the answers of one volley: every 2xx is byte for
// byte the same answer with status okStatus, exactly one of them is not a
// replay, and every other answer is an error envelope with one of the
// codes allowed (at status 409).
func tallyVolley(t *testing.T, route string, rs []*response, okStatus int, allowed ...string) volleyTally {
	t.Helper()
	v := volleyTally{refusedCodes: map[string]int{}}
	for i, r := range rs {
		switch {
		case r.Status == okStatus:
			if v.body == nil {
				v.body = r.Body
			} else if !bytes.Equal(v.body, r.Body) {
				t.Fatalf("%s: copy %d answered another body:\n%s\nfirst:\n%s", route, i, r.Body, v.body)
			}
			if r.Header.Get("Idempotent-Replayed") == "true" {
				v.replayed++
			} else {
				v.winners++
			}
		case r.Status == http.StatusConflict:
			code, _ := r.M(t)["code"].(string)
			ok := false
			for _, a := range allowed {
				ok = ok || code == a
			}
			if !ok {
				t.Fatalf("%s: copy %d refused with %s, want one of %v: %s", route, i, code, allowed, r.Body)
			}
			v.refused++
			v.refusedCodes[code]++
		default:
			t.Fatalf("%s: copy %d answered %d: %s", route, i, r.Status, r.Body)
		}
	}
	t.Logf("concurrency %s: requests=%d winners=%d replayed=%d refused=%d %v", route, len(rs), v.winners, v.replayed, v.refused, v.refusedCodes)
	if v.winners != 1 {
		t.Fatalf("%s: %d requests did the work, want exactly 1", route, v.winners)
	}
	return v
}

// shipmentsOfCase lists a case's shipments through the API.
func (s *server) shipmentsOfCase(token, caseID string) []shipmentJSON {
	s.t.Helper()
	var list struct {
		Items []shipmentJSON `json:"items"`
	}
	r := s.request("GET", "/api/v1/cases/"+caseID+"/shipments", token, nil)
	if r.Status != 200 {
		s.t.Fatalf("list shipments: %d %s", r.Status, r.Body)
	}
	r.JSON(s.t, &list)
	return list.Items
}

// shipmentEvents counts a shipment's events of a type in the log, once the
// outbox relay had time to move them.
func (s *server) shipmentEvents(id, typ string, want int) {
	s.t.Helper()
	n := 0
	testenv.WaitFor(s.t, fmt.Sprintf("%d %s event(s) of %s in the log", want, typ, id), func() bool {
		evs, err := s.app.Events().ReadSubject(context.Background(), "shipment:"+id, 0, 100)
		if err != nil {
			s.t.Fatal(err)
		}
		n = 0
		for _, e := range evs {
			if e.Type == typ {
				n++
			}
		}
		return n >= want
	})
	if n != want {
		s.t.Fatalf("%d %s events of %s, want %d", n, typ, id, want)
	}
}

// 20 copies of one pickup request under one key, and 20 double taps under
// different keys on another case: each case gets one shipment and the
// courier one pickup order; the copies get the first answer (or are told
// to retry), the double taps SHIPMENT_PICKUP_EXISTS naming the shipment.
func TestShipmentCreateConcurrentDuplicates(t *testing.T) {
	s := start(t, fastCallbacks)
	token, oneKeyCase, _ := s.pickupCase("zhangsan")
	_, tapsCase, _ := s.pickupCase("zhangsan")
	body := map[string]any{"direction": "to_hall", "address": pickupAddress, "pickup_window": tomorrowWindow()}
	fake := s.app.Sandbox().CourierServer()

	for _, c := range []struct {
		caseID string
		same   bool
	}{{oneKeyCase, true}, {tapsCase, false}} {
		route := "POST /api/v1/cases/{id}/shipments (one key)"
		allowed := []string{"IDEMPOTENCY_KEY_IN_USE"}
		if !c.same {
			route = "POST /api/v1/cases/{id}/shipments (different keys)"
			allowed = []string{"SHIPMENT_PICKUP_EXISTS"}
		}
		rs := s.shipmentVolley("POST", "/api/v1/cases/"+c.caseID+"/shipments", token, body, shipmentKeys("pickup-"+c.caseID, shipmentTaps, c.same))
		v := tallyVolley(t, route, rs, http.StatusCreated, allowed...)
		var made shipmentJSON
		if err := json.Unmarshal(v.body, &made); err != nil {
			t.Fatal(err)
		}
		if !c.same && v.refused != shipmentTaps-1 {
			t.Fatalf("%d double taps refused, want %d", v.refused, shipmentTaps-1)
		}
		for _, r := range rs {
			if r.Status == http.StatusConflict && !c.same {
				if d, _ := r.M(t)["details"].(map[string]any); d["shipment_id"] != made.ID {
					t.Fatalf("refusal names %v, the shipment is %s", d, made.ID)
				}
			}
		}
		if list := s.shipmentsOfCase(token, c.caseID); len(list) != 1 || list[0].ID != made.ID {
			t.Fatalf("shipments of the case: %+v", list)
		}
		testenv.WaitFor(t, "the pickup booked", func() bool { return s.shipment(token, made.ID).WaybillNumber != "" })
		s.shipmentEvents(made.ID, "shipment.created", 1)
	}
	orders := fake.Orders()
	if len(orders) != 2 {
		t.Fatalf("%d pickup orders at the courier for two cases, want 2", len(orders))
	}
	t.Logf("courier: %d pickup orders for 2 cases after %d requests", len(orders), 2*shipmentTaps)
}

// 20 copies of one cancel under one key, then (on the case's next pickup)
// 20 double taps under different keys: each pickup is cancelled once, at
// the courier too, and announced once; the copies get the first answer,
// the double taps SHIPMENT_ALREADY_CANCELLED.
func TestShipmentCancelConcurrentDuplicates(t *testing.T) {
	s := start(t, fastCallbacks)
	token, caseID, _ := s.pickupCase("zhangsan")
	fake := s.app.Sandbox().CourierServer()
	for i, same := range []bool{true, false} {
		sh := s.bookPickup(token, caseID, fmt.Sprintf("pickup-%d", i))
		route := "POST /api/v1/shipments/{id}/cancel (one key)"
		allowed := []string{"IDEMPOTENCY_KEY_IN_USE"}
		if !same {
			route = "POST /api/v1/shipments/{id}/cancel (different keys)"
			allowed = []string{"SHIPMENT_ALREADY_CANCELLED"}
		}
		rs := s.shipmentVolley("POST", "/api/v1/shipments/"+sh.ID+"/cancel", token, nil, shipmentKeys("cancel-"+sh.ID, shipmentTaps, same))
		v := tallyVolley(t, route, rs, http.StatusOK, allowed...)
		if !same && v.refused != shipmentTaps-1 {
			t.Fatalf("%d double taps refused, want %d", v.refused, shipmentTaps-1)
		}
		var got shipmentJSON
		if err := json.Unmarshal(v.body, &got); err != nil || got.State != "cancelled" {
			t.Fatalf("cancel answered %s (%v)", v.body, err)
		}
		if now := s.shipment(token, sh.ID); now.State != "cancelled" {
			t.Fatalf("stored state %s", now.State)
		}
		s.shipmentEvents(sh.ID, "shipment.cancelled", 1)
		cancelled := 0
		for _, o := range fake.Orders() {
			if o.Kuaidinum == sh.WaybillNumber && o.Status == "cancelled" {
				cancelled++
			}
		}
		if cancelled != 1 {
			t.Fatalf("%d cancelled courier orders for waybill %s", cancelled, sh.WaybillNumber)
		}
	}
	if n := len(fake.Orders()); n != 2 {
		t.Fatalf("%d courier orders for two pickups", n)
	}
	if list := s.shipmentsOfCase(token, caseID); len(list) != 2 {
		t.Fatalf("%d shipments of the case, want 2", len(list))
	}
}
