package cases

import (
	"errors"
	"reflect"
	"testing"

	"zwfw/apperr"
	"zwfw/province"
)

var (
	zhangSan = Person{Name: "张三", IDNumber: "11010519491231002X", Phone: "13800138000",
		Companies: map[string]string{"91350100MA2XXXXX1X": "福州示例科技有限公司"}}
	personGuide = province.Guide{Audience: []string{"citizen"}, FormFields: []province.FormField{
		{Name: "applicant_name", Label: "申请人姓名", Type: "string"},
		{Name: "applicant_id_number", Label: "身份证号码", Type: "id_number"},
		{Name: "phone", Label: "联系电话", Type: "phone"},
		{Name: "partner_name", Label: "对方姓名", Type: "string"},
	}}
	companyGuide = province.Guide{Audience: []string{"business"}, FormFields: []province.FormField{
		{Name: "company_name", Label: "单位名称", Type: "string"},
		{Name: "uscc", Label: "统一社会信用代码", Type: "uscc"},
		{Name: "contact_name", Label: "经办人姓名", Type: "string"},
		{Name: "contact_id_number", Label: "经办人身份证号码", Type: "id_number"},
	}}
	acme = &Company{USCC: "91350100MA2XXXXX1X", Name: "福州示例科技有限公司"}
)

// The applicant fields come from the account: filled in when left out,
// accepted when they say the same, refused when they name someone else.
func TestApplicantFieldsComeFromTheAccount(t *testing.T) {
	tests := []struct {
		name     string
		guide    province.Guide
		form     map[string]any
		company  *Company
		want     map[string]any
		mismatch []string
	}{
		{"left out: pre-filled", personGuide, map[string]any{"phone": "13900139000"}, nil,
			map[string]any{"applicant_name": "张三", "applicant_id_number": zhangSan.IDNumber, "phone": "13900139000"}, nil},
		{"the same, lower-case x and spaces: accepted", personGuide,
			map[string]any{"applicant_name": " 张三 ", "applicant_id_number": "11010519491231002x"}, nil,
			map[string]any{"applicant_name": "张三", "applicant_id_number": zhangSan.IDNumber}, nil},
		{"another person's name and ID: refused", personGuide,
			map[string]any{"applicant_name": "李四", "applicant_id_number": "110105194912310046"}, nil,
			nil, []string{"form.applicant_id_number", "form.applicant_name"}},
		{"another ID only: refused", personGuide, map[string]any{"applicant_id_number": "110105194912310046"}, nil,
			nil, []string{"form.applicant_id_number"}},
		{"a number where a name goes: refused", personGuide, map[string]any{"applicant_name": 3.0}, nil,
			nil, []string{"form.applicant_name"}},
		{"other people on the form are the applicant's to name", personGuide, map[string]any{"partner_name": "李四"}, nil,
			map[string]any{"applicant_name": "张三", "applicant_id_number": zhangSan.IDNumber, "partner_name": "李四"}, nil},
		{"company case: the bound company and the person acting", companyGuide, map[string]any{}, acme,
			map[string]any{"company_name": acme.Name, "uscc": acme.USCC, "contact_name": "张三", "contact_id_number": zhangSan.IDNumber}, nil},
		{"company case naming another company: refused", companyGuide,
			map[string]any{"company_name": "别家公司", "uscc": "91350100MA2YYYYY2Y"}, acme,
			nil, []string{"form.company_name", "form.uscc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bindApplicant(tt.guide, tt.form, zhangSan, tt.company)
			if tt.mismatch != nil {
				if !errors.Is(err, ErrApplicantMismatch) {
					t.Fatalf("err = %v, want CASE_APPLICANT_MISMATCH", err)
				}
				var fields []string
				for _, f := range apperr.From(err).Fields {
					fields = append(fields, f.Field)
				}
				if !reflect.DeepEqual(fields, tt.mismatch) {
					t.Fatalf("fields = %v, want %v", fields, tt.mismatch)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("form = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestApplicantType(t *testing.T) {
	both := personGuide
	both.Audience = []string{"citizen", "business"}
	tests := []struct {
		name      string
		guide     province.Guide
		asCompany bool
		want      error
	}{
		{"a person for a personal item", personGuide, false, nil},
		{"a company for a personal-only item", personGuide, true, ErrCompanyForbidden},
		{"a person for a company-only item", companyGuide, false, ErrCompanyRequired},
		{"a company for a company item", companyGuide, true, nil},
		{"either for an item for both", both, true, nil},
		{"either for an item for both (person)", both, false, nil},
	}
	for _, tt := range tests {
		err := checkApplicantType(tt.guide, tt.asCompany)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}
