package courier

import (
	"testing"
	"time"
)

func TestStateMapping(t *testing.T) {
	cases := []struct {
		code, name string
		want       State
	}{
		{"0", "", StateInTransit}, {"1", "", StatePickedUp}, {"2", "", StateException}, {"3", "", StateDelivered},
		{"4", "", StateReturned}, {"5", "", StateOutForDelivery}, {"6", "", StateReturned}, {"7", "", StateInTransit},
		{"8", "", StateInTransit}, {"13", "", StateException}, {"14", "", StateReturned},
		{"101", "", StateCreated}, {"102", "", StateCreated}, {"103", "", StatePickedUp},
		{"1001", "", StateInTransit}, {"1002", "", StateInTransit}, {"1003", "", StateInTransit},
		{"206", "", StateException}, {"304", "", StateDelivered}, {"501", "", StateOutForDelivery},
		// unlisted sub-states fall back on their main state
		{"212", "", StateException}, {"305", "", StateDelivered}, {"1004", "", StateInTransit}, {"1402", "", StateReturned},
		// names when there is no code
		{"", "签收", StateDelivered}, {"", "派件", StateOutForDelivery}, {"", "疑难", StateException},
		{"", "拒签", StateReturned}, {"", "投柜或驿站", StateOutForDelivery}, {"", "待揽收", StateCreated},
		// the code wins over the name
		{"101", "揽收", StateCreated},
		// nothing usable
		{"", "", StateUnknown}, {"99", "火星", StateUnknown},
	}
	for _, c := range cases {
		if got := eventState(c.code, c.name); got != c.want {
			t.Errorf("code %q name %q: %q, want %q", c.code, c.name, got, c.want)
		}
	}
}

// Events come oldest first in UTC whatever order the wire had; the
// newest entry's sub-state refines 揽收 into created.
func TestWireTrackNormalization(t *testing.T) {
	w := wireTrack{Com: "ems", Nu: "1", State: "1", IsCheck: "0"}
	w.Data = append(w.Data,
		wireEntry{Time: "2026-03-02 10:05:00", Context: "待揽收", Status: "揽收", StatusCode: "102"},
		wireEntry{Time: "2026-03-02 10:00", Context: "已下单", Status: "揽收", StatusCode: "101"},
	)
	tr, err := w.tracking()
	if err != nil {
		t.Fatal(err)
	}
	if tr.State != StateCreated || tr.Events[0].Context != "已下单" ||
		!tr.Events[1].At.Equal(time.Date(2026, 3, 2, 2, 5, 0, 0, time.UTC)) {
		t.Fatalf("%+v", tr)
	}
	w.Data[0].Time = "02/03/2026"
	if _, err := w.tracking(); err == nil {
		t.Fatal("bad time accepted")
	}
}
