package cases

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"zwfw/apperr"
	"zwfw/pii"
	"zwfw/province"
)

// checkForm checks form values against the item's form fields: unknown
// fields and wrong types always; missing required fields only when complete
// is asked for (at submission). Every problem is listed (一次性告知).
func checkForm(g province.Guide, form map[string]any, complete bool) []apperr.FieldError {
	var errs []apperr.FieldError
	known := map[string]province.FormField{}
	for _, f := range g.FormFields {
		known[f.Name] = f
	}
	for name, v := range form {
		f, ok := known[name]
		if !ok {
			errs = append(errs, apperr.Field("form."+name, "UNKNOWN_FIELD", "该事项没有这个表单项"))
			continue
		}
		if msg := checkValue(f, v); msg != "" {
			errs = append(errs, apperr.Field("form."+name, "INVALID", f.Label+msg))
		}
	}
	if complete {
		for _, f := range g.FormFields {
			if v, ok := form[f.Name]; f.Required && (!ok || v == nil || v == "") {
				errs = append(errs, apperr.Field("form."+f.Name, "REQUIRED", "请填写"+f.Label))
			}
		}
	}
	sortFields(errs)
	return errs
}

// checkValue returns "" for a good value, else the Chinese reason.
func checkValue(f province.FormField, v any) string {
	if v == nil {
		return ""
	}
	switch f.Type {
	case "number":
		switch n := v.(type) {
		case float64:
			return ""
		case string:
			if _, err := strconv.ParseFloat(n, 64); err == nil {
				return ""
			}
		}
		return "应为数字"
	}
	s, ok := v.(string)
	if !ok {
		return "应为文本"
	}
	if s == "" {
		return ""
	}
	max := f.MaxLength
	if max <= 0 {
		max = 500
	}
	if utf8.RuneCountInString(s) > max {
		return fmt.Sprintf("不能超过%d个字", max)
	}
	switch f.Type {
	case "date":
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return "应为日期（如 2026-01-31）"
		}
	case "enum":
		for _, o := range f.Options {
			if o == s {
				return ""
			}
		}
		return "不在可选范围内"
	case "phone":
		if pii.ValidatePhone(s) != nil {
			return "应为11位手机号码"
		}
	case "id_number":
		if err := pii.ValidateIDNumber(pii.NormalizeIDNumber(s)); err != nil {
			return "：" + err.Error()
		}
	case "uscc":
		if err := pii.ValidateUSCC(pii.NormalizeUSCC(s)); err != nil {
			return "：" + err.Error()
		}
	}
	return ""
}

// cleanForm keeps the values as typed JSON scalars (the keys were checked
// against the guide, so no key can be a MongoDB operator).
func cleanForm(form map[string]any) map[string]any {
	out := make(map[string]any, len(form))
	for k, v := range form {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

func checkDelivery(g province.Guide, d Delivery) []apperr.FieldError {
	var errs []apperr.FieldError
	switch d.Materials {
	case "upload", "hall":
	case "pickup":
		if !g.MailMaterials {
			errs = append(errs, apperr.Field("delivery.materials", "NOT_SUPPORTED", "该事项不支持快递寄送材料"))
		}
	default:
		errs = append(errs, apperr.Field("delivery.materials", "INVALID", "材料提交方式应为 upload、pickup 或 hall"))
	}
	switch d.Result {
	case "electronic", "hall":
	case "mail":
		if !g.MailResult {
			errs = append(errs, apperr.Field("delivery.result", "NOT_SUPPORTED", "该事项不支持邮寄办理结果"))
		}
		errs = append(errs, checkAddress(d.Address)...)
	default:
		errs = append(errs, apperr.Field("delivery.result", "INVALID", "结果领取方式应为 electronic、mail 或 hall"))
	}
	return errs
}

// checkMaterials lists every required material slot without an upload or
// e-licence in round (0 = the application, n = the n-th supplement, where
// only the requested slots count).
func checkMaterials(g province.Guide, mats []Material, round int, requested []string) []apperr.FieldError {
	have := map[string]bool{}
	for _, m := range mats {
		if m.Round == round {
			have[m.SlotID] = true
		}
	}
	var errs []apperr.FieldError
	if round > 0 {
		for _, id := range requested {
			if !have[id] {
				errs = append(errs, apperr.Field("materials."+id, "MISSING", "请补正："+materialName(g, id)))
			}
		}
		return errs
	}
	for _, m := range g.Materials {
		if m.Required && !have[m.ID] {
			errs = append(errs, apperr.Field("materials."+m.ID, "MISSING", "缺少材料："+m.Name))
		}
	}
	return errs
}

func materialName(g province.Guide, id string) string {
	for _, m := range g.Materials {
		if m.ID == id {
			return m.Name
		}
	}
	return id
}

func sortFields(f []apperr.FieldError) {
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j].Field < f[j-1].Field; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}

// checkAddress lists every problem of a mailing address at once; the
// courier re-checks the division names when the result is shipped.
func checkAddress(a *PostalAddress) []apperr.FieldError {
	if a == nil {
		return []apperr.FieldError{apperr.Field("delivery.address", "REQUIRED", "邮寄办理结果须填写收件地址")}
	}
	var errs []apperr.FieldError
	for _, f := range []struct{ field, value, label string }{
		{"name", a.Name, "收件人姓名"}, {"province", a.Province, "省份"}, {"city", a.City, "城市"},
		{"district", a.District, "区县"}, {"detail", a.Detail, "详细地址"},
	} {
		v := strings.TrimSpace(f.value)
		if v == "" || utf8.RuneCountInString(v) > 100 || strings.ContainsAny(v, "\x00\r\n<>") {
			errs = append(errs, apperr.Field("delivery.address."+f.field, "INVALID", "请正确填写"+f.label))
		}
	}
	if pii.ValidatePhone(a.Phone) != nil {
		errs = append(errs, apperr.Field("delivery.address.phone", "INVALID_PHONE", "请填写正确的11位手机号码"))
	}
	return errs
}
