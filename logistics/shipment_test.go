package logistics

import (
	"slices"
	"testing"
	"time"
)

var base = time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC)

func ev(hour int, st State, text string) TrackEvent {
	return TrackEvent{At: base.Add(time.Duration(hour) * time.Hour), State: st, Context: text, Source: SourcePush}
}

var journey = []TrackEvent{
	ev(1, StatePickedUp, "已收取快件"),
	ev(2, StateInTransit, "到达福州集散中心"),
	ev(3, StateInTransit, "发往厦门"),
	ev(4, StateOutForDelivery, "正在派送"),
	ev(5, StateDelivered, "已签收"),
}

func states(trs []Transition) []State {
	var out []State
	for _, t := range trs {
		out = append(out, t.To)
	}
	return out
}

func TestApplyTracking(t *testing.T) {
	cases := []struct {
		name       string
		start      State
		batches    [][]TrackEvent // applied one after the other
		want       State
		entries    int     // courier entries in the timeline at the end
		lastChange []State // transitions of the last batch
		collected  int     // transitions marked Collected, over all batches
	}{
		{"in order, one push each", StateCreated, [][]TrackEvent{journey[:1], journey[:2], journey[:3], journey[:4], journey},
			StateDelivered, 5, []State{StateDelivered}, 1},
		{"everything at once", StateCreated, [][]TrackEvent{journey},
			StateDelivered, 5, []State{StatePickedUp, StateInTransit, StateOutForDelivery, StateDelivered}, 1},
		{"older push after a newer one", StateCreated, [][]TrackEvent{journey[:4], journey[:2]},
			StateOutForDelivery, 4, nil, 1},
		{"duplicate push", StateCreated, [][]TrackEvent{journey[:3], journey[:3]},
			StateInTransit, 3, nil, 1},
		{"shuffled track", StateCreated, [][]TrackEvent{{journey[3], journey[0], journey[2], journey[1]}},
			StateOutForDelivery, 4, []State{StatePickedUp, StateInTransit, StateOutForDelivery}, 1},
		{"a lone older entry is ignored", StateCreated, [][]TrackEvent{journey[2:3], journey[1:2]},
			StateInTransit, 1, nil, 1},
		{"first entry in transit still counts as collected", StateCreated, [][]TrackEvent{journey[1:3]},
			StateInTransit, 2, []State{StateInTransit}, 1},
		{"exception, then back on the main line", StateCreated, [][]TrackEvent{
			append(slices.Clone(journey[:4]), ev(6, StateException, "收件人电话无法接通")),
			{ev(7, StateOutForDelivery, "第二次派送")},
			{ev(8, StateDelivered, "已签收")},
		}, StateDelivered, 7, []State{StateDelivered}, 1},
		{"exception, then an earlier main state keeps the progress", StateCreated, [][]TrackEvent{
			append(slices.Clone(journey[:4]), ev(6, StateException, "滞留")),
			{ev(7, StateInTransit, "退回网点")},
		}, StateOutForDelivery, 6, []State{StateOutForDelivery}, 1},
		{"main line never moves back", StateCreated, [][]TrackEvent{journey[:4], {ev(6, StatePickedUp, "再次揽收")}},
			StateOutForDelivery, 5, nil, 1},
		{"nothing after delivered", StateCreated, [][]TrackEvent{journey, {ev(9, StateInTransit, "错发")}},
			StateDelivered, 5, nil, 1},
		{"returned keeps its own entries", StateCreated, [][]TrackEvent{
			append(slices.Clone(journey[:4]), ev(6, StateReturned, "拒收，退回寄件人")),
			{ev(7, StateReturned, "退回途中"), ev(8, StateInTransit, "到达"), ev(9, StateReturned, "退回件已签收")},
		}, StateReturned, 7, nil, 1},
		{"unclassified entries are kept, change nothing", StateCreated, [][]TrackEvent{{ev(1, "", "快件信息已录入")}},
			StateCreated, 1, nil, 0},
		{"cancelled takes nothing", StateCancelled, [][]TrackEvent{journey}, StateCancelled, 0, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sh := &Shipment{State: c.start}
			var last []Transition
			collected := 0
			for _, b := range c.batches {
				_, last = sh.ApplyTracking(b)
				for _, tr := range last {
					if tr.Collected {
						collected++
					}
				}
			}
			if sh.State != c.want || len(sh.Timeline) != c.entries {
				t.Fatalf("state %s with %d entries, want %s with %d: %+v", sh.State, len(sh.Timeline), c.want, c.entries, sh.Timeline)
			}
			if !slices.Equal(states(last), c.lastChange) {
				t.Fatalf("last transitions %v, want %v", states(last), c.lastChange)
			}
			if collected != c.collected {
				t.Fatalf("%d collected transitions, want %d", collected, c.collected)
			}
			for i := 1; i < len(sh.Timeline); i++ {
				if sh.Timeline[i].At.Before(sh.Timeline[i-1].At) {
					t.Fatalf("timeline out of order at %d: %+v", i, sh.Timeline)
				}
			}
		})
	}
}

func TestApplyTrackingReportsNoChange(t *testing.T) {
	sh := &Shipment{State: StateCreated}
	if changed, _ := sh.ApplyTracking(journey[:2]); !changed {
		t.Fatal("new entries reported as no change")
	}
	if changed, trs := sh.ApplyTracking(journey[:2]); changed || len(trs) != 0 {
		t.Fatal("a duplicate changed something")
	}
	// Two entries with the same time but different text are both kept.
	same := []TrackEvent{ev(3, StateInTransit, "A"), ev(3, StateInTransit, "B")}
	if changed, _ := sh.ApplyTracking(same); !changed || len(sh.Timeline) != 4 {
		t.Fatalf("same-time entries: %+v", sh.Timeline)
	}
}

func TestCancellable(t *testing.T) {
	cases := []struct {
		sh   Shipment
		want bool
	}{
		{Shipment{State: StateCreated}, true},
		{Shipment{State: StateCreated, CourierOrderID: "T:1"}, true},
		{Shipment{State: StateException}, true}, // the booking failed
		{Shipment{State: StateException, CourierOrderID: "T:1"}, false},
		{Shipment{State: StatePickedUp}, false},
		{Shipment{State: StateDelivered}, false},
	}
	for _, c := range cases {
		if got := c.sh.Cancellable(); got != c.want {
			t.Errorf("%s (order %q): Cancellable %v, want %v", c.sh.State, c.sh.CourierOrderID, got, c.want)
		}
	}
}
