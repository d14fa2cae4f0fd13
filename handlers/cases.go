package handlers

import (
	"mime"
	"mime/multipart"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/casefile"
	"zwfw/cases"
	"zwfw/links"
)

// Cases serves online applications.
type Cases struct {
	Svc       *cases.Service
	Blobs     cases.Blobs
	Calendar  cases.Calendar
	BodyLimit int
	// Reveal decrypts the query password for the case's owner.
	Reveal func(enc string) string
	// Files composes a case's file (bookings, payments, shipments, reminders).
	Files *casefile.Service
	// Links makes the links of the file in the caller's client form.
	Links *links.Maker
}

// CaseView is a case as its applicant sees it.
type CaseView struct {
	ID            string          `json:"id"`
	ItemCode      string          `json:"item_code"`
	ItemName      string          `json:"item_name"`
	Dept          string          `json:"dept"`
	Status        string          `json:"status"`
	StatusLabel   string          `json:"status_label"`
	CaseNumber    string          `json:"case_number,omitempty"`
	QueryPassword string          `json:"query_password,omitempty"`
	Applicant     ApplicantView   `json:"applicant"`
	Form          map[string]any  `json:"form"`
	Delivery      cases.Delivery  `json:"delivery"`
	Materials     []MaterialView  `json:"materials"`
	Supplement    []string        `json:"supplement_materials,omitempty"`
	SupplementDue string          `json:"supplement_due,omitempty"` // YYYY-MM-DD, while a supplement is asked for
	Timeline      []TimelineView  `json:"timeline"`
	TimeLimit     TimeLimitView   `json:"time_limit"`
	Evaluation    *EvaluationView `json:"evaluation,omitempty"`
	Links         CaseLinks       `json:"links"`
	// The case's file (its owner's GET and the hotline's look-up only).
	Link        *links.Link       `json:"link,omitempty"`
	Bookings    []CaseBookingView `json:"bookings,omitempty"`
	Payments    []CasePaymentView `json:"payments,omitempty"`
	Shipments   []ShipmentBrief   `json:"shipments,omitempty"`
	Reminders   []ReminderView    `json:"reminders,omitempty"`
	SubmittedAt *time.Time        `json:"submitted_at,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// ApplicantView is the applicant, masked.
type ApplicantView struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	IDNumber    string `json:"id_number,omitempty"`
	Phone       string `json:"phone,omitempty"`
	USCC        string `json:"uscc,omitempty"`
	CompanyName string `json:"company_name,omitempty"`
}

// MaterialView is one attached material.
type MaterialView struct {
	SlotID     string    `json:"slot_id"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind,omitempty"`
	Size       int64     `json:"size,omitempty"`
	SHA256     string    `json:"sha256,omitempty"`
	LicenseID  string    `json:"license_id,omitempty"`
	Round      int       `json:"round"`
	AttachedAt time.Time `json:"attached_at"`
}

// TimelineView is one timeline line.
type TimelineView struct {
	At          time.Time `json:"at"`
	Status      string    `json:"status"`
	StatusLabel string    `json:"status_label"`
	Actor       string    `json:"actor"`
	Note        string    `json:"note,omitempty"`
}

// TimeLimitView is the case against its promised time limit.
type TimeLimitView struct {
	PromisedDays  int    `json:"promised_days"`
	StatutoryDays int    `json:"statutory_days"`
	DueOn         string `json:"due_on,omitempty"`
	WorkdaysLeft  *int   `json:"working_days_left,omitempty"`
	Overdue       bool   `json:"overdue"`
}

// EvaluationView is the applicant's 好差评.
type EvaluationView struct {
	Level   int       `json:"level"`
	Reasons []string  `json:"reasons,omitempty"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// CaseLinks are the ids of the case's bookings, payment notices and shipments.
type CaseLinks struct {
	Bookings  []string `json:"bookings"`
	Payments  []string `json:"payments"`
	Shipments []string `json:"shipments"`
}

// view shapes a case; reveal adds the query password (the owner's own
// GET only: answers of writes are stored for replays, and the password is
// kept only encrypted).
func (h *Cases) view(c *cases.Case, reveal bool) CaseView {
	v := CaseView{
		ID: c.ID, ItemCode: c.ItemCode, ItemName: c.ItemName, Dept: c.Dept, Status: string(c.Status),
		StatusLabel: c.Status.Label(), CaseNumber: c.CaseNumber, Form: c.ShownForm(), Delivery: c.Delivery,
		Supplement: c.Supplement, CreatedAt: c.CreatedAt.In(Shanghai), UpdatedAt: c.UpdatedAt.In(Shanghai),
		Applicant: ApplicantView{Type: string(c.Applicant.Type), Name: c.Applicant.NameMasked, IDNumber: c.Applicant.IDNumberMasked,
			Phone: c.Applicant.PhoneMasked, USCC: c.Applicant.USCC, CompanyName: c.Applicant.CompanyName},
		Materials: []MaterialView{}, Timeline: []TimelineView{},
		Links: CaseLinks{Bookings: []string{}, Payments: []string{}, Shipments: []string{}},
	}
	if reveal && c.QueryPasswordEnc != "" && h.Reveal != nil {
		v.QueryPassword = h.Reveal(c.QueryPasswordEnc)
	}
	if v.Form == nil {
		v.Form = map[string]any{}
	}
	if c.SubmittedAt != nil {
		t := c.SubmittedAt.In(Shanghai)
		v.SubmittedAt = &t
	}
	if c.Status == cases.StatusSupplementRequested && c.SupplementDue != nil {
		v.SupplementDue = c.SupplementDue.In(Shanghai).Format("2006-01-02")
	}
	for _, m := range c.Materials {
		v.Materials = append(v.Materials, MaterialView{SlotID: m.SlotID, Name: m.Name, Kind: m.Kind, Size: m.Size, SHA256: m.SHA256,
			LicenseID: m.LicenseID, Round: m.Round, AttachedAt: m.AttachedAt.In(Shanghai)})
	}
	v.Timeline = timelineView(c)
	tl := cases.TimeLimitOf(c, h.Calendar, time.Now())
	v.TimeLimit = TimeLimitView{PromisedDays: tl.PromisedDays, StatutoryDays: tl.StatutoryDays, Overdue: tl.Overdue}
	if tl.DueOn != nil {
		v.TimeLimit.DueOn = tl.DueOn.In(Shanghai).Format("2006-01-02")
		left := tl.DaysLeft
		v.TimeLimit.WorkdaysLeft = &left
	}
	if e := c.Evaluation; e != nil {
		v.Evaluation = &EvaluationView{Level: e.Level, Reasons: e.Reasons, Comment: e.Comment, At: e.At.In(Shanghai)}
	}
	return v
}

func timelineView(c *cases.Case) []TimelineView {
	out := []TimelineView{}
	for _, e := range c.Timeline {
		out = append(out, TimelineView{At: e.At.In(Shanghai), Status: string(e.Status), StatusLabel: e.Status.Label(), Actor: e.Actor, Note: e.Note})
	}
	return out
}

type createCaseRequest struct {
	ItemCode  string         `json:"item_code"`
	Form      map[string]any `json:"form"`
	Delivery  cases.Delivery `json:"delivery"`
	AsCompany string         `json:"as_company"`
}

// Create handles POST /api/v1/cases.
func (h *Cases) Create(c *fiber.Ctx) error {
	var req createCaseRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	if req.ItemCode == "" {
		return apperr.InvalidInput.WithFields(apperr.Field("item_code", "REQUIRED", "请选择办理事项"))
	}
	for k, v := range req.Form {
		switch v.(type) {
		case string, float64, nil:
		default:
			return apperr.WrongType.WithFields(apperr.Field("form."+k, "WRONG_TYPE", "表单值只能是文本或数字"))
		}
	}
	cs, err := h.Svc.CreateDraft(c.UserContext(), PrincipalFrom(c).UserID, cases.DraftInput{
		ItemCode: req.ItemCode, Form: req.Form, Delivery: req.Delivery, AsCompany: req.AsCompany})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(h.view(cs, false))
}

// Get handles GET /api/v1/cases/:id: the owner's own case, with the form
// and the mailing address in full. Every other view masks their personal
// data, the answers of writes included: those are kept for Idempotency-Key
// replays, and personal data is stored only encrypted.
func (h *Cases) Get(c *fiber.Ctx) error {
	f, err := h.Files.ForOwner(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"))
	if err != nil {
		return err
	}
	v := h.view(f.Case, true)
	if v.Form, err = h.Svc.OwnerForm(f.Case); err != nil {
		return err
	}
	if v.Delivery, err = h.Svc.OwnerDelivery(f.Case); err != nil {
		return err
	}
	h.withFile(c, &v, f, true)
	return c.JSON(v)
}

// List handles GET /api/v1/cases.
func (h *Cases) List(c *fiber.Ctx) error {
	list, next, err := h.Svc.List(c.UserContext(), PrincipalFrom(c).UserID, cases.Status(c.Query("status")), c.Query("cursor"), 20)
	if err != nil {
		return err
	}
	items := make([]CaseView, 0, len(list))
	for _, cs := range list {
		items = append(items, h.view(cs, false))
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

// Upload handles POST /api/v1/cases/:id/materials (multipart: slot_id and
// file, or slot_id and license_id for an e-licence instead of a file).
func (h *Cases) Upload(c *fiber.Ctx) error {
	slot := c.FormValue("slot_id")
	if slot == "" {
		return apperr.InvalidInput.WithFields(apperr.Field("slot_id", "REQUIRED", "请指明上传的是哪项材料"))
	}
	owner := PrincipalFrom(c).UserID
	if lic := c.FormValue("license_id"); lic != "" {
		cs, err := h.Svc.AttachLicense(c.UserContext(), owner, c.Params("id"), slot, lic)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(h.view(cs, false))
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return apperr.InvalidInput.WithFields(apperr.Field("file", "REQUIRED", "请选择要上传的文件"))
	}
	f, err := fh.Open()
	if err != nil {
		return apperr.InvalidInput.WithFields(apperr.Field("file", "UNREADABLE", "文件读取失败，请重新上传"))
	}
	defer f.Close()
	cs, err := h.Svc.UploadMaterial(c.UserContext(), h.Blobs, owner, c.Params("id"), slot, f, rawFilename(fh))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(h.view(cs, false))
}

// Submit handles POST /api/v1/cases/:id/submit.
func (h *Cases) Submit(c *fiber.Ctx) error {
	cs, err := h.Svc.Submit(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(h.view(cs, false))
}

type noteRequest struct {
	Note   string `json:"note"`
	Reason string `json:"reason"`
}

// Supplement handles POST /api/v1/cases/:id/supplement.
func (h *Cases) Supplement(c *fiber.Ctx) error {
	var req noteRequest
	if len(c.Body()) > 0 {
		if err := BindJSON(c, h.BodyLimit, &req); err != nil {
			return err
		}
	}
	cs, err := h.Svc.Supplement(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"), req.Note)
	if err != nil {
		return err
	}
	return c.JSON(h.view(cs, false))
}

// Withdraw handles POST /api/v1/cases/:id/withdraw.
func (h *Cases) Withdraw(c *fiber.Ctx) error {
	var req noteRequest
	if len(c.Body()) > 0 {
		if err := BindJSON(c, h.BodyLimit, &req); err != nil {
			return err
		}
	}
	cs, err := h.Svc.Withdraw(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(h.view(cs, false))
}

type evaluationRequest struct {
	Level   int      `json:"level"`
	Reasons []string `json:"reasons"`
	Comment string   `json:"comment"`
}

// Evaluate handles POST /api/v1/cases/:id/evaluation.
func (h *Cases) Evaluate(c *fiber.Ctx) error {
	var req evaluationRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	cs, err := h.Svc.Evaluate(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"), req.Level, req.Reasons, req.Comment)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(h.view(cs, false))
}

// rawFilename is the file name exactly as the client sent it. The multipart
// parser already cuts a path down to its last element ("../../etc/passwd"
// becomes "passwd"); the raw name lets the store refuse such uploads outright.
func rawFilename(fh *multipart.FileHeader) string {
	if _, params, err := mime.ParseMediaType(fh.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		return params["filename"]
	}
	return fh.Filename
}

// PublicCaseView is what anyone with the case number and query password sees.
type PublicCaseView struct {
	CaseNumber  string         `json:"case_number"`
	ItemName    string         `json:"item_name"`
	Status      string         `json:"status"`
	StatusLabel string         `json:"status_label"`
	Timeline    []TimelineView `json:"timeline"`
}

// PublicLookup handles GET /api/v1/public/cases/:number?password=.
func (h *Cases) PublicLookup(c *fiber.Ctx) error {
	cs, err := h.Svc.PublicLookup(c.UserContext(), c.Params("number"), c.Query("password"))
	if err != nil {
		return err
	}
	return c.JSON(PublicCaseView{CaseNumber: cs.CaseNumber, ItemName: cs.ItemName, Status: string(cs.Status),
		StatusLabel: cs.Status.Label(), Timeline: timelineView(cs)})
}

// Hotline serves the 12345 operators' look-ups and the admins' audit view.
type Hotline struct {
	Cases *Cases
	Audit cases.AuditLog
}

// Lookup handles GET /api/v1/hotline/cases (hotline role, X-Hotline-Ticket required).
func (h *Hotline) Lookup(c *fiber.Ctx) error {
	p := PrincipalFrom(c)
	found, err := h.Cases.Svc.HotlineLookup(c.UserContext(), h.Audit, cases.Operator{ID: p.UserID, IP: c.IP()},
		c.Get("X-Hotline-Ticket"), cases.HotlineQuery{Number: c.Query("number"), Phone: c.Query("phone"),
			IDNumber: c.Query("id_number"), USCC: c.Query("uscc")})
	if err != nil {
		return err
	}
	items := make([]CaseView, 0, len(found))
	for _, cs := range found {
		f, err := h.Cases.Files.Of(c.UserContext(), cs)
		if err != nil {
			return err
		}
		v := h.Cases.view(cs, false)
		h.Cases.withFile(c, &v, f, false)
		items = append(items, v)
	}
	return c.JSON(fiber.Map{"items": items})
}
