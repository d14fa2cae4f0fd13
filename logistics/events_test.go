package logistics

import (
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Every shipment event, built as the package builds it, reaches the log
// and decodes back into StateChanged unchanged, under today's field names
// (notify reads them from a map).
func TestEventsRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 3, 1, 30, 0, 0, time.UTC)
	booked := &Shipment{ID: "shp_pickup_c_1_1", CaseID: "c_1", CaseNumber: "350100260302000001", UserID: "u1",
		Direction: ToHall, Carrier: "ems", WaybillNumber: "1123688447660", State: StateDelivered}
	courierEntry := TrackEvent{At: at, State: StateDelivered, Context: "已签收，签收人：本人", Source: SourcePush}
	noteEntry := TrackEvent{At: at, State: StateCancelled, Context: "已取消上门取件", Source: SourceSystem}
	cases := []struct {
		typ  string
		tr   Transition
		id   string
		want StateChanged
	}{
		{EventCreated, Transition{To: StateCreated, Event: TrackEvent{At: at, State: StateCreated, Context: "已提交上门取件预约", Source: SourceSystem}},
			"shipment:shp_pickup_c_1_1:shipment.created", StateChanged{State: StateCreated, Context: "已提交上门取件预约", Source: SourceSystem}},
		{EventPickedUp, Transition{From: StateCreated, To: StateInTransit, Collected: true, Event: TrackEvent{At: at, State: StateInTransit, Context: "运输中", Source: SourcePoll}},
			"shipment:shp_pickup_c_1_1:shipment.picked_up", StateChanged{State: StateInTransit, From: StateCreated, Context: "运输中", Source: SourcePoll}},
		{EventDelivered, Transition{From: StateOutForDelivery, To: StateDelivered, Event: courierEntry},
			"shipment:shp_pickup_c_1_1:shipment.delivered", StateChanged{State: StateDelivered, From: StateOutForDelivery, Context: courierEntry.Context, Source: SourcePush}},
		{EventException, Transition{From: StateInTransit, To: StateException, Event: TrackEvent{At: at, State: StateException, Context: "地址不详", Source: SourcePush}},
			"shipment:shp_pickup_c_1_1:shipment.exception@1772501400000", StateChanged{State: StateException, From: StateInTransit, Context: "地址不详", Source: SourcePush}},
		{EventReturned, Transition{From: StateOutForDelivery, To: StateReturned, Event: TrackEvent{At: at, State: StateReturned, Context: "拒签", Source: SourcePush}},
			"shipment:shp_pickup_c_1_1:shipment.returned", StateChanged{State: StateReturned, From: StateOutForDelivery, Context: "拒签", Source: SourcePush}},
		{EventCancelled, Transition{From: StateCreated, To: StateCancelled, Event: noteEntry},
			"shipment:shp_pickup_c_1_1:shipment.cancelled", StateChanged{State: StateCancelled, From: StateCreated, Context: noteEntry.Context, Source: SourceSystem}},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			p := changeEvent(c.typ, booked, c.tr, at)
			if p.ID != c.id || p.Type != c.typ || p.Subject != "shipment:"+booked.ID || !p.At.Equal(at) {
				t.Fatalf("pending %+v", p)
			}
			wantActor := "courier"
			if c.tr.Event.Source == SourceSystem {
				wantActor = "system"
			}
			if p.Actor != wantActor {
				t.Fatalf("actor %q, want %q", p.Actor, wantActor)
			}
			e := p.Event()
			var got StateChanged
			if err := e.Decode(&got); err != nil {
				t.Fatal(err)
			}
			want := c.want
			want.ShipmentID, want.CaseID, want.CaseNumber, want.UserID = booked.ID, booked.CaseID, booked.CaseNumber, booked.UserID
			want.Direction, want.Carrier, want.WaybillNumber, want.At = booked.Direction, booked.Carrier, booked.WaybillNumber, at
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded %+v\nwant    %+v", got, want)
			}
			var m bson.M
			if err := e.Decode(&m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"shipment_id", "case_id", "case_number", "user_id", "direction", "carrier",
				"waybill_number", "state", "from", "at", "context", "source"} {
				if _, ok := m[k]; !ok {
					t.Errorf("field %s missing from %v", k, m)
				}
			}
		})
	}
}

// The transitions a write makes announce what notify reminds of.
func TestTransitionEvents(t *testing.T) {
	cases := []struct {
		tr   Transition
		want []string
	}{
		{Transition{From: StateCreated, To: StatePickedUp, Collected: true}, []string{EventPickedUp}},
		{Transition{From: StateCreated, To: StateDelivered, Collected: true}, []string{EventPickedUp, EventDelivered}},
		{Transition{From: StatePickedUp, To: StateInTransit}, nil},
		{Transition{From: StateInTransit, To: StateException}, []string{EventException}},
		{Transition{From: StateException, To: StateOutForDelivery}, nil},
		{Transition{From: StateOutForDelivery, To: StateReturned}, []string{EventReturned}},
		{Transition{From: StateCreated, To: StateCancelled}, []string{EventCancelled}},
	}
	for _, c := range cases {
		if got := transitionEvents(c.tr); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s -> %s: %v, want %v", c.tr.From, c.tr.To, got, c.want)
		}
	}
}
