package logistics

import (
	"strings"
	"testing"
)

func valid() Address {
	return Address{Name: "张三", Phone: "13800138000", Province: "福建省", City: "福州市", District: "鼓楼区",
		Detail: "五四路158号环球广场1号楼", PostalCode: "350001"}
}

func TestAddressValidate(t *testing.T) {
	if errs := valid().Validate(); len(errs) != 0 {
		t.Fatalf("valid address refused: %v", errs)
	}
	a := Address{Phone: "123", PostalCode: "abc", Detail: strings.Repeat("路", 101)}
	errs := a.Validate()
	got := map[string]string{}
	for _, e := range errs {
		got[e.Field] = e.Code
	}
	want := map[string]string{"name": "REQUIRED", "province": "REQUIRED", "city": "REQUIRED", "district": "REQUIRED",
		"detail": "TOO_LONG", "phone": "INVALID_PHONE", "postal_code": "INVALID_POSTAL_CODE"}
	for f, code := range want {
		if got[f] != code {
			t.Errorf("field %s: got %q, want %q (all: %v)", f, got[f], code, errs)
		}
	}
	b := valid()
	b.Detail = "五四路<script>"
	if errs := b.Validate(); len(errs) != 1 || errs[0].Code != "INVALID_CHARACTERS" {
		t.Fatalf("markup in address accepted: %v", errs)
	}
}

func TestAddressMasked(t *testing.T) {
	m := valid().Masked()
	if m.Phone != "138****8000" || m.Name == "张三" || strings.Contains(m.Detail, "158") {
		t.Fatalf("masked address reveals too much: %#v", m)
	}
	if m.City != "福州市" {
		t.Fatalf("masking hid the city: %+v", m)
	}
}

func TestAddressString(t *testing.T) {
	cases := map[string]Address{
		"福建省福州市鼓楼区五四路158号环球广场1号楼": valid(),
		"北京市朝阳区建国路1号":             {Province: "北京市", City: "北京市", District: "朝阳区", Detail: "建国路1号"},
		"上海市浦东新区世纪大道1号":           {Province: "上海市", City: "市辖区", District: "浦东新区", Detail: "世纪大道1号"},
	}
	for want, a := range cases {
		if got := a.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
