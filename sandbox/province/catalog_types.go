package province

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"zwfw/pii"
)

// Item audiences.
const (
	AudienceCitizen  = "citizen"
	AudienceBusiness = "business"
)

// Material forms.
const (
	FormOriginal        = "original"
	FormCopy            = "copy"
	FormOriginalAndCopy = "original_and_copy"
)

// Form field types.
const (
	FieldString   = "string"
	FieldNumber   = "number"
	FieldDate     = "date"
	FieldEnum     = "enum"
	FieldPhone    = "phone"
	FieldIDNumber = "id_number"
	FieldUSCC     = "uscc"
	FieldAddress  = "address"
)

// LicenseTypes are the e-licence types (电子证照类型) the platform issues,
// with their names; a material's elicense_type is one of them.
var LicenseTypes = map[string]string{
	"id_card":                   "居民身份证",
	"household_register":        "居民户口簿",
	"driving_license":           "机动车驾驶证",
	"vehicle_license":           "机动车行驶证",
	"business_license":          "营业执照",
	"food_business_license":     "食品经营许可证",
	"marriage_certificate":      "结婚证",
	"birth_certificate":         "出生医学证明",
	"real_estate_certificate":   "不动产权证书",
	"social_security_card":      "社会保障卡",
	"physician_qualification":   "医师资格证书",
	"physician_practice":        "医师执业证书",
	"construction_plan_permit":  "建设工程规划许可证",
	"road_transport_permit":     "道路运输经营许可证",
	"qualification_certificate": "从业资格证",
}

// Department is a city department that implements items.
type Department struct {
	Code string `json:"code"` // short code, the dept filter of a search
	Name string `json:"name"`
	USCC string `json:"uscc"` // the department's unified social credit code
}

// Hall is a government-service hall (政务服务大厅).
type Hall struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Address string  `json:"address"`
	Lat     float64 `json:"lat"`
	Lng     float64 `json:"lng"`
	Phone   string  `json:"phone"`
	Hours   string  `json:"hours"`
}

// Material is one document an item asks for.
type Material struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Form         string `json:"form"` // original, copy, original_and_copy
	Copies       int    `json:"copies"`
	Required     bool   `json:"required"`
	ElicenseType string `json:"elicense_type"` // an e-licence that replaces it, "" when none
	BlankFormURL string `json:"blank_form_url"`
	SampleURL    string `json:"sample_url"`
	Note         string `json:"note"`

	hasForm bool // gets blank-form and sample URLs when the catalog is built
}

// FormField is one field of an item's online application form.
type FormField struct {
	Name      string   `json:"name"`
	Label     string   `json:"label"`
	Type      string   `json:"type"`
	Required  bool     `json:"required"`
	MaxLength int      `json:"max_length,omitempty"`
	Options   []string `json:"options,omitempty"`
}

// Fee is one charge of an item, in fen.
type Fee struct {
	Name           string `json:"name"`
	AmountFen      int64  `json:"amount_fen"`
	NontaxItemCode string `json:"nontax_item_code"`
}

// Guide is an item with its guide (办事指南), as GET /api/catalog/items/{code} answers.
type Guide struct {
	Code          string      `json:"code"`
	Name          string      `json:"name"`
	Dept          string      `json:"dept"`
	DeptCode      string      `json:"dept_code"`
	Category      string      `json:"category"`
	Audience      []string    `json:"audience"`
	Keywords      []string    `json:"keywords"`
	LegalBasis    []string    `json:"legal_basis"`
	Conditions    []string    `json:"conditions"`
	Materials     []Material  `json:"materials"`
	FormFields    []FormField `json:"form_fields"`
	StatutoryDays int         `json:"statutory_days"`
	PromisedDays  int         `json:"promised_days"`
	// SupplementDays is how many working days an applicant has to answer a
	// supplement request (补正期限), counted from the request.
	SupplementDays int      `json:"supplement_days"`
	Fees           []Fee    `json:"fees"`
	Steps          []string `json:"steps"`
	Halls          []Hall   `json:"halls"`
	OnlineApply    bool     `json:"online_apply"`
	Bookable       bool     `json:"bookable"`
	MailMaterials  bool     `json:"mail_materials"`
	MailResult     bool     `json:"mail_result"`
	MaxTrips       int      `json:"max_trips"`
	UpdatedAt      string   `json:"updated_at"`
}

// ItemSummary is an item in search results.
type ItemSummary struct {
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	Dept        string   `json:"dept"`
	Audience    []string `json:"audience"`
	Keywords    []string `json:"keywords"`
	OnlineApply bool     `json:"online_apply"`
	Bookable    bool     `json:"bookable"`
	MaxTrips    int      `json:"max_trips"`
}

// Summary is g as a search result.
func (g Guide) Summary() ItemSummary {
	return ItemSummary{Code: g.Code, Name: g.Name, Dept: g.Dept, Audience: g.Audience, Keywords: g.Keywords,
		OnlineApply: g.OnlineApply, Bookable: g.Bookable, MaxTrips: g.MaxTrips}
}

// material returns the material with id, if any.
func (g Guide) material(id string) (Material, bool) {
	for _, m := range g.Materials {
		if m.ID == id {
			return m, true
		}
	}
	return Material{}, false
}

// catalog is the immutable data set built at start-up.
type catalog struct {
	depts  []Department
	halls  []Hall
	hallBy map[string]Hall
	items  []Guide // by code
	byCode map[string]int
}

// formHost is where blank forms and samples "live"; .invalid never resolves.
const formHost = "https://zwfw.fuzhou.sandbox.invalid"

// catalogUpdated is the base of the items' updated_at.
var catalogUpdated = time.Date(2026, 1, 5, 9, 0, 0, 0, chinaTime)

// deptUSCC builds a government department's USCC: 1 (机构编制) 1 (机关),
// the 福州市 region code 350100, a 9-character organisation code and the
// GB 32100 check character.
func deptUSCC(org string) string {
	first17 := "11350100" + org
	c, ok := pii.USCCCheckChar(first17)
	if !ok {
		panic("province: bad department organisation code " + org)
	}
	return first17 + string(c)
}

// buildCatalog turns the specs of data.go into guides. It panics on an
// inconsistent data set (a programming error caught by the first test).
func buildCatalog() *catalog {
	c := &catalog{hallBy: map[string]Hall{}, byCode: map[string]int{}}
	deptBy := map[string]Department{}
	for _, d := range departments {
		d.USCC = deptUSCC(d.USCC)
		c.depts = append(c.depts, d)
		deptBy[d.Code] = d
	}
	for _, h := range halls {
		c.halls = append(c.halls, h)
		c.hallBy[h.ID] = h
	}
	seq := map[string]int{}
	for i, sp := range itemSpecs {
		d, ok := deptBy[sp.dept]
		if !ok {
			panic("province: item " + sp.name + " has unknown department " + sp.dept)
		}
		seq[sp.dept]++
		code := fmt.Sprintf("%s%05d", d.USCC, seq[sp.dept])
		g := Guide{
			Code: code, Name: sp.name, Dept: d.Name, DeptCode: d.Code, Category: sp.cat,
			Audience: audience(sp.aud), Keywords: strings.Fields(sp.kw),
			LegalBasis: sp.basis, Conditions: sp.cond,
			FormFields:    sp.fields,
			StatutoryDays: sp.sd, PromisedDays: sp.pd, SupplementDays: supplementDays(sp.sd), Fees: sp.fees, Steps: sp.steps,
			OnlineApply: strings.Contains(sp.flags, "o"), Bookable: strings.Contains(sp.flags, "b"),
			MailMaterials: strings.Contains(sp.flags, "m"), MailResult: strings.Contains(sp.flags, "r"),
			MaxTrips:  sp.trips,
			UpdatedAt: catalogUpdated.AddDate(0, 0, (i*7)%60).Format(time.RFC3339),
		}
		if g.Fees == nil {
			g.Fees = []Fee{}
		}
		if g.Steps == nil {
			g.Steps = defaultSteps
		}
		if g.FormFields == nil {
			// Every form starts with who applies; items without their own
			// fields ask for that alone.
			if sp.aud == "b" {
				g.FormFields = companyFields()
			} else {
				g.FormFields = personFields()
			}
		}
		for j, m := range sp.mats {
			m.ID = fmt.Sprintf("m%d", j+1)
			if m.Copies == 0 {
				m.Copies = 1
			}
			if m.hasForm {
				m.BlankFormURL = fmt.Sprintf("%s/forms/%s/%s-blank.docx", formHost, code, m.ID)
				m.SampleURL = fmt.Sprintf("%s/forms/%s/%s-sample.pdf", formHost, code, m.ID)
			}
			g.Materials = append(g.Materials, m)
		}
		hallIDs := sp.halls
		if hallIDs == nil {
			hallIDs = deptHalls[sp.dept]
		}
		for _, id := range hallIDs {
			h, ok := c.hallBy[id]
			if !ok {
				panic("province: item " + sp.name + " names unknown hall " + id)
			}
			g.Halls = append(g.Halls, h)
		}
		c.items = append(c.items, g)
	}
	sort.Slice(c.items, func(i, j int) bool { return c.items[i].Code < c.items[j].Code })
	for i, g := range c.items {
		c.byCode[g.Code] = i
	}
	return c
}

// supplementDays is the sandbox's 补正期限: five working days for items
// decided within ten, ten for the rest.
func supplementDays(statutoryDays int) int {
	if statutoryDays <= 10 {
		return 5
	}
	return 10
}

func audience(s string) []string {
	switch s {
	case "c":
		return []string{AudienceCitizen}
	case "b":
		return []string{AudienceBusiness}
	}
	return []string{AudienceCitizen, AudienceBusiness}
}

// Items returns every item's guide, by code (a copy the caller may keep).
func (s *Server) Items() []Guide { return append([]Guide(nil), s.cat.items...) }

// Item returns the guide of code.
func (s *Server) Item(code string) (Guide, bool) {
	i, ok := s.cat.byCode[code]
	if !ok {
		return Guide{}, false
	}
	return s.cat.items[i], true
}

// Halls returns every hall.
func (s *Server) Halls() []Hall { return append([]Hall(nil), s.cat.halls...) }

// Departments returns the departments with their USCCs.
func (s *Server) Departments() []Department { return append([]Department(nil), s.cat.depts...) }

// itemSpec is one item of data.go before codes and ids are assigned.
type itemSpec struct {
	dept   string
	name   string
	cat    string
	aud    string // "c" citizen, "b" business, "cb" both
	kw     string // space-separated keywords
	basis  []string
	cond   []string
	mats   []Material
	fields []FormField
	sd, pd int // statutory and promised working days
	fees   []Fee
	steps  []string // nil = defaultSteps
	flags  string   // o online_apply, b bookable, m mail_materials, r mail_result
	trips  int
	halls  []string // nil = the department's halls
}

// Material builders for data.go.

func orig(name string) Material {
	return Material{Name: name, Form: FormOriginal, Copies: 1, Required: true}
}
func cp(name string) Material { return Material{Name: name, Form: FormCopy, Copies: 1, Required: true} }
func oc(name string) Material {
	return Material{Name: name, Form: FormOriginalAndCopy, Copies: 1, Required: true}
}

// appForm is an application form with a blank form and a sample.
func appForm(name string) Material { m := orig(name); m.hasForm = true; return m }

func (m Material) el(typ string) Material { m.ElicenseType = typ; return m }
func (m Material) opt() Material          { m.Required = false; return m }
func (m Material) n(copies int) Material  { m.Copies = copies; return m }
func (m Material) note(n string) Material { m.Note = n; return m }

// idCard is the applicant's ID card, replaceable by the e-ID.
func idCard(who string) Material {
	return orig(who + "居民身份证").el("id_card").note("已领取电子身份证的，可授权调用电子证照，免予提交")
}

func bizLicence() Material {
	return cp("营业执照").el("business_license").note("可授权调用电子营业执照，免予提交")
}

func photo(n int, spec string) Material {
	return orig(spec).n(n).note("近期免冠彩色证件照，白色背景")
}

// Form field builders.

func fStr(name, label string, req bool, maxLen int) FormField {
	return FormField{Name: name, Label: label, Type: FieldString, Required: req, MaxLength: maxLen}
}
func fType(name, label, typ string, req bool) FormField {
	return FormField{Name: name, Label: label, Type: typ, Required: req}
}
func fEnum(name, label string, req bool, options ...string) FormField {
	return FormField{Name: name, Label: label, Type: FieldEnum, Required: req, Options: options}
}

// person is the form block of a citizen applicant.
func personFields(extra ...FormField) []FormField {
	f := []FormField{
		fStr("applicant_name", "申请人姓名", true, 20),
		fType("applicant_id_number", "身份证号码", FieldIDNumber, true),
		fType("phone", "联系电话", FieldPhone, true),
	}
	return append(f, extra...)
}

// companyFields is the form block of a business applicant.
func companyFields(extra ...FormField) []FormField {
	f := []FormField{
		fStr("company_name", "单位名称", true, 100),
		fType("uscc", "统一社会信用代码", FieldUSCC, true),
		fStr("contact_name", "经办人姓名", true, 20),
		fType("contact_id_number", "经办人身份证号码", FieldIDNumber, true),
		fType("phone", "联系电话", FieldPhone, true),
	}
	return append(f, extra...)
}

func addressField(name, label string) FormField {
	return FormField{Name: name, Label: label, Type: FieldAddress, Required: true, MaxLength: 100}
}

func fee(name string, yuan int64, code string) Fee {
	return Fee{Name: name, AmountFen: yuan * 100, NontaxItemCode: code}
}

var defaultSteps = []string{"申请", "受理", "审核", "办结"}
