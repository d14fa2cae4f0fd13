package cases

import (
	"context"
	"crypto/subtle"
	"regexp"
	"strings"
	"time"

	"zwfw/apperr"
	"zwfw/pii"
)

var caseNumberPattern = regexp.MustCompile(`^[A-Z0-9]{6,40}$`)

// Public look-up rules: a wrong query password MaxPasswordFailures times
// locks the case number for PasswordLockFor.
const (
	MaxPasswordFailures = 5
	PasswordLockFor     = 15 * time.Minute
)

// Errors of the look-ups.
var (
	ErrLookupFailed = apperr.New(apperr.KindNotFound, "CASE_LOOKUP_FAILED", "办件编号或查询密码错误")
	ErrLookupLocked = apperr.New(apperr.KindTooMany, "CASE_LOOKUP_LOCKED", "查询密码错误次数过多，该办件已暂时锁定查询，请15分钟后再试")
)

// PublicLookup shows a case to anyone holding its case number and query
// password (no login): the caller shows status and timeline only. A wrong
// password and an unknown number look the same; wrong passwords lock the
// number. Returns CASE_NOT_FOUND or CASE_LOOKUP_LOCKED (with locked_until).
func (s *Service) PublicLookup(ctx context.Context, number, password string) (*Case, error) {
	number = strings.ToUpper(strings.TrimSpace(number))
	if !caseNumberPattern.MatchString(number) || password == "" || len(password) > 32 {
		return nil, ErrLookupFailed
	}
	now := s.clock()
	until, err := s.store.PasswordLock(ctx, number)
	if err != nil {
		return nil, err
	}
	if now.Before(until) {
		return nil, ErrLookupLocked.WithDetail("locked_until", until.Format(time.RFC3339)).
			WithDetail("retry_after", int(until.Sub(now).Seconds())+1)
	}
	c, err := s.store.ByNumber(ctx, number)
	if err != nil {
		if apperr.From(err).Is(ErrNotFound) {
			return nil, ErrLookupFailed
		}
		return nil, err
	}
	want, err := s.pii.DecryptField("query_password", c.QueryPasswordEnc)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 {
		until, err := s.store.PasswordFailure(ctx, number, MaxPasswordFailures, PasswordLockFor, now)
		if err != nil {
			return nil, err
		}
		if !until.IsZero() {
			return nil, ErrLookupLocked.WithDetail("locked_until", until.Format(time.RFC3339)).
				WithDetail("retry_after", int(PasswordLockFor.Seconds()))
		}
		return nil, ErrLookupFailed
	}
	if err := s.store.PasswordSuccess(ctx, number); err != nil {
		s.log.Warn("reset of look-up failures failed", "err", err)
	}
	return c, nil
}

// HotlineQuery is what a 12345 operator searches by: exactly one field.
type HotlineQuery struct {
	Number   string
	Phone    string
	IDNumber string
	USCC     string
}

// kind and key of the query, for the index and the audit log (masked).
func (q HotlineQuery) parse(idx func(field, v string) string) (kind, key, shown string, err error) {
	n := 0
	for _, v := range []string{q.Number, q.Phone, q.IDNumber, q.USCC} {
		if strings.TrimSpace(v) != "" {
			n++
		}
	}
	if n != 1 {
		return "", "", "", apperr.InvalidInput.WithMessage("请只填写一个查询条件：办件编号、手机号、身份证号或统一社会信用代码")
	}
	switch {
	case q.Number != "":
		num := strings.ToUpper(strings.TrimSpace(q.Number))
		if !caseNumberPattern.MatchString(num) {
			return "", "", "", apperr.InvalidInput.WithFields(apperr.Field("number", "NUMBER_INVALID", "办件编号格式不正确"))
		}
		return "number", num, num, nil
	case q.Phone != "":
		p := pii.NormalizePhone(q.Phone)
		if pii.ValidatePhone(p) != nil {
			return "", "", "", apperr.InvalidInput.WithFields(apperr.Field("phone", "PHONE_INVALID", "手机号码格式不正确"))
		}
		return "phone", "phone:" + idx("phone", p), pii.MaskPhone(p), nil
	case q.IDNumber != "":
		id := pii.NormalizeIDNumber(q.IDNumber)
		if err := pii.ValidateIDNumber(id); err != nil {
			return "", "", "", apperr.InvalidInput.WithFields(apperr.Field("id_number", "ID_NUMBER_INVALID", err.Error()))
		}
		return "id_number", "pid:" + idx("id_number", id), pii.MaskIDNumber(id), nil
	default:
		u := pii.NormalizeUSCC(q.USCC)
		if err := pii.ValidateUSCC(u); err != nil {
			return "", "", "", apperr.InvalidInput.WithFields(apperr.Field("uscc", "USCC_INVALID", err.Error()))
		}
		return "uscc", "uscc:" + u, u, nil
	}
}

var ticketPattern = regexp.MustCompile(`^[A-Za-z0-9-]{6,40}$`)

// ErrTicketRequired is returned when a hotline look-up names no call ticket.
var ErrTicketRequired = apperr.New(apperr.KindInvalid, "HOTLINE_TICKET_REQUIRED", "请填写 X-Hotline-Ticket 请求头（本次来电的工单号）")

// HotlineLookup finds cases for a 12345 operator on a call, by case number,
// or by the applicant's phone, ID number (blind index: no decryption, no
// scan) or company USCC, at most 20, newest first. Every look-up — also one
// that found nothing — is written to the audit log before anything is shown;
// if the audit log cannot be written, nothing is shown.
//
// Returns HOTLINE_TICKET_REQUIRED, REQUEST_INVALID, or an internal error.
func (s *Service) HotlineLookup(ctx context.Context, audit AuditLog, op Operator, ticket string, q HotlineQuery) ([]*Case, error) {
	if !ticketPattern.MatchString(ticket) {
		return nil, ErrTicketRequired
	}
	kind, key, shown, err := q.parse(s.pii.Index)
	if err != nil {
		return nil, err
	}
	var found []*Case
	if kind == "number" {
		c, err := s.store.ByNumber(ctx, key)
		if err != nil && !apperr.From(err).Is(ErrNotFound) {
			return nil, err
		}
		if c != nil {
			found = []*Case{c}
		}
	} else if found, err = s.store.ByKey(ctx, key, 20); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(found))
	for _, c := range found {
		ids = append(ids, c.ID)
	}
	entry := AuditEntry{At: s.clock(), OperatorID: op.ID, OperatorName: op.Name, Ticket: ticket, QueryType: kind,
		Query: shown, CaseIDs: ids, IP: op.IP}
	if err := audit.Append(ctx, &entry); err != nil {
		return nil, err
	}
	return found, nil
}
