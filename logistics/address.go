package logistics

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"zwfw/apperr"
	"zwfw/pii"
)

// Address is a mainland China postal address with its contact person, as a
// courier needs it for a pickup or a delivery.
type Address struct {
	Name       string `json:"name" bson:"name"`
	Phone      string `json:"phone" bson:"phone"`
	Province   string `json:"province" bson:"province"`
	City       string `json:"city" bson:"city"`
	District   string `json:"district" bson:"district"`
	Detail     string `json:"detail" bson:"detail"`
	PostalCode string `json:"postal_code,omitempty" bson:"postal_code,omitempty"`
	// DivisionCode is the GB/T 2260 code of the district (or of the city,
	// where the division list stops there). Optional on input; when given
	// it must match Province, City and District. Canonical fills it in.
	DivisionCode string `json:"division_code,omitempty" bson:"division_code,omitempty"`
}

var postalCode = regexp.MustCompile(`^[1-9][0-9]{5}$`)

// Validate lists every problem at once (一次性告知), as field errors:
// missing or malformed fields, a phone that is not a mainland mobile, and
// a province, city and district that are not real GB/T 2260 divisions
// belonging together (UNKNOWN_DIVISION, DIVISION_MISMATCH).
func (a Address) Validate() []apperr.FieldError {
	var errs []apperr.FieldError
	reported := map[string]bool{}
	need := func(field, value, label string, max int) {
		n := len(errs)
		defer func() { reported[field] = len(errs) > n }()
		v := strings.TrimSpace(value)
		switch {
		case v == "":
			errs = append(errs, apperr.Field(field, "REQUIRED", "请填写"+label))
		case utf8.RuneCountInString(v) > max:
			errs = append(errs, apperr.Field(field, "TOO_LONG", label+"过长"))
		case strings.ContainsAny(v, "\x00\r\n\t<>"):
			errs = append(errs, apperr.Field(field, "INVALID_CHARACTERS", label+"包含不支持的字符"))
		}
	}
	need("name", a.Name, "联系人姓名", 20)
	need("province", a.Province, "省份", 20)
	need("city", a.City, "城市", 20)
	need("district", a.District, "区县", 20)
	need("detail", a.Detail, "详细地址", 100)
	if pii.ValidatePhone(a.Phone) != nil {
		errs = append(errs, apperr.Field("phone", "INVALID_PHONE", "请填写正确的11位手机号码"))
	}
	if a.PostalCode != "" && !postalCode.MatchString(a.PostalCode) {
		errs = append(errs, apperr.Field("postal_code", "INVALID_POSTAL_CODE", "邮政编码应为6位数字"))
	}
	return append(errs, a.divisionErrors(reported)...)
}

// Masked is the address as shown in lists and logs: name, phone and street
// detail masked; province, city and district kept so a person can recognise it.
func (a Address) Masked() Address {
	m := a
	m.Name = pii.MaskName(a.Name)
	m.Phone = pii.MaskPhone(a.Phone)
	m.Detail = maskDetail(a.Detail)
	return m
}

// maskDetail keeps the first two runes of the street detail: enough to tell
// two addresses of one person apart, too little to find the door.
func maskDetail(s string) string {
	r := []rune(s)
	if len(r) <= 2 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:2]) + strings.Repeat("*", len(r)-2)
}

// String is the one-line form couriers print on a waybill; a
// municipality's city, which repeats the province, is printed once.
func (a Address) String() string {
	city := a.City
	if city == a.Province || city == "市辖区" {
		city = ""
	}
	return a.Province + city + a.District + a.Detail
}
