package cases

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"zwfw/apperr"
	"zwfw/pii"
)

// protector is the real SM4 cipher and blind index with test keys.
type protector struct {
	*pii.Cipher
	idx *pii.BlindIndex
}

func (p protector) Index(field, v string) string { return p.idx.Index(field, v) }

// oneCase is a Store holding one case (only Get is used here).
type oneCase struct {
	Store
	c *Case
}

func (s oneCase) Get(_ context.Context, id string) (*Case, error) {
	if s.c == nil || s.c.ID != id {
		return nil, ErrNotFound
	}
	return s.c, nil
}

// memAudit is an audit log in memory; fail makes every Append fail.
type memAudit struct {
	entries []AuditEntry
	fail    bool
}

func (m *memAudit) Append(_ context.Context, e *AuditEntry) error {
	if m.fail {
		return errors.New("audit log unreachable")
	}
	m.entries = append(m.entries, *e)
	return nil
}

func (m *memAudit) List(context.Context, AuditFilter) ([]AuditEntry, error) { return m.entries, nil }

// sealedCase is a citizen's case with its applicant, a mailed result's
// address and a phone on the form, sealed the way Create seals them.
func sealedCase(t *testing.T) (*Service, *Case) {
	t.Helper()
	cipher, err := pii.NewCipher(map[byte][]byte{1: bytes.Repeat([]byte{7}, 16)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{pii: protector{cipher, pii.NewBlindIndex(bytes.Repeat([]byte{9}, 32))},
		now: func() time.Time { return time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC) }}
	c := &Case{ID: "c_0000000000000123456789ab", CaseNumber: "FJ20261123000001", Status: StatusAccepted}
	if c.Applicant, err = s.applicant(zhangSan, nil); err != nil {
		t.Fatal(err)
	}
	addr := &PostalAddress{Name: "张三", Phone: "13800138000", Province: "福建省", City: "福州市", District: "鼓楼区", Detail: "五四路 100 号"}
	if c.Delivery, err = s.sealDelivery(Delivery{Materials: "upload", Result: "mail", Address: addr}); err != nil {
		t.Fatal(err)
	}
	if c.Form, c.FormMasked, err = s.sealForm(personGuide, map[string]any{"phone": "13900139000"}); err != nil {
		t.Fatal(err)
	}
	s.store = oneCase{c: c}
	return s, c
}

var operator = Operator{ID: "s_op1", Name: "hotline01", IP: "10.0.0.8"}

// A revealed field comes back in full only after the reveal, with its
// reason, is in the audit log; the log never holds the value.
func TestRevealIsAuditedWithItsReason(t *testing.T) {
	s, c := sealedCase(t)
	ctx := context.Background()
	tests := []struct {
		field, want string
	}{
		{"applicant_name", "张三"},
		{"applicant_id_number", zhangSan.IDNumber},
		{"applicant_phone", zhangSan.Phone},
		{"delivery_address", "张三 13800138000 福建省福州市鼓楼区五四路 100 号"},
		{"form.phone", "13900139000"},
	}
	for _, tt := range tests {
		audit := &memAudit{}
		got, err := s.Reveal(ctx, audit, operator, "T20261123001", c.ID, tt.field, " 来电人要求核对 ")
		if err != nil || got != tt.want {
			t.Fatalf("reveal %s = %q, %v; want %q", tt.field, got, err, tt.want)
		}
		if len(audit.entries) != 1 {
			t.Fatalf("reveal %s wrote %d audit entries", tt.field, len(audit.entries))
		}
		e := audit.entries[0]
		if e.QueryType != "reveal" || e.Query != tt.field || e.Reason != "来电人要求核对" || e.Ticket != "T20261123001" ||
			e.OperatorID != operator.ID || len(e.CaseIDs) != 1 || e.CaseIDs[0] != c.ID {
			t.Fatalf("audit entry of %s = %+v", tt.field, e)
		}
		if strings.Contains(e.Query+e.Reason, tt.want) {
			t.Fatalf("the audit entry holds the revealed value: %+v", e)
		}
	}

	fields := c.RevealFields()
	if len(fields) != len(tests) {
		t.Fatalf("RevealFields = %+v, want the %d sealed fields", fields, len(tests))
	}
	for i, f := range fields {
		if f.Key != tests[i].field || f.Masked == "" || f.Masked == tests[i].want {
			t.Fatalf("RevealFields[%d] = %+v", i, f)
		}
	}
}

// A reveal that breaks a rule, or that the audit log cannot record, shows nothing.
func TestRevealRefusals(t *testing.T) {
	s, c := sealedCase(t)
	tests := []struct {
		name                      string
		ticket, id, field, reason string
		auditDown                 bool
		want                      *apperr.Error
	}{
		{"no ticket", "", c.ID, "applicant_phone", "核对", false, ErrTicketRequired},
		{"no reason", "T20261123001", c.ID, "applicant_phone", " ", false, ErrRevealReason},
		{"a reason too long", "T20261123001", c.ID, "applicant_phone", strings.Repeat("查", 201), false, ErrRevealReason},
		{"not a personal field", "T20261123001", c.ID, "item_name", "核对", false, ErrRevealField},
		{"a form field that is not sealed", "T20261123001", c.ID, "form.applicant_name", "核对", false, ErrRevealField},
		{"no such case", "T20261123001", "c_0000000000000000000000ff", "applicant_phone", "核对", false, ErrNotFound},
		{"audit log down", "T20261123001", c.ID, "applicant_phone", "核对", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			audit := &memAudit{fail: tt.auditDown}
			got, err := s.Reveal(context.Background(), audit, operator, tt.ticket, tt.id, tt.field, tt.reason)
			if got != "" || err == nil {
				t.Fatalf("Reveal = %q, %v; want nothing shown", got, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Reveal error %v, want %s", err, tt.want.Code)
			}
			if len(audit.entries) != 0 {
				t.Fatalf("a refused reveal was audited: %+v", audit.entries)
			}
		})
	}
}

// Opening a case is audited (ticket, case number) before it is returned.
func TestHotlineCaseIsAudited(t *testing.T) {
	s, c := sealedCase(t)
	audit := &memAudit{}
	got, err := s.HotlineCase(context.Background(), audit, operator, "T20261123001", c.ID)
	if err != nil || got.ID != c.ID {
		t.Fatalf("HotlineCase = %v, %v", got, err)
	}
	if len(audit.entries) != 1 || audit.entries[0].QueryType != "open" || audit.entries[0].Query != c.CaseNumber ||
		audit.entries[0].CaseIDs[0] != c.ID {
		t.Fatalf("audit = %+v", audit.entries)
	}
	if _, err := s.HotlineCase(context.Background(), &memAudit{fail: true}, operator, "T20261123001", c.ID); err == nil {
		t.Fatal("a case was opened while the audit log was down")
	}
	if _, err := s.HotlineCase(context.Background(), audit, operator, "x", c.ID); !errors.Is(err, ErrTicketRequired) {
		t.Fatalf("no ticket: %v", err)
	}
}
