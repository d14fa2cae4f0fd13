package cases

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"

	"zwfw/apperr"
	"zwfw/pii"
	"zwfw/province"
)

// editableKeys are what a merge patch of a draft may change: the form, the
// delivery and whom the user applies for (as_company: a bound company's
// USCC, or null to apply in person). The applicant is never patched: it is
// the verified person (and the bound company) at every change.
var editableKeys = []string{"form", "delivery", "as_company"}

// EditDraft applies a JSON merge patch (RFC 7386) to a draft: the members
// of patch replace those of the draft's form, delivery and as_company, a
// null removes one (a form field; the mailing address; as_company, to apply
// in person). The result is checked like a new draft (types, delivery,
// applicant type) and its applicant fields are bound to the signed-in,
// verified person again, so a patch that names someone else is refused and
// a removed applicant field comes back filled in. The change is one
// versioned write; a concurrent change makes it start over on the new state.
//
// Returns CASE_NOT_FOUND, CASE_NOT_DRAFT, REQUEST_UNKNOWN_FIELD,
// REQUEST_WRONG_TYPE, REQUEST_INVALID (every bad field),
// CASE_COMPANY_REQUIRED, CASE_COMPANY_NOT_ACCEPTED, COMPANY_NOT_BOUND,
// CASE_APPLICANT_MISMATCH, REALNAME_REQUIRED, or the province's errors
// while reading the guide.
func (s *Service) EditDraft(ctx context.Context, ownerID, caseID string, patch map[string]any) (*Case, error) {
	var unknown []apperr.FieldError
	for k := range patch {
		if !slices.Contains(editableKeys, k) {
			unknown = append(unknown, apperr.Field(k, "UNKNOWN_FIELD", "草稿只能修改 form、delivery、as_company"))
		}
	}
	if len(unknown) > 0 {
		sortFields(unknown)
		return nil, apperr.UnknownField.WithFields(unknown...)
	}
	for attempt := 0; ; attempt++ {
		c, err := s.Get(ctx, ownerID, caseID)
		if err != nil {
			return nil, err
		}
		next, keys, err := s.patchedDraft(ctx, c, patch)
		if err != nil {
			return nil, err
		}
		prev := c.Version
		next.Version, next.UpdatedAt = prev+1, s.clock()
		err = s.store.Save(ctx, next, prev)
		if errors.Is(err, apperr.Conflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.refileKeys(ctx, next.ID, keys[0], keys[1])
		return next, nil
	}
}

// patchedDraft is c with patch applied and checked (c itself is not changed);
// it also returns the look-up keys of c and of the patched draft.
func (s *Service) patchedDraft(ctx context.Context, c *Case, patch map[string]any) (*Case, [2][]string, error) {
	var keys [2][]string
	if c.Status != StatusDraft {
		return nil, keys, ErrNotDraft
	}
	g, err := s.province.GetItem(ctx, c.ItemCode)
	if err != nil {
		return nil, keys, err
	}
	guide := g.Guide
	doc, err := s.draftDocument(c)
	if err != nil {
		return nil, keys, err
	}
	in, fields := draftInput(mergePatch(doc, patch))
	if len(fields) > 0 {
		return nil, keys, apperr.InvalidInput.WithFields(fields...)
	}
	fields = append(checkForm(guide, in.Form, false), checkDelivery(guide, in.Delivery)...)
	if len(fields) > 0 {
		sortFields(fields)
		return nil, keys, apperr.InvalidInput.WithFields(fields...)
	}
	if err := checkApplicantType(guide, in.AsCompany != ""); err != nil {
		return nil, keys, err
	}
	person, err := s.people.Person(ctx, c.OwnerID)
	if err != nil {
		return nil, keys, err
	}
	company, err := companyOf(person, in.AsCompany)
	if err != nil {
		return nil, keys, err
	}
	form, err := bindApplicant(guide, in.Form, person, company)
	if err != nil {
		return nil, keys, err
	}
	next := *c
	if next.Applicant, err = s.applicant(person, company); err != nil {
		return nil, keys, err
	}
	if next.Form, next.FormMasked, err = s.sealForm(guide, form); err != nil {
		return nil, keys, err
	}
	if next.Delivery, err = s.sealDelivery(in.Delivery); err != nil {
		return nil, keys, err
	}
	keys[0], keys[1] = s.caseKeys(c, guide), s.caseKeys(&next, guide)
	return &next, keys, nil
}

// draftDocument is the editable part of a draft as the JSON a merge patch
// applies to: the form and the mailing address in full.
func (s *Service) draftDocument(c *Case) (map[string]any, error) {
	form, err := s.plainForm(c)
	if err != nil {
		return nil, err
	}
	d, err := s.OwnerDelivery(c)
	if err != nil {
		return nil, err
	}
	doc := map[string]any{"form": map[string]any(form)}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var delivery map[string]any
	if err := json.Unmarshal(raw, &delivery); err != nil {
		return nil, err
	}
	doc["delivery"] = delivery
	if c.Applicant.Type == ApplicantBusiness {
		doc["as_company"] = c.Applicant.USCC
	}
	return doc, nil
}

// mergePatch applies an RFC 7386 merge patch to target: an object patch
// merges member by member (null removes), anything else replaces.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	out := make(map[string]any, len(t)+len(p))
	for k, v := range t {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

// draftInput reads a patched draft document, naming every member of the
// wrong type.
func draftInput(doc any) (DraftInput, []apperr.FieldError) {
	var in DraftInput
	var fields []apperr.FieldError
	m, _ := doc.(map[string]any)
	switch f := m["form"].(type) {
	case nil:
		in.Form = map[string]any{}
	case map[string]any:
		in.Form = f
		for k, v := range f {
			switch v.(type) {
			case string, float64:
			default:
				fields = append(fields, apperr.Field("form."+k, "WRONG_TYPE", "表单值只能是文本或数字"))
			}
		}
	default:
		fields = append(fields, apperr.Field("form", "WRONG_TYPE", "form 应为对象"))
	}
	if d, ok := m["delivery"].(map[string]any); ok {
		raw, _ := json.Marshal(d)
		if err := strictJSON(raw, &in.Delivery); err != nil {
			fields = append(fields, apperr.Field("delivery", "INVALID", "delivery 应为 {materials, result, address}，各项为文本"))
		}
	} else {
		fields = append(fields, apperr.Field("delivery", "WRONG_TYPE", "delivery 应为对象"))
	}
	switch a := m["as_company"].(type) {
	case nil:
	case string:
		in.AsCompany = a
	default:
		fields = append(fields, apperr.Field("as_company", "WRONG_TYPE", "as_company 应为统一社会信用代码或 null"))
	}
	sortFields(fields)
	return in, fields
}

// strictJSON decodes raw into dst refusing unknown members.
func strictJSON(raw []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}

// caseKeys are the look-up keys a case is filed under: the applicant's, and
// the phones typed in its form (what a caller to 12345 will quote).
func (s *Service) caseKeys(c *Case, g province.Guide) []string {
	keys := lookupKeys(c.Applicant)
	if form, err := s.plainForm(c); err == nil {
		for _, f := range g.FormFields {
			if v, ok := form[f.Name].(string); ok && f.Type == "phone" && pii.ValidatePhone(v) == nil {
				keys = append(keys, "phone:"+s.pii.Index("phone", v))
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// refileKeys files the case under its new keys and takes it off the ones it
// no longer has. Best effort after the case is saved: a key left behind only
// shows the case to a hotline look-up by a value it no longer carries.
func (s *Service) refileKeys(ctx context.Context, caseID string, old, now []string) {
	var gone []string
	for _, k := range old {
		if !slices.Contains(now, k) {
			gone = append(gone, k)
		}
	}
	if err := s.store.IndexCase(ctx, caseID, now); err != nil {
		s.log.Warn("case look-up keys not filed", "case_id", caseID, "err", err)
	}
	if err := s.store.UnindexCase(ctx, caseID, gone); err != nil {
		s.log.Warn("old case look-up keys not removed", "case_id", caseID, "err", err)
	}
}
