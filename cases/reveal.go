package cases

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"unicode/utf8"

	"zwfw/apperr"
)

// Errors of opening a case and revealing one of its fields on the hotline.
var (
	ErrRevealReason = apperr.New(apperr.KindInvalid, "CASE_REVEAL_REASON_REQUIRED", "查看完整信息须填写理由（2-200 字）")
	ErrRevealField  = apperr.New(apperr.KindInvalid, "CASE_REVEAL_FIELD_UNKNOWN", "该办件没有这项个人信息")
)

// HotlineCase opens one case for a 12345 operator on a call. The opening
// (operator, ticket, case) is written to the audit log before the case is
// returned; if the log cannot be written, nothing is shown. Which cases an
// operator may open is the caller's business (the console: those the
// operator's last audited look-up found). The case's personal data stays
// masked; Reveal shows one field.
//
// Returns HOTLINE_TICKET_REQUIRED, CASE_NOT_FOUND.
func (s *Service) HotlineCase(ctx context.Context, audit AuditLog, op Operator, ticket, caseID string) (*Case, error) {
	if !ticketPattern.MatchString(ticket) {
		return nil, ErrTicketRequired
	}
	c, err := s.ByID(ctx, caseID)
	if err != nil {
		return nil, err
	}
	entry := AuditEntry{At: s.clock(), OperatorID: op.ID, OperatorName: op.Name, Ticket: ticket, QueryType: "open",
		Query: c.CaseNumber, CaseIDs: []string{c.ID}, IP: op.IP}
	if err := audit.Append(ctx, &entry); err != nil {
		return nil, err
	}
	return c, nil
}

// RevealField is one personal datum of a case that an operator may ask to
// see in full.
type RevealField struct {
	Key    string // applicant_name, applicant_id_number, applicant_phone, delivery_address, form.<field>
	Label  string
	Masked string
}

// RevealFields lists the personal data the case holds, masked, in a fixed order.
func (c *Case) RevealFields() []RevealField {
	var out []RevealField
	a := c.Applicant
	if a.NameEnc != "" {
		out = append(out, RevealField{"applicant_name", "申请人姓名", a.NameMasked})
	}
	if a.IDNumberEnc != "" {
		out = append(out, RevealField{"applicant_id_number", "申请人身份证号", a.IDNumberMasked})
	}
	if a.PhoneEnc != "" {
		out = append(out, RevealField{"applicant_phone", "申请人手机号", a.PhoneMasked})
	}
	if c.Delivery.AddressEnc != "" && c.Delivery.Address != nil {
		m := c.Delivery.Address
		out = append(out, RevealField{"delivery_address", "结果寄送地址", joinAddress(*m)})
	}
	keys := make([]string, 0, len(c.FormMasked))
	for k := range c.FormMasked {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, RevealField{"form." + k, "申报表 · " + k, c.FormMasked[k]})
	}
	return out
}

func joinAddress(a PostalAddress) string {
	return strings.Join([]string{a.Name, a.Phone, a.Province + a.City + a.District + a.Detail}, " ")
}

// Reveal shows one personal datum of a case in full to a 12345 operator who
// says why. The reveal (operator, ticket, case, field and reason — never
// the value) is written to the audit log first; if the log cannot be
// written, nothing is shown.
//
// Returns HOTLINE_TICKET_REQUIRED, CASE_REVEAL_REASON_REQUIRED,
// CASE_NOT_FOUND, CASE_REVEAL_FIELD_UNKNOWN.
func (s *Service) Reveal(ctx context.Context, audit AuditLog, op Operator, ticket, caseID, field, reason string) (string, error) {
	if !ticketPattern.MatchString(ticket) {
		return "", ErrTicketRequired
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 2 || n > 200 {
		return "", ErrRevealReason.WithFields(apperr.Field("reason", "REASON_LENGTH", "理由须为 2-200 字"))
	}
	c, err := s.ByID(ctx, caseID)
	if err != nil {
		return "", err
	}
	pii, enc, ok := sealedField(c, field)
	if !ok {
		return "", ErrRevealField
	}
	entry := AuditEntry{At: s.clock(), OperatorID: op.ID, OperatorName: op.Name, Ticket: ticket, QueryType: "reveal",
		Query: field, CaseIDs: []string{c.ID}, IP: op.IP, Reason: reason}
	if err := audit.Append(ctx, &entry); err != nil {
		return "", err
	}
	plain, err := s.pii.DecryptField(pii, enc)
	if err != nil {
		return "", err
	}
	if field == "delivery_address" {
		var a PostalAddress
		if err := json.Unmarshal([]byte(plain), &a); err != nil {
			return "", err
		}
		plain = joinAddress(a)
	}
	return plain, nil
}

// sealedField is the encryption field name and the sealed value of a
// revealable field of c.
func sealedField(c *Case, field string) (piiField, enc string, ok bool) {
	switch field {
	case "applicant_name":
		return "name", c.Applicant.NameEnc, c.Applicant.NameEnc != ""
	case "applicant_id_number":
		return "id_number", c.Applicant.IDNumberEnc, c.Applicant.IDNumberEnc != ""
	case "applicant_phone":
		return "phone", c.Applicant.PhoneEnc, c.Applicant.PhoneEnc != ""
	case "delivery_address":
		return "delivery_address", c.Delivery.AddressEnc, c.Delivery.AddressEnc != ""
	}
	name, isForm := strings.CutPrefix(field, "form.")
	if !isForm {
		return "", "", false
	}
	if _, sealed := c.FormMasked[name]; !sealed {
		return "", "", false
	}
	v, _ := c.Form[name].(string)
	return "form." + name, v, v != ""
}
