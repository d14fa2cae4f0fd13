package cases

import (
	"fmt"
	"time"

	"zwfw/platform/events"
)

// Event types of the cases package. Each rides in the case document's
// outbox, written by the same versioned save as the change it reports.
const (
	// EventStatusChanged: a case moved to another status (payload StatusChanged).
	// Every status change emits it, including the applicant's own (submitted,
	// withdrawn) and the province's refusal of a delivery.
	EventStatusChanged = "case.status_changed"
	// EventSubmittedToProvince: the province received the case and gave it
	// its case number (payload SubmittedToProvince).
	EventSubmittedToProvince = "case.submitted_to_province"
	// EventEvaluated: the applicant rated the finished case (payload Evaluated).
	EventEvaluated = "case.evaluated"
)

// StatusChanged is the payload of case.status_changed. Reminders
// (notify) and the result shipment (bff's mailResults) act on it without
// reading the case back, so it carries what they show.
type StatusChanged struct {
	// Status is the status the case moved to.
	Status string `bson:"status"`
	// Result is how the result reaches the applicant (electronic, mail,
	// hall), set when the province completes the case.
	Result     string `bson:"result"`
	CaseNumber string `bson:"case_number"`
	ItemCode   string `bson:"item_code"`
	ItemName   string `bson:"item_name"`
	// Note is the province's (or the applicant's) note on the change.
	Note string `bson:"note"`
	// Materials are the material slots a supplement request asks for.
	Materials []string `bson:"materials"`
	// MaterialNames are those materials by their guide names, in the same order.
	MaterialNames []string `bson:"material_names,omitempty"`
	// SupplementDue is the last day to answer a supplement request (its
	// start, Asia/Shanghai): the province's deadline, or the guide's rule.
	SupplementDue *time.Time `bson:"supplement_due,omitempty"`
	// UserID is the case's owner, who is told.
	UserID string `bson:"user_id"`
}

// SubmittedToProvince is the payload of case.submitted_to_province.
type SubmittedToProvince struct {
	CaseNumber string `bson:"case_number"`
}

// Evaluated is the payload of case.evaluated.
type Evaluated struct {
	Level int `bson:"level"` // 5 非常满意 ... 1 非常不满意
}

// Subject is the event-log subject of a case ("case:<id>").
func Subject(caseID string) string { return "case:" + caseID }

// eventID is deterministic and unique per state change: a case's version
// changes with every save, so relaying the same write twice appends once.
func eventID(c *Case, eventType string) string {
	return fmt.Sprintf("case:%s:v%d:%s", c.ID, c.Version, eventType)
}

// statusChanged is the StatusChanged payload of c's current status;
// names are the requested materials' names (a supplement request).
func statusChanged(c *Case, note string, names []string) StatusChanged {
	p := StatusChanged{Status: string(c.Status), Result: c.Result, CaseNumber: c.CaseNumber, ItemCode: c.ItemCode,
		ItemName: c.ItemName, Note: note, Materials: c.Supplement, UserID: c.OwnerID}
	if c.Status == StatusSupplementRequested {
		p.MaterialNames, p.SupplementDue = names, c.SupplementDue
	}
	return p
}

// emitStatus puts c's status change in its outbox, stored by the save that
// stores the status (c.Version must already be the new version).
func (c *Case) emitStatus(actor, note string, at time.Time) { c.emitStatusWith(actor, note, at, nil) }

// emitStatusWith is emitStatus with the requested materials' names.
func (c *Case) emitStatusWith(actor, note string, at time.Time, names []string) {
	c.Emit(events.MustPending(eventID(c, EventStatusChanged), EventStatusChanged, Subject(c.ID), actor, statusChanged(c, note, names), at))
}

// Actors of case events other than the owner, whose user id is the actor
// of the owner's own actions.
const (
	ActorProvince = "province"
	ActorSystem   = "system"
)

// emitSubmitted records the province's receipt of the case.
func (c *Case) emitSubmitted(at time.Time) {
	c.Emit(events.MustPending(eventID(c, EventSubmittedToProvince), EventSubmittedToProvince, Subject(c.ID), ActorProvince,
		SubmittedToProvince{CaseNumber: c.CaseNumber}, at))
}

// emitEvaluated records the owner's evaluation.
func (c *Case) emitEvaluated(at time.Time) {
	c.Emit(events.MustPending(eventID(c, EventEvaluated), EventEvaluated, Subject(c.ID), c.OwnerID,
		Evaluated{Level: c.Evaluation.Level}, at))
}
