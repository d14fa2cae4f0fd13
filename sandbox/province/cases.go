package province

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"zwfw/pii"
	"zwfw/sandbox/fake"
)

// Case statuses.
const (
	StatusSubmitted           = "submitted"
	StatusAccepted            = "accepted"
	StatusRejectedAtIntake    = "rejected_at_intake"
	StatusSupplementRequested = "supplement_requested"
	StatusResubmitted         = "resubmitted"
	StatusCompletedApproved   = "completed_approved"
	StatusCompletedDenied     = "completed_denied"
	StatusWithdrawn           = "withdrawn"
)

// Result delivery methods of an approved case.
const (
	ResultElectronic = "electronic"
	ResultMail       = "mail"
	ResultHall       = "hall"
)

// CodeMaterialsMissing: required materials not submitted (400).
const CodeMaterialsMissing = "MATERIALS_MISSING"

// transitions is the case state machine: from -> allowed next statuses.
// Statuses without an entry are final.
var transitions = map[string][]string{
	StatusSubmitted:           {StatusAccepted, StatusRejectedAtIntake, StatusSupplementRequested, StatusWithdrawn},
	StatusSupplementRequested: {StatusResubmitted, StatusRejectedAtIntake, StatusWithdrawn},
	StatusResubmitted:         {StatusAccepted, StatusRejectedAtIntake, StatusSupplementRequested, StatusWithdrawn},
	StatusAccepted:            {StatusSupplementRequested, StatusCompletedApproved, StatusCompletedDenied, StatusWithdrawn},
}

// operatorStatuses are the statuses a clerk (the advance control) may set;
// resubmitted and withdrawn come from the applicant.
var operatorStatuses = []string{StatusAccepted, StatusRejectedAtIntake, StatusSupplementRequested, StatusCompletedApproved, StatusCompletedDenied}

// CanTransition reports whether a case may go from one status to another.
func CanTransition(from, to string) bool { return slices.Contains(transitions[from], to) }

var defaultNotes = map[string]string{
	StatusSubmitted:           "网上申报成功，等待受理",
	StatusAccepted:            "申请材料齐全、符合法定形式，予以受理",
	StatusRejectedAtIntake:    "申请事项不属于本机关职权范围或不符合受理条件，不予受理",
	StatusSupplementRequested: "申请材料不齐全或者不符合法定形式，请一次性补正以下材料",
	StatusResubmitted:         "申请人已提交补正材料",
	StatusCompletedApproved:   "经审查，准予许可（办结）",
	StatusCompletedDenied:     "经审查，不予许可（办结）",
	StatusWithdrawn:           "申请人撤回申请",
}

// CaseEvent is one entry of a case's history.
type CaseEvent struct {
	Status    string   `json:"status"`
	At        string   `json:"at"`
	Note      string   `json:"note"`
	Materials []string `json:"materials,omitempty"` // supplement_requested: the material ids to supplement
	// SupplementDue is the last day to supplement (YYYY-MM-DD), with a
	// supplement_requested whose department set one.
	SupplementDue string `json:"supplement_due,omitempty"`
}

// Evaluation is a 好差评 rating of a case.
type Evaluation struct {
	ID      string   `json:"evaluation_id"`
	Level   int      `json:"level"` // 1 非常不满意 ... 5 非常满意
	Comment string   `json:"comment"`
	Tags    []string `json:"tags"`
	At      string   `json:"at"`
}

// Case is a case as the sandbox's control routes show it (everything,
// including the query password and the applicant in clear).
type Case struct {
	CaseNumber    string           `json:"case_number"`
	QueryPassword string           `json:"query_password"`
	ItemCode      string           `json:"item_code"`
	ItemName      string           `json:"item_name"`
	Dept          string           `json:"dept"`
	Status        string           `json:"status"`
	Applicant     map[string]any   `json:"applicant"`
	Form          map[string]any   `json:"form"`
	Materials     []map[string]any `json:"materials"`
	Delivery      map[string]any   `json:"delivery"`
	Supplement    []string         `json:"supplement_materials"`     // ids requested at the last supplement_requested
	SupplementDue string           `json:"supplement_due,omitempty"` // the last supplement_requested's deadline, when set
	Result        string           `json:"result,omitempty"`
	Evaluation    *Evaluation      `json:"evaluation,omitempty"`
	SubmittedAt   string           `json:"submitted_at"`
	UpdatedAt     string           `json:"updated_at"`
	PromisedDays  int              `json:"promised_days"`
	DueOn         string           `json:"due_on"` // submission + promised working days (weekends skipped)
	History       []CaseEvent      `json:"history"`
}

type caseRecord struct {
	Case
	guide Guide
}

func isFinal(status string) bool { _, ok := transitions[status]; return !ok }

// addWorkingDays skips Saturdays and Sundays (holidays are ignored).
func addWorkingDays(t time.Time, n int) time.Time {
	t = day(t)
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

func rfc3339(t time.Time) string { return t.In(chinaTime).Format(time.RFC3339) }

// apiView is the case as GET /api/cases/{n} answers: no query password,
// applicant name and numbers masked.
func (c *caseRecord) apiView() map[string]any {
	applicant := map[string]any{}
	if v, ok := c.Applicant["name"].(string); ok {
		applicant["name_masked"] = pii.MaskName(v)
	}
	if v, ok := c.Applicant["type"].(string); ok {
		applicant["type"] = v
	}
	if v, ok := c.Applicant["id_number"].(string); ok {
		applicant["id_number_masked"] = pii.MaskIDNumber(v)
	}
	if v, ok := c.Applicant["uscc"].(string); ok {
		applicant["uscc_masked"] = pii.MaskUSCC(v)
	}
	out := map[string]any{
		"case_number": c.CaseNumber, "item_code": c.ItemCode, "item_name": c.ItemName, "dept": c.Dept,
		"status": c.Status, "applicant": applicant, "submitted_at": c.SubmittedAt, "updated_at": c.UpdatedAt,
		"promised_days": c.PromisedDays, "due_on": c.DueOn, "history": slices.Clone(c.History),
		"supplement_materials": slices.Clone(c.Supplement),
	}
	if c.SupplementDue != "" {
		out["supplement_due"] = c.SupplementDue
	}
	if c.Result != "" {
		out["result"] = c.Result
	}
	if c.Evaluation != nil {
		out["evaluation"] = c.Evaluation
	}
	return out
}

func (c *caseRecord) copyCase() Case {
	out := c.Case
	out.History = slices.Clone(c.History)
	out.Supplement = slices.Clone(c.Supplement)
	return out
}

// Cases returns every case, oldest first.
func (s *Server) Cases() []Case {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Case, 0, len(s.caseOrder))
	for _, n := range s.caseOrder {
		out = append(out, s.cases[n].copyCase())
	}
	return out
}

// CaseByNumber returns one case.
func (s *Server) CaseByNumber(number string) (Case, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[number]
	if !ok {
		return Case{}, false
	}
	return c.copyCase(), true
}

// submitCase: POST /api/cases {"item_code","applicant","form","materials","delivery"}
func (s *Server) submitCase(c *call) (any, *apiError) {
	var req struct {
		ItemCode  string           `json:"item_code"`
		Applicant map[string]any   `json:"applicant"`
		Form      map[string]any   `json:"form"`
		Materials []map[string]any `json:"materials"`
		Delivery  map[string]any   `json:"delivery"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	g, ok := s.Item(req.ItemCode)
	if !ok {
		return nil, errorf(http.StatusNotFound, CodeItemNotFound, "事项不存在或已停用")
	}
	if !g.OnlineApply {
		return nil, errorf(http.StatusConflict, CodeItemNotOnline, "该事项暂不支持网上申报，请预约到大厅办理")
	}
	if e := checkApplicant(req.Applicant); e != nil {
		return nil, e
	}
	if e := checkForm(g, req.Form); e != nil {
		return nil, e
	}
	if e := checkMaterials(g, req.Materials, false, nil); e != nil {
		return nil, e
	}
	result := ResultElectronic
	if req.Delivery == nil {
		req.Delivery = map[string]any{}
	}
	if v, ok := req.Delivery["result"]; ok {
		r, _ := v.(string)
		switch {
		case r != ResultElectronic && r != ResultMail && r != ResultHall:
			return nil, errorf(http.StatusBadRequest, CodeParamInvalid, "delivery.result 应为 electronic、mail 或 hall")
		case r == ResultMail && !g.MailResult:
			return nil, errorf(http.StatusBadRequest, CodeDeliveryNotSupported, "该事项不支持结果邮寄")
		case r == ResultMail && req.Delivery["address"] == nil:
			return nil, errorf(http.StatusBadRequest, CodeParamInvalid, "结果邮寄须填写 delivery.address")
		}
		result = r
	}
	req.Delivery["result"] = result
	if req.Form == nil {
		req.Form = map[string]any{}
	}
	if req.Materials == nil {
		req.Materials = []map[string]any{}
	}

	now := c.now
	s.mu.Lock()
	s.caseSeq++
	number := fmt.Sprintf("FZ%s%08d", now.In(chinaTime).Format("20060102"), caseSeqBase+s.caseSeq)
	rec := &caseRecord{guide: g, Case: Case{
		CaseNumber: number, QueryPassword: fake.RandomString(passwordAlphabet, 6),
		ItemCode: g.Code, ItemName: g.Name, Dept: g.Dept, Status: StatusSubmitted,
		Applicant: req.Applicant, Form: req.Form, Materials: req.Materials, Delivery: req.Delivery,
		Supplement: []string{}, SubmittedAt: rfc3339(now), UpdatedAt: rfc3339(now),
		PromisedDays: g.PromisedDays, DueOn: addWorkingDays(now, g.PromisedDays).Format(time.DateOnly),
		History: []CaseEvent{{Status: StatusSubmitted, At: rfc3339(now), Note: defaultNotes[StatusSubmitted]}},
	}}
	s.cases[number] = rec
	s.caseOrder = append(s.caseOrder, number)
	s.mu.Unlock()
	s.log.Info("province case submitted", "case_number", number, "item", g.Code)
	return map[string]any{"case_number": number, "query_password": rec.QueryPassword, "status": StatusSubmitted}, nil
}

// caseSeqBase makes the first case number of a run ...00010001.
const caseSeqBase = 10000

// passwordAlphabet: query passwords are read out on the phone, so no 0/O, 1/I/L.
const passwordAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// checkApplicant: {"type": "citizen"|"business", "name", "id_number", "uscc", "phone", ...}
func checkApplicant(a map[string]any) *apiError {
	if a == nil {
		return errorf(http.StatusBadRequest, CodeParamInvalid, "applicant 不能为空")
	}
	str := func(k string) string { v, _ := a[k].(string); return strings.TrimSpace(v) }
	typ := str("type")
	if typ == "" {
		typ = HolderCitizen
	}
	if str("name") == "" {
		return errorf(http.StatusBadRequest, CodeParamInvalid, "applicant.name 不能为空")
	}
	switch typ {
	case HolderCitizen:
		if err := pii.ValidateIDNumber(pii.NormalizeIDNumber(str("id_number"))); err != nil {
			return errorf(http.StatusBadRequest, CodeIDNumberInvalid, "申请人%s", err.Error())
		}
	case HolderBusiness:
		if err := pii.ValidateUSCC(pii.NormalizeUSCC(str("uscc"))); err != nil {
			return errorf(http.StatusBadRequest, CodeUSCCInvalid, "申请单位%s", err.Error())
		}
		if id := str("id_number"); id != "" {
			if err := pii.ValidateIDNumber(pii.NormalizeIDNumber(id)); err != nil {
				return errorf(http.StatusBadRequest, CodeIDNumberInvalid, "经办人%s", err.Error())
			}
		}
	default:
		return errorf(http.StatusBadRequest, CodeParamInvalid, "applicant.type 应为 citizen 或 business")
	}
	if p := str("phone"); p != "" {
		if err := pii.ValidatePhone(pii.NormalizePhone(p)); err != nil {
			return errorf(http.StatusBadRequest, CodeParamInvalid, "申请人%s", err.Error())
		}
	}
	return nil
}

// checkForm checks form against the item's form fields; all problems are
// reported at once in data.fields (field name -> reason).
func checkForm(g Guide, form map[string]any) *apiError {
	problems := map[string]string{}
	for _, f := range g.FormFields {
		v, present := form[f.Name]
		s := ""
		switch x := v.(type) {
		case string:
			s = strings.TrimSpace(x)
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		case nil:
		default:
			problems[f.Name] = "类型不正确"
			continue
		}
		if !present || s == "" {
			if f.Required {
				problems[f.Name] = "必填"
			}
			continue
		}
		if f.MaxLength > 0 && utf8.RuneCountInString(s) > f.MaxLength {
			problems[f.Name] = fmt.Sprintf("不能超过%d个字符", f.MaxLength)
			continue
		}
		if msg := checkFieldValue(f, s); msg != "" {
			problems[f.Name] = msg
		}
	}
	if len(problems) > 0 {
		e := errorf(http.StatusBadRequest, CodeFormInvalid, "申请表填写有误（%d项）", len(problems))
		e.Data = map[string]any{"fields": problems}
		return e
	}
	return nil
}

func checkFieldValue(f FormField, s string) string {
	switch f.Type {
	case FieldNumber:
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "应为数字"
		}
	case FieldDate:
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return "应为日期 YYYY-MM-DD"
		}
	case FieldEnum:
		if !slices.Contains(f.Options, s) {
			return "应为以下之一：" + strings.Join(f.Options, "、")
		}
	case FieldPhone:
		if err := pii.ValidatePhone(pii.NormalizePhone(s)); err != nil {
			return err.Error()
		}
	case FieldIDNumber:
		if err := pii.ValidateIDNumber(pii.NormalizeIDNumber(s)); err != nil {
			return err.Error()
		}
	case FieldUSCC:
		if err := pii.ValidateUSCC(pii.NormalizeUSCC(s)); err != nil {
			return err.Error()
		}
	}
	return ""
}

// checkMaterials: every entry names a material of the item by
// "material_id"; on submission every required material must be there, on a
// supplement every requested one.
func checkMaterials(g Guide, mats []map[string]any, supplement bool, requested []string) *apiError {
	given := map[string]bool{}
	for i, m := range mats {
		id, _ := m["material_id"].(string)
		if _, ok := g.material(id); !ok {
			return errorf(http.StatusBadRequest, CodeParamInvalid, "materials[%d].material_id %q 不是该事项的材料", i, id)
		}
		given[id] = true
	}
	var missing []string
	if supplement {
		for _, id := range requested {
			if !given[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			e := errorf(http.StatusBadRequest, CodeSupplementIncomplete, "补正材料不全，仍缺%d项", len(missing))
			e.Data = map[string]any{"missing": missing}
			return e
		}
		return nil
	}
	for _, m := range g.Materials {
		if m.Required && !given[m.ID] {
			missing = append(missing, m.ID)
		}
	}
	if len(missing) > 0 {
		e := errorf(http.StatusBadRequest, CodeMaterialsMissing, "缺少必交材料%d项", len(missing))
		e.Data = map[string]any{"missing": missing}
		return e
	}
	return nil
}

// caseFor finds a case for a gateway call; 404 CASE_NOT_FOUND.
func (s *Server) caseFor(c *call) (*caseRecord, *apiError) {
	rec, ok := s.cases[c.r.PathValue("case_number")]
	if !ok {
		return nil, errorf(http.StatusNotFound, CodeCaseNotFound, "办件不存在")
	}
	return rec, nil
}

// getCaseAPI: GET /api/cases/{case_number}[?query_password=]. With a
// query password it must match (a wrong one is 404, as for a missing case).
func (s *Server) getCaseAPI(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, e := s.caseFor(c)
	if e != nil {
		return nil, e
	}
	if pw, ok := c.r.URL.Query()["query_password"]; ok && !signatureEqual(strings.ToUpper(pw[0]), rec.QueryPassword) {
		return nil, errorf(http.StatusNotFound, CodeCaseNotFound, "办件不存在或查询密码错误")
	}
	return rec.apiView(), nil
}

// move changes a case's status, records it and queues the callback. The
// caller holds s.mu and has checked the transition.
func (s *Server) move(rec *caseRecord, to, note string, materials []string, now time.Time) {
	from := rec.Status
	if note == "" {
		note = defaultNotes[to]
	}
	rec.Status = to
	rec.UpdatedAt = rfc3339(now)
	ev := CaseEvent{Status: to, At: rfc3339(now), Note: note, Materials: materials}
	if to == StatusSupplementRequested {
		ev.SupplementDue = rec.SupplementDue
	}
	rec.History = append(rec.History, ev)
	s.log.Info("province case moved", "case_number", rec.CaseNumber, "from", from, "to", to)
	event := CallbackEvent{
		EventID: "EV" + fake.RandomString(fake.Hex, 24), Event: "case.status_changed",
		CaseNumber: rec.CaseNumber, ItemCode: rec.ItemCode, Status: to, PreviousStatus: from,
		At: rfc3339(now), Note: note, Materials: materials, Result: rec.Result, Seq: len(rec.History),
		SupplementDue: ev.SupplementDue,
	}
	s.queueCallback(event)
}

// supplementCase: POST /api/cases/{n}/supplement {"materials":[{"material_id",...}],"note"}
func (s *Server) supplementCase(c *call) (any, *apiError) {
	var req struct {
		Materials []map[string]any `json:"materials"`
		Note      string           `json:"note"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, e := s.caseFor(c)
	if e != nil {
		return nil, e
	}
	if rec.Status != StatusSupplementRequested {
		return nil, errorf(http.StatusConflict, CodeCaseStateConflict, "办件当前状态（%s）无需补正", rec.Status)
	}
	if len(req.Materials) == 0 {
		return nil, errorf(http.StatusBadRequest, CodeParamInvalid, "materials 不能为空")
	}
	if e := checkMaterials(rec.guide, req.Materials, true, rec.Supplement); e != nil {
		return nil, e
	}
	rec.Materials = append(rec.Materials, req.Materials...)
	s.move(rec, StatusResubmitted, req.Note, nil, c.now)
	return rec.apiView(), nil
}

// withdrawCase: POST /api/cases/{n}/withdraw {"reason"}: only before completion.
func (s *Server) withdrawCase(c *call) (any, *apiError) {
	var req struct {
		Reason string `json:"reason"`
	}
	if len(bytes.TrimSpace(c.body)) > 0 {
		if e := c.decode(&req); e != nil {
			return nil, e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, e := s.caseFor(c)
	if e != nil {
		return nil, e
	}
	if !CanTransition(rec.Status, StatusWithdrawn) {
		return nil, errorf(http.StatusConflict, CodeCaseStateConflict, "办件已办结或已撤回（%s），不能撤回", rec.Status)
	}
	note := defaultNotes[StatusWithdrawn]
	if r := strings.TrimSpace(req.Reason); r != "" {
		note += "：" + r
	}
	s.move(rec, StatusWithdrawn, note, nil, c.now)
	return rec.apiView(), nil
}

// evaluateCase: POST /api/cases/{n}/evaluation {"level":1-5,"comment","tags"}:
// once, after the case is decided (办结 or 不予受理). Levels 1-2 (差评) need a comment.
func (s *Server) evaluateCase(c *call) (any, *apiError) {
	var req struct {
		Level   int      `json:"level"`
		Comment string   `json:"comment"`
		Tags    []string `json:"tags"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	req.Comment = strings.TrimSpace(req.Comment)
	switch {
	case req.Level < 1 || req.Level > 5:
		return nil, errorf(http.StatusBadRequest, CodeEvaluationInvalid, "评价等级应为1（非常不满意）到5（非常满意）")
	case req.Level <= 2 && req.Comment == "":
		return nil, errorf(http.StatusBadRequest, CodeEvaluationInvalid, "差评须填写评价内容")
	case utf8.RuneCountInString(req.Comment) > 500:
		return nil, errorf(http.StatusBadRequest, CodeEvaluationInvalid, "评价内容不能超过500字")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, e := s.caseFor(c)
	if e != nil {
		return nil, e
	}
	if rec.Status != StatusCompletedApproved && rec.Status != StatusCompletedDenied && rec.Status != StatusRejectedAtIntake {
		return nil, errorf(http.StatusConflict, CodeCaseStateConflict, "办件尚未办结，暂不能评价")
	}
	if rec.Evaluation != nil {
		return nil, errorf(http.StatusConflict, CodeEvaluationExists, "该办件已评价")
	}
	if req.Tags == nil {
		req.Tags = []string{}
	}
	rec.Evaluation = &Evaluation{ID: "PJ" + c.now.In(chinaTime).Format("20060102") + fake.RandomString(fake.Digits, 10),
		Level: req.Level, Comment: req.Comment, Tags: req.Tags, At: rfc3339(c.now)}
	return rec.Evaluation, nil
}

// Advance is a clerk's move of a case (the advance control).
type Advance struct {
	Status    string   `json:"status"`
	Note      string   `json:"note"`
	Materials []string `json:"materials"` // supplement_requested: material ids of the item
	Result    string   `json:"result"`    // completed_approved: electronic, mail or hall
	// SupplementDue is the last day to supplement (YYYY-MM-DD, today or
	// later), with supplement_requested; "" leaves the deadline to the guide's rule.
	SupplementDue string `json:"supplement_due"`
}

// AdvanceCase moves case number as a department's clerk would. It fails
// when the case does not exist, the status is not a clerk's, the
// transition is illegal, a supplement request lists no or unknown
// materials, or the result method is invalid.
func (s *Server) AdvanceCase(number string, a Advance) (Case, error) {
	if !slices.Contains(operatorStatuses, a.Status) {
		return Case{}, fmt.Errorf("status must be one of %s", strings.Join(operatorStatuses, ", "))
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.cases[number]
	if !ok {
		return Case{}, errCaseNotFound
	}
	if !CanTransition(rec.Status, a.Status) {
		return Case{}, fmt.Errorf("%w: %s -> %s (allowed: %s)", errIllegalTransition, rec.Status, a.Status, strings.Join(transitions[rec.Status], ", "))
	}
	var mats []string
	switch a.Status {
	case StatusSupplementRequested:
		if len(a.Materials) == 0 {
			return Case{}, fmt.Errorf("supplement_requested needs materials: ids of the item's materials, e.g. [\"m1\"]")
		}
		for _, id := range a.Materials {
			if _, ok := rec.guide.material(id); !ok {
				return Case{}, fmt.Errorf("material %q is not one of the item's (m1..m%d)", id, len(rec.guide.Materials))
			}
		}
		if a.SupplementDue != "" {
			due, err := time.ParseInLocation(time.DateOnly, a.SupplementDue, chinaTime)
			if err != nil || due.Before(day(now)) {
				return Case{}, fmt.Errorf("supplement_due must be a date (YYYY-MM-DD), today or later")
			}
		}
		mats = slices.Clone(a.Materials)
		rec.Supplement, rec.SupplementDue = mats, a.SupplementDue
	case StatusCompletedApproved:
		r := a.Result
		if r == "" {
			r, _ = rec.Delivery["result"].(string)
		}
		if r != ResultElectronic && r != ResultMail && r != ResultHall {
			return Case{}, fmt.Errorf("result must be electronic, mail or hall")
		}
		rec.Result = r
	}
	s.move(rec, a.Status, strings.TrimSpace(a.Note), mats, now)
	return rec.copyCase(), nil
}

type controlError string

func (e controlError) Error() string { return string(e) }

const (
	errCaseNotFound      = controlError("case not found")
	errIllegalTransition = controlError("illegal transition")
)

// CallbackEvent is the body POSTed to the callback URL on a status change.
type CallbackEvent struct {
	EventID        string   `json:"event_id"`
	Event          string   `json:"event"` // case.status_changed
	CaseNumber     string   `json:"case_number"`
	ItemCode       string   `json:"item_code"`
	Status         string   `json:"status"`
	PreviousStatus string   `json:"previous_status"`
	At             string   `json:"at"`
	Note           string   `json:"note"`
	Materials      []string `json:"materials,omitempty"`
	Result         string   `json:"result,omitempty"`
	Seq            int      `json:"seq"` // position in the case's history (1 = submitted), to order late deliveries
	// SupplementDue is the last day to supplement (YYYY-MM-DD), with a
	// supplement_requested whose department set one.
	SupplementDue string `json:"supplement_due,omitempty"`
}

// Delivery is one callback's delivery record.
type Delivery struct {
	EventID    string `json:"event_id"`
	CaseNumber string `json:"case_number"`
	Status     string `json:"status"`
	URL        string `json:"url"`
	Attempts   int    `json:"attempts"`
	Delivered  bool   `json:"delivered"`
	GaveUp     bool   `json:"gave_up"`
	LastStatus int    `json:"last_http_status,omitempty"`
	LastError  string `json:"last_error,omitempty"`
}

// Deliveries returns the callback log, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, 0, len(s.deliveries))
	for _, d := range s.deliveries {
		out = append(out, *d)
	}
	return out
}

// queueCallback starts delivering ev in the background when a callback URL
// is set. The caller holds s.mu.
func (s *Server) queueCallback(ev CallbackEvent) {
	if s.callbackURL == "" {
		return
	}
	d := &Delivery{EventID: ev.EventID, CaseNumber: ev.CaseNumber, Status: ev.Status, URL: s.callbackURL}
	s.deliveries = append(s.deliveries, d)
	body, _ := json.Marshal(ev)
	s.wg.Add(1)
	go s.deliver(d, d.URL, ev.EventID, body)
}

// deliver POSTs a callback, retrying after each of s.retryDelays until a 2xx.
func (s *Server) deliver(d *Delivery, target, eventID string, body []byte) {
	defer s.wg.Done()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > len(s.retryDelays) {
				s.mu.Lock()
				d.GaveUp = true
				s.mu.Unlock()
				s.log.Warn("province callback given up", "event_id", eventID, "url", target)
				return
			}
			select {
			case <-time.After(s.retryDelays[attempt-1]):
			case <-s.ctx.Done():
				return
			}
		}
		status, err := s.postCallback1(target, eventID, body)
		s.mu.Lock()
		d.Attempts++
		d.LastStatus = status
		d.LastError = ""
		if err != nil {
			d.LastError = err.Error()
		}
		ok := err == nil && status >= 200 && status < 300
		d.Delivered = ok
		s.mu.Unlock()
		if ok {
			return
		}
		s.log.Warn("province callback failed", "event_id", eventID, "attempt", attempt+1, "status", status, "err", err)
	}
}

// postCallback1 makes one signed callback attempt: the province signs as a
// client would (same string to sign, PATH = the callback URL's full path).
func (s *Server) postCallback1(target, eventID string, body []byte) (int, error) {
	u, err := url.Parse(target)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := strconv.FormatInt(s.now().UnixMilli(), 10)
	nonce := NewNonce()
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	sts, err := StringToSign(http.MethodPost, path, u.RawQuery, body, MethodSM3, s.appKey, ts, nonce)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderAppKey, s.appKey)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignMethod, MethodSM3)
	req.Header.Set(HeaderSignature, Sign(s.appSecret, MethodSM3, sts))
	req.Header.Set(HeaderIdempotencyKey, eventID)
	res, err := s.httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, nil
}
