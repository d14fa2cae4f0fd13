// Package cases owns online applications (网上申报/办件): drafts with their
// form and materials, pre-review, submission to the provincial platform
// through a durable job, and the status timeline kept in step with the
// province by signed callbacks and a polling safety net.
package cases

import (
	"slices"
	"time"

	"zwfw/platform/events"
)

// Status is where a case stands. The province decides every status after
// submission; zwfw decides draft -> submitted and the user's withdrawal.
type Status string

// The statuses of a case.
const (
	StatusDraft               Status = "draft"
	StatusSubmitted           Status = "submitted"
	StatusAccepted            Status = "accepted"
	StatusRejectedAtIntake    Status = "rejected_at_intake"
	StatusSupplementRequested Status = "supplement_requested"
	StatusResubmitted         Status = "resubmitted"
	StatusCompletedApproved   Status = "completed_approved"
	StatusCompletedDenied     Status = "completed_denied"
	StatusWithdrawn           Status = "withdrawn"
)

// transitions lists, for each status, the statuses it may move to.
var transitions = map[Status][]Status{
	StatusDraft:               {StatusSubmitted, StatusWithdrawn},
	StatusSubmitted:           {StatusAccepted, StatusRejectedAtIntake, StatusSupplementRequested, StatusWithdrawn},
	StatusAccepted:            {StatusSupplementRequested, StatusCompletedApproved, StatusCompletedDenied, StatusWithdrawn},
	StatusSupplementRequested: {StatusResubmitted, StatusRejectedAtIntake, StatusWithdrawn},
	StatusResubmitted:         {StatusAccepted, StatusSupplementRequested, StatusRejectedAtIntake, StatusCompletedApproved, StatusCompletedDenied, StatusWithdrawn},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok || s.Final()
}

// Final reports whether nothing can happen to a case in status s any more.
func (s Status) Final() bool {
	switch s {
	case StatusRejectedAtIntake, StatusCompletedApproved, StatusCompletedDenied, StatusWithdrawn:
		return true
	}
	return false
}

// CanMoveTo reports whether the state machine allows s -> next.
func (s Status) CanMoveTo(next Status) bool { return slices.Contains(transitions[s], next) }

// Label is the status as the app shows it.
func (s Status) Label() string {
	switch s {
	case StatusDraft:
		return "草稿"
	case StatusSubmitted:
		return "已提交，等待受理"
	case StatusAccepted:
		return "已受理，审核中"
	case StatusRejectedAtIntake:
		return "不予受理"
	case StatusSupplementRequested:
		return "需补正材料"
	case StatusResubmitted:
		return "已补正，等待审核"
	case StatusCompletedApproved:
		return "已办结（准予许可）"
	case StatusCompletedDenied:
		return "已办结（不予许可）"
	case StatusWithdrawn:
		return "已撤回"
	}
	return string(s)
}

// ApplicantType is who applies: a person or a company (through its operator).
type ApplicantType string

// The applicant types.
const (
	ApplicantCitizen  ApplicantType = "citizen"
	ApplicantBusiness ApplicantType = "business"
)

// Applicant is a snapshot of who applied, taken at draft time: encrypted for
// the province, blind-indexed for the hotline, masked for display.
type Applicant struct {
	Type           ApplicantType `bson:"type"`
	NameEnc        string        `bson:"name_enc"`
	NameMasked     string        `bson:"name_masked"`
	IDNumberEnc    string        `bson:"id_number_enc,omitempty"`
	IDNumberIndex  string        `bson:"id_number_bidx,omitempty"`
	IDNumberMasked string        `bson:"id_number_masked,omitempty"`
	PhoneEnc       string        `bson:"phone_enc,omitempty"`
	PhoneIndex     string        `bson:"phone_bidx,omitempty"`
	PhoneMasked    string        `bson:"phone_masked,omitempty"`
	USCC           string        `bson:"uscc,omitempty"`
	CompanyName    string        `bson:"company_name,omitempty"`
}

// Delivery is how materials reach the hall and how the result reaches the applicant.
type Delivery struct {
	Materials string `bson:"materials" json:"materials"` // upload | pickup | hall
	Result    string `bson:"result" json:"result"`       // electronic | mail | hall
	// Address is where a mailed result goes (required with result "mail"):
	// in full in a request; stored encrypted in AddressEnc and kept here
	// masked for every view.
	Address    *PostalAddress `bson:"address_masked,omitempty" json:"address,omitempty"`
	AddressEnc string         `bson:"address_enc,omitempty" json:"-"`
}

// PostalAddress is the result's delivery address.
type PostalAddress struct {
	Name     string `bson:"name" json:"name"`
	Phone    string `bson:"phone" json:"phone"`
	Province string `bson:"province" json:"province"`
	City     string `bson:"city" json:"city"`
	District string `bson:"district" json:"district"`
	Detail   string `bson:"detail" json:"detail"`
}

// Material is one material attached to one of the item's material slots:
// an uploaded file (by blob id) or an e-licence the applicant holds.
type Material struct {
	SlotID     string    `bson:"slot_id"`
	BlobID     string    `bson:"blob_id,omitempty"`
	LicenseID  string    `bson:"license_id,omitempty"`
	Name       string    `bson:"name"`
	Kind       string    `bson:"kind,omitempty"`
	Size       int64     `bson:"size,omitempty"`
	SHA256     string    `bson:"sha256,omitempty"`
	Round      int       `bson:"round"` // 0 = the application, n = the n-th supplement
	AttachedAt time.Time `bson:"attached_at"`
}

// Entry is one line of a case's timeline.
type Entry struct {
	At     time.Time `bson:"at"`
	Status Status    `bson:"status"`
	Actor  string    `bson:"actor"` // applicant | province | system
	Note   string    `bson:"note,omitempty"`
}

// Evaluation is the applicant's 好差评 of a completed case.
type Evaluation struct {
	Level    int       `bson:"level"` // 5 非常满意 ... 1 非常不满意
	Reasons  []string  `bson:"reasons,omitempty"`
	Comment  string    `bson:"comment,omitempty"`
	At       time.Time `bson:"at"`
	Reported bool      `bson:"reported"`
}

// Case is one application.
type Case struct {
	ID            string    `bson:"_id"`
	OwnerID       string    `bson:"owner_id"`
	Applicant     Applicant `bson:"applicant"`
	ItemCode      string    `bson:"item_code"`
	ItemName      string    `bson:"item_name"`
	Dept          string    `bson:"dept"`
	PromisedDays  int       `bson:"promised_days"`
	StatutoryDays int       `bson:"statutory_days"`
	// Form holds the values; those of personal-data fields (id_number, phone,
	// address, and names) are SM4-encrypted, with masked copies in FormMasked.
	Form       map[string]any    `bson:"form"`
	FormMasked map[string]string `bson:"form_masked,omitempty"`
	Delivery   Delivery          `bson:"delivery"`
	Materials  []Material        `bson:"materials"`
	Status     Status            `bson:"status"`
	// Set by submission.
	SubmittedAt      *time.Time `bson:"submitted_at,omitempty"`
	CaseNumber       string     `bson:"case_number,omitempty"`
	QueryPasswordEnc string     `bson:"query_password_enc,omitempty"`
	// Kept in step with the province.
	ProvinceSeq  int        `bson:"province_seq"`
	SyncedAt     *time.Time `bson:"synced_at,omitempty"`
	AcceptedAt   *time.Time `bson:"accepted_at,omitempty"`
	CompletedAt  *time.Time `bson:"completed_at,omitempty"`
	Supplement   []string   `bson:"supplement,omitempty"` // material slots the province asked for
	SupplementNo int        `bson:"supplement_no"`
	// SupplementDue is the last day to answer the current supplement
	// request (its start, Asia/Shanghai): the province's, or the guide's rule.
	SupplementDue *time.Time  `bson:"supplement_due,omitempty"`
	Result        string      `bson:"result,omitempty"`
	Timeline      []Entry     `bson:"timeline"`
	Evaluation    *Evaluation `bson:"evaluation,omitempty"`
	// Action is the applicant's request to the province in flight
	// (supplement or withdrawal): one at a time per case.
	Action    *ProvinceAction `bson:"province_action,omitempty"`
	CreatedAt time.Time       `bson:"created_at"`
	UpdatedAt time.Time       `bson:"updated_at"`
	Version   int64           `bson:"version"`
	// Outbox holds the events of the last changes until the relay has
	// appended them to the event log.
	events.Outbox `bson:",inline"`
}

// ProvinceAction is a request to the province claimed in the case before
// it is sent: concurrent requests (a double tap, two phones) find it and
// are refused, so the province hears of the action once. A claimer that
// died leaves it for ActionLease; a later request then takes it over and
// sends the same request (same key, same note) again, which the province
// answers from its idempotency store.
type ProvinceAction struct {
	Kind  string    `bson:"kind"`  // supplement | withdraw
	Round int       `bson:"round"` // the supplement round it answers
	Note  string    `bson:"note,omitempty"`
	At    time.Time `bson:"at"`
}

// move appends a timeline line and moves the case to status.
func (c *Case) move(to Status, actor, note string, at time.Time) {
	c.Status = to
	c.Timeline = append(c.Timeline, Entry{At: at, Status: to, Actor: actor, Note: note})
}
