package cases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"zwfw/apperr"
	"zwfw/pii"
	"zwfw/platform/events"
	"zwfw/platform/jobs"
	"zwfw/province"
)

// Province is what cases needs from the provincial platform (implemented by *province.Client).
type Province interface {
	GetItem(ctx context.Context, code string) (province.GuideResult, error)
	SubmitCase(ctx context.Context, idemKey string, sub province.CaseSubmission) (province.CaseReceipt, error)
	GetCase(ctx context.Context, caseNumber string) (province.Case, error)
	SupplementCase(ctx context.Context, idemKey, caseNumber string, materials []map[string]any, note string) (province.Case, error)
	WithdrawCase(ctx context.Context, idemKey, caseNumber, reason string) (province.Case, error)
	EvaluateCase(ctx context.Context, idemKey, caseNumber string, level int, comment string, tags []string) (province.EvaluationReceipt, error)
}

// Person is the verified identity of an applicant, decrypted for the
// application (the province needs it in clear, over the signed channel).
type Person struct {
	Name      string
	IDNumber  string
	Phone     string
	Companies map[string]string // USCC -> company name the person may act for
}

// People tells who a user is and what e-licences they hold (implemented over the identity service).
type People interface {
	Person(ctx context.Context, userID string) (Person, error)
	// LicenseType returns the type of an e-licence the user holds (their own
	// or their company's); identity's LICENSE_NOT_FOUND when they do not hold it.
	LicenseType(ctx context.Context, userID, licenseID string) (string, error)
}

// Protector encrypts personal data and computes blind indexes (package pii).
type Protector interface {
	EncryptField(field, plaintext string) (string, error)
	DecryptField(field, enc string) (string, error)
	Index(field, value string) string
}

// Queue enqueues durable jobs (implemented by *jobs.Queue).
type Queue interface {
	Enqueue(ctx context.Context, req jobs.EnqueueRequest) (jobs.Job, bool, error)
}

// EventReader reads a case's events back from the log, for the self-check
// that every finished case has its events (implemented by *events.Log).
// Events are written with the case itself (its outbox), never appended here.
type EventReader interface {
	ReadSubject(ctx context.Context, subject string, afterSeq int64, limit int) ([]events.Event, error)
}

// Job types of the cases package.
const (
	JobSubmit   = "cases.submit"
	JobPoll     = "cases.poll"
	JobEvaluate = "cases.report_evaluation"
)

// Service is the cases business API, called by the HTTP handlers, the
// province callback handler and the jobs.
type Service struct {
	store       Store
	province    Province
	people      People
	pii         Protector
	queue       Queue
	events      EventReader
	calendar    Calendar
	log         *slog.Logger
	now         func() time.Time
	outageRetry func() time.Duration
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store    Store
	Province Province
	People   People
	PII      Protector
	Queue    Queue
	Events   EventReader
	// Calendar counts working days (a supplement's deadline by the guide's rule).
	Calendar Calendar
	Logger   *slog.Logger
	Now      func() time.Time
	// OutageRetry is the delay before the next submission attempt while the
	// province is unreachable (nil: 5-30 s, jittered; tests shorten it).
	OutageRetry func() time.Duration
}

// NewService builds the cases service.
func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.OutageRetry == nil {
		d.OutageRetry = outageRetry
	}
	return &Service{store: d.Store, province: d.Province, people: d.People, pii: d.PII, queue: d.Queue,
		events: d.Events, calendar: d.Calendar, log: d.Logger, now: d.Now, outageRetry: d.OutageRetry}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// newCaseID is time-ordered, so listing newest-first is a sort on _id.
func newCaseID(at time.Time) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("c_%012x%s", at.UnixMilli(), hex.EncodeToString(b))
}

var caseIDPattern = regexp.MustCompile(`^c_[0-9a-f]{24}$`)

// DraftInput is what a phone sends to start an application.
type DraftInput struct {
	ItemCode  string
	Form      map[string]any
	Delivery  Delivery
	AsCompany string // USCC when applying for a company
}

// CreateDraft starts an application for a real-name-verified user. The form
// is checked against the item's fields now (wrong types, unknown fields);
// completeness is checked at submission (pre-review). The applicant fields
// of the form come from the account: the verified person, and with
// AsCompany the bound company; a form that names someone else is refused.
//
// Returns REALNAME_REQUIRED, ITEM_NOT_FOUND, ITEM_NOT_ONLINE,
// REQUEST_INVALID (every bad field), CASE_COMPANY_REQUIRED,
// CASE_COMPANY_NOT_ACCEPTED, COMPANY_NOT_BOUND, CASE_APPLICANT_MISMATCH
// (fields), or the province's errors.
func (s *Service) CreateDraft(ctx context.Context, ownerID string, in DraftInput) (*Case, error) {
	person, err := s.people.Person(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	g, err := s.province.GetItem(ctx, in.ItemCode)
	if err != nil {
		return nil, err
	}
	guide := g.Guide
	if !guide.OnlineApply {
		return nil, ErrItemNotOnline
	}
	var fields []apperr.FieldError
	fields = append(fields, checkForm(guide, in.Form, false)...)
	fields = append(fields, checkDelivery(guide, in.Delivery)...)
	if len(fields) > 0 {
		return nil, apperr.InvalidInput.WithFields(fields...)
	}
	if err := checkApplicantType(guide, in.AsCompany != ""); err != nil {
		return nil, err
	}
	company, err := companyOf(person, in.AsCompany)
	if err != nil {
		return nil, err
	}
	form, err := bindApplicant(guide, in.Form, person, company)
	if err != nil {
		return nil, err
	}
	app, err := s.applicant(person, company)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	c := &Case{
		ID: newCaseID(now), OwnerID: ownerID, Applicant: app,
		ItemCode: guide.Code, ItemName: guide.Name, Dept: guide.Dept,
		PromisedDays: guide.PromisedDays, StatutoryDays: guide.StatutoryDays,
		Delivery: in.Delivery, Materials: []Material{},
		Status: StatusDraft, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	c.Timeline = []Entry{{At: now, Status: StatusDraft, Actor: "applicant", Note: "创建申报草稿"}}
	if c.Form, c.FormMasked, err = s.sealForm(guide, form); err != nil {
		return nil, err
	}
	if c.Delivery, err = s.sealDelivery(in.Delivery); err != nil {
		return nil, err
	}
	if err := s.store.Create(ctx, c); err != nil {
		return nil, err
	}
	keys := lookupKeys(c.Applicant)
	for _, f := range guide.FormFields {
		// The contact phone on the form is what a caller to 12345 will quote.
		if v, ok := form[f.Name].(string); ok && f.Type == "phone" && pii.ValidatePhone(v) == nil {
			keys = append(keys, "phone:"+s.pii.Index("phone", v))
		}
	}
	if err := s.store.IndexCase(ctx, c.ID, keys); err != nil {
		return nil, err
	}
	return c, nil
}

// companyOf is the bound company the person applies for (nil for a
// personal case). Returns COMPANY_NOT_BOUND.
func companyOf(p Person, asCompany string) (*Company, error) {
	if asCompany == "" {
		return nil, nil
	}
	uscc := pii.NormalizeUSCC(asCompany)
	name, ok := p.Companies[uscc]
	if !ok {
		return nil, ErrCompanyNotBound
	}
	return &Company{USCC: uscc, Name: name}, nil
}

// lookupKeys are the hotline's ways to a case: the applicant's blind-indexed
// ID number and phone, and the company's USCC.
func lookupKeys(a Applicant) []string {
	var keys []string
	if a.IDNumberIndex != "" {
		keys = append(keys, "pid:"+a.IDNumberIndex)
	}
	if a.PhoneIndex != "" {
		keys = append(keys, "phone:"+a.PhoneIndex)
	}
	if a.USCC != "" {
		keys = append(keys, "uscc:"+a.USCC)
	}
	return keys
}

func (s *Service) applicant(p Person, company *Company) (Applicant, error) {
	seal := func(field, v string) (string, error) {
		if v == "" {
			return "", nil
		}
		return s.pii.EncryptField(field, v)
	}
	var a Applicant
	var err error
	a.Type = ApplicantCitizen
	if a.NameEnc, err = seal("name", p.Name); err != nil {
		return a, err
	}
	a.NameMasked = pii.MaskName(p.Name)
	if a.IDNumberEnc, err = seal("id_number", p.IDNumber); err != nil {
		return a, err
	}
	a.IDNumberIndex, a.IDNumberMasked = s.pii.Index("id_number", p.IDNumber), pii.MaskIDNumber(p.IDNumber)
	if p.Phone != "" {
		if a.PhoneEnc, err = seal("phone", p.Phone); err != nil {
			return a, err
		}
		a.PhoneIndex, a.PhoneMasked = s.pii.Index("phone", p.Phone), pii.MaskPhone(p.Phone)
	}
	if company != nil {
		a.Type, a.USCC, a.CompanyName = ApplicantBusiness, company.USCC, company.Name
	}
	return a, nil
}

// sealDelivery keeps the mailing address only for a mailed result:
// encrypted, with a masked copy for views.
func (s *Service) sealDelivery(d Delivery) (Delivery, error) {
	out := Delivery{Materials: d.Materials, Result: d.Result}
	if d.Result != "mail" || d.Address == nil {
		return out, nil
	}
	raw, err := json.Marshal(d.Address)
	if err != nil {
		return Delivery{}, err
	}
	if out.AddressEnc, err = s.pii.EncryptField("delivery_address", string(raw)); err != nil {
		return Delivery{}, err
	}
	m := *d.Address
	m.Name, m.Phone, m.Detail = pii.MaskName(m.Name), pii.MaskPhone(m.Phone), pii.MaskAddress(m.Detail)
	out.Address = &m
	return out, nil
}

// ResultAddress is where a case's mailed result goes (false when the
// result is not mailed). For system use: the address is in full.
func (s *Service) ResultAddress(ctx context.Context, id string) (PostalAddress, bool, error) {
	c, err := s.ByID(ctx, id)
	if err != nil {
		return PostalAddress{}, false, err
	}
	return s.decryptAddress(c)
}

// decryptAddress is the case's mailing address in full (false when it has none).
func (s *Service) decryptAddress(c *Case) (PostalAddress, bool, error) {
	if c.Delivery.AddressEnc == "" {
		return PostalAddress{}, false, nil
	}
	raw, err := s.pii.DecryptField("delivery_address", c.Delivery.AddressEnc)
	if err != nil {
		return PostalAddress{}, false, err
	}
	var a PostalAddress
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return PostalAddress{}, false, err
	}
	return a, true, nil
}

// ByID returns any case, for system use (other capabilities acting on a
// case they were told about). Returns CASE_NOT_FOUND.
func (s *Service) ByID(ctx context.Context, id string) (*Case, error) {
	if !caseIDPattern.MatchString(id) {
		return nil, ErrNotFound
	}
	return s.store.Get(ctx, id)
}

// Get returns one of the owner's cases. Returns CASE_NOT_FOUND for a case
// that does not exist or is not the owner's (no difference is shown).
func (s *Service) Get(ctx context.Context, ownerID, id string) (*Case, error) {
	if !caseIDPattern.MatchString(id) {
		return nil, ErrNotFound
	}
	c, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.OwnerID != ownerID {
		return nil, ErrNotFound
	}
	return c, nil
}

// List returns the owner's cases, newest first, cursor-paginated by case id.
func (s *Service) List(ctx context.Context, ownerID string, status Status, cursor string, limit int) ([]*Case, string, error) {
	var fields []apperr.FieldError
	if status != "" && !status.Valid() {
		fields = append(fields, apperr.Field("status", "STATUS_INVALID", "办件状态不正确"))
	}
	if cursor != "" && !caseIDPattern.MatchString(cursor) {
		fields = append(fields, apperr.Field("cursor", "CURSOR_INVALID", "分页游标无效"))
	}
	if limit <= 0 || limit > 50 {
		limit = 20
	}
	if len(fields) > 0 {
		return nil, "", apperr.InvalidInput.WithFields(fields...)
	}
	list, err := s.store.ListByOwner(ctx, ownerID, status, cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].ID
	}
	return list, next, nil
}

// OwnerForm is the case's form in full (personal data decrypted), for its
// owner's own view only; every other view shows Case.ShownForm.
func (s *Service) OwnerForm(c *Case) (map[string]any, error) { return s.plainForm(c) }

// update applies change to the current case and saves it guarded by
// version, retrying when a concurrent change won. change sees the case with
// its new Version already set, so the events it emits get their ids.
func (s *Service) update(ctx context.Context, id string, change func(c *Case) error) (*Case, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.store.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		prev := c.Version
		c.Version = prev + 1
		c.UpdatedAt = s.clock()
		if err := change(c); err != nil {
			return nil, err
		}
		err = s.store.Save(ctx, c, prev)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, apperr.Conflict) || attempt >= 5 {
			return nil, err
		}
	}
}
