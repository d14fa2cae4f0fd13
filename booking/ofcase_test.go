package booking

import "testing"

// The reminders of a booking are found by the subject its events carry.
func TestSubjectIsTheEventsSubject(t *testing.T) {
	b := &Booking{ID: "b_0000000000000123456789ab", UserID: "u1", Status: StatusConfirmed, Version: 1}
	b.emit(EventConfirmed, Confirmed{b.details()}, at("2026-11-02", "08:00"))
	if got := b.Pending[0].Subject; got != Subject(b.ID) {
		t.Fatalf("event subject %q, Subject() %q", got, Subject(b.ID))
	}
}
