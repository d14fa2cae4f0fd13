package cases

import (
	"slices"
	"strings"

	"zwfw/apperr"
	"zwfw/pii"
	"zwfw/province"
)

// Errors of the applicant check: a case is filed by the signed-in,
// real-name-verified person, for themselves or for a company bound to them.
var (
	ErrApplicantMismatch = apperr.New(apperr.KindForbidden, "CASE_APPLICANT_MISMATCH",
		"申请人信息须与您的实名认证信息（或以其名义申报的已绑定企业）一致，不能以他人名义申报")
	ErrCompanyNotBound  = apperr.New(apperr.KindForbidden, "COMPANY_NOT_BOUND", "请先绑定该企业后再以企业名义申报")
	ErrCompanyRequired  = apperr.New(apperr.KindInvalid, "CASE_COMPANY_REQUIRED", "该事项须以企业名义申报，请选择您已绑定的企业")
	ErrCompanyForbidden = apperr.New(apperr.KindInvalid, "CASE_COMPANY_NOT_ACCEPTED", "该事项只受理个人申报，不能以企业名义申报")
)

// What an applicant form field is bound to.
const (
	bindPersonName = iota
	bindPersonID
	bindCompanyName
	bindCompanyUSCC
)

// applicantFields are the form fields (as the province's guides name them)
// that say who applies. Their values come from the account, never from what
// was typed: the person's verified name and ID number (applicant_*; contact_*
// is the 经办人 of a company's case, the person acting), and on a company's
// case the bound company's name and USCC.
var applicantFields = []struct {
	name string
	bind int
}{
	{"applicant_name", bindPersonName},
	{"applicant_id_number", bindPersonID},
	{"contact_name", bindPersonName},
	{"contact_id_number", bindPersonID},
	{"company_name", bindCompanyName},
	{"uscc", bindCompanyUSCC},
}

// Company is a company the applicant acts for.
type Company struct {
	USCC string
	Name string
}

// companyForm reports whether the item's form is filled in by a company
// (its applicant block asks for the company's USCC).
func companyForm(g province.Guide) bool {
	return slices.ContainsFunc(g.FormFields, func(f province.FormField) bool { return f.Name == "uscc" })
}

// checkApplicantType refuses a personal case for an item only companies
// apply for, and a company's case for an item only people apply for.
// Returns CASE_COMPANY_REQUIRED or CASE_COMPANY_NOT_ACCEPTED.
func checkApplicantType(g province.Guide, asCompany bool) error {
	audience := func(a string) bool { return len(g.Audience) == 0 || slices.Contains(g.Audience, a) }
	switch {
	case !asCompany && (companyForm(g) || !audience(province.AudienceCitizen)):
		return ErrCompanyRequired.WithFields(apperr.Field("as_company", "REQUIRED", "请选择以哪家已绑定的企业名义申报"))
	case asCompany && !audience(province.AudienceBusiness):
		return ErrCompanyForbidden.WithFields(apperr.Field("as_company", "NOT_ACCEPTED", "该事项只受理个人申报"))
	}
	return nil
}

// bindApplicant returns form with its applicant fields set from the verified
// person p and, on a company's case, the company: a field left out is filled
// in; a field that names someone else (another name, ID number, company) is
// refused with CASE_APPLICANT_MISMATCH listing each such field, so nothing
// that names another person is ever stored or sent to the province. The
// company's fields are bound only where the form is a company's (it asks
// for a USCC); elsewhere a company_name is something else (the name of a
// company to be registered).
func bindApplicant(g province.Guide, form map[string]any, p Person, company *Company) (map[string]any, error) {
	out := make(map[string]any, len(form)+4)
	for k, v := range form {
		out[k] = v
	}
	has := map[string]bool{}
	for _, f := range g.FormFields {
		has[f.Name] = true
	}
	var mismatched []apperr.FieldError
	for _, af := range applicantFields {
		if !has[af.name] {
			continue
		}
		var want string
		same := func(a, b string) bool { return strings.TrimSpace(a) == strings.TrimSpace(b) }
		why := "须与您的实名认证信息一致"
		switch af.bind {
		case bindPersonName:
			want = p.Name
		case bindPersonID:
			want = p.IDNumber
			same = func(a, b string) bool { return pii.NormalizeIDNumber(a) == pii.NormalizeIDNumber(b) }
		case bindCompanyName, bindCompanyUSCC:
			if company == nil || !companyForm(g) {
				continue
			}
			want, why = company.Name, "须与以其名义申报的已绑定企业一致"
			if af.bind == bindCompanyUSCC {
				want = company.USCC
				same = func(a, b string) bool { return pii.NormalizeUSCC(a) == pii.NormalizeUSCC(b) }
			}
		}
		if want == "" {
			continue // nothing on file to bind it to: it stays as typed and pre-review asks for it
		}
		switch v := out[af.name].(type) {
		case nil:
		case string:
			if strings.TrimSpace(v) != "" && !same(v, want) {
				mismatched = append(mismatched, apperr.Field("form."+af.name, "APPLICANT_MISMATCH", why))
				continue
			}
		default:
			mismatched = append(mismatched, apperr.Field("form."+af.name, "APPLICANT_MISMATCH", why))
			continue
		}
		out[af.name] = want
	}
	if len(mismatched) > 0 {
		sortFields(mismatched)
		return nil, ErrApplicantMismatch.WithFields(mismatched...)
	}
	return out, nil
}
