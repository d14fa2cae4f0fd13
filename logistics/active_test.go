package logistics

import (
	"testing"
	"time"
)

// The reminders of a shipment are found by the subject its events carry.
func TestSubjectIsTheEventsSubject(t *testing.T) {
	sh := &Shipment{ID: "shp_pickup_c_1_1", UserID: "u1"}
	p := changeEvent(EventCreated, sh, Transition{To: StateCreated, Event: TrackEvent{At: time.Now(), State: StateCreated}}, time.Now())
	if p.Subject != Subject(sh.ID) {
		t.Fatalf("event subject %q, Subject() %q", p.Subject, Subject(sh.ID))
	}
}
