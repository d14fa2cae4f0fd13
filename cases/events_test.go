package cases

import (
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/events"
)

func pendingOf(t *testing.T, c *Case, eventType string) events.Pending {
	t.Helper()
	for _, p := range c.Pending {
		if p.Type == eventType {
			return p
		}
	}
	t.Fatalf("no %s in the outbox: %+v", eventType, c.Pending)
	return events.Pending{}
}

// Each event as the cases package emits it decodes into its payload struct,
// and carries the field names its consumers (notify, the result shipment) read.
func TestEventsRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	c := &Case{ID: "c_0193f0a1b2c3d4e5f6a7b8c9", OwnerID: "u_1", ItemCode: "11350100003600101L00001", ItemName: "居民身份证换领",
		CaseNumber: "FZ2026112300010001", Status: StatusSupplementRequested, Supplement: []string{"m1", "m2"}, Version: 7}
	due := time.Date(2026, 12, 7, 0, 0, 0, 0, shanghai)
	c.SupplementDue = &due
	dueUTC := due.UTC() // as BSON gives it back
	c.emitStatusWith(ActorProvince, "身份证复印件不清晰", at, []string{"居民身份证", "近期免冠照片"})
	c.Status, c.Result, c.Supplement, c.Version = StatusCompletedApproved, "mail", nil, 8
	c.emitStatus(ActorProvince, "", at)
	c.Version = 9
	c.emitSubmitted(at)
	c.Version = 10
	c.Evaluation = &Evaluation{Level: 2}
	c.emitEvaluated(at)

	tests := []struct {
		id      string
		typ     string
		decoded any
		want    any
		keys    []string
	}{
		{"case:c_0193f0a1b2c3d4e5f6a7b8c9:v7:case.status_changed", EventStatusChanged, &StatusChanged{}, &StatusChanged{
			Status: "supplement_requested", CaseNumber: "FZ2026112300010001", ItemCode: "11350100003600101L00001", ItemName: "居民身份证换领",
			Note: "身份证复印件不清晰", Materials: []string{"m1", "m2"}, MaterialNames: []string{"居民身份证", "近期免冠照片"},
			SupplementDue: &dueUTC, UserID: "u_1"},
			[]string{"status", "result", "case_number", "item_code", "item_name", "note", "materials", "material_names", "supplement_due", "user_id"}},
		{"case:c_0193f0a1b2c3d4e5f6a7b8c9:v8:case.status_changed", EventStatusChanged, &StatusChanged{}, &StatusChanged{
			Status: "completed_approved", Result: "mail", CaseNumber: "FZ2026112300010001", ItemCode: "11350100003600101L00001",
			ItemName: "居民身份证换领", UserID: "u_1"}, []string{"status", "result"}},
		{"case:c_0193f0a1b2c3d4e5f6a7b8c9:v9:case.submitted_to_province", EventSubmittedToProvince, &SubmittedToProvince{},
			&SubmittedToProvince{CaseNumber: "FZ2026112300010001"}, []string{"case_number"}},
		{"case:c_0193f0a1b2c3d4e5f6a7b8c9:v10:case.evaluated", EventEvaluated, &Evaluated{}, &Evaluated{Level: 2}, []string{"level"}},
	}
	if len(c.Pending) != len(tests) {
		t.Fatalf("outbox has %d events, want %d", len(c.Pending), len(tests))
	}
	for i, tt := range tests {
		p := c.Pending[i]
		if p.ID != tt.id || p.Type != tt.typ || p.Subject != "case:"+c.ID || !p.At.Equal(at) {
			t.Fatalf("pending %d = %s %s %s %v", i, p.ID, p.Type, p.Subject, p.At)
		}
		e := p.Event()
		if err := e.Decode(tt.decoded); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(tt.decoded, tt.want) {
			t.Errorf("%s decoded %+v, want %+v", tt.id, tt.decoded, tt.want)
		}
		var m bson.M
		if err := e.Decode(&m); err != nil {
			t.Fatal(err)
		}
		for _, k := range tt.keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: no field %q for its consumers: %v", tt.id, k, m)
			}
		}
	}
}
