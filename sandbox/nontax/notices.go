package nontax

import (
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"zwfw/pii"
	"zwfw/sandbox/province"
)

// Notice states.
const (
	StatusUnpaid    = "unpaid"
	StatusPaid      = "paid"
	StatusRefunded  = "refunded" // wholly refunded
	StatusCancelled = "cancelled"
)

// Payer types.
const (
	PayerCitizen  = "citizen"  // payer_id is a resident ID number
	PayerBusiness = "business" // payer_id is a USCC
)

// NoticeItem is one charge on a notice. Amount is the line's total:
// UnitPrice × Quantity, in fen.
type NoticeItem struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	UnitPrice int64  `json:"unit_price"`
	Quantity  int    `json:"quantity"`
	Amount    int64  `json:"amount"`
}

// Notice is a payment notice (缴款通知书) as the API shows it.
type Notice struct {
	PaymentCode    string        `json:"payment_code"`
	PayerName      string        `json:"payer_name"`
	PayerID        string        `json:"payer_id"`
	PayerType      string        `json:"payer_type"`
	Agency         string        `json:"agency"`
	AgencyCode     string        `json:"agency_code"`
	Items          []NoticeItem  `json:"items"`
	Amount         int64         `json:"amount"` // sum of the items, fen
	IssuedAt       time.Time     `json:"issued_at"`
	DueAt          time.Time     `json:"due_at"`
	CaseNumber     string        `json:"case_number,omitempty"`
	Status         string        `json:"status"`
	PaidAmount     int64         `json:"paid_amount"`
	RefundedAmount int64         `json:"refunded_amount"`
	Confirmation   *Confirmation `json:"confirmation,omitempty"`
	Receipt        *Receipt      `json:"receipt,omitempty"`
	Refunds        []Refund      `json:"refunds,omitempty"`
	CancelledAt    *time.Time    `json:"cancelled_at,omitempty"`
	CancelReason   string        `json:"cancel_reason,omitempty"`
}

// notice is a notice's record; the mutex of the Server guards it.
type notice struct {
	Notice
}

// view copies the notice for callers outside the lock.
func (n *notice) view() Notice {
	v := n.Notice
	v.Items = slices.Clone(n.Items)
	v.Refunds = slices.Clone(n.Refunds)
	if n.Confirmation != nil {
		c := *n.Confirmation
		v.Confirmation = &c
	}
	if n.Receipt != nil {
		r := *n.Receipt
		v.Receipt = &r
	}
	if n.CancelledAt != nil {
		t := *n.CancelledAt
		v.CancelledAt = &t
	}
	return v
}

// IssueItem is one line of a notice to issue: a fee schedule code, the
// quantity (default 1) and, for charges the agency assesses (fines, 占用费),
// the unit price (default the schedule's standard). Name overrides the
// schedule's name on the notice (e.g. "赴港澳签注费（二次有效）").
type IssueItem struct {
	Code      string `json:"code"`
	Quantity  int    `json:"quantity,omitempty"`
	UnitPrice int64  `json:"unit_price,omitempty"`
	Name      string `json:"name,omitempty"`
}

// IssueRequest is a notice an agency issues.
type IssueRequest struct {
	PayerID    string      `json:"payer_id"` // ID number or USCC
	PayerName  string      `json:"payer_name"`
	Items      []IssueItem `json:"items"`
	DueDays    int         `json:"due_days,omitempty"` // days to pay, counted from today; 0 = DefaultDueDays
	CaseNumber string      `json:"case_number,omitempty"`
}

// Limits of IssueRequest.
const (
	maxItems      = 20
	maxQuantity   = 9999
	maxNoticeFen  = 100_000_000 * 100 // 1亿元, zwfw's payments.MaxFen
	maxDueDays    = 365
	maxNameRunes  = 100
	maxCaseNumber = 64
	maxRunNotices = 100000 // serials end in a 5-digit sequence per run
)

// payerType tells an ID number from a USCC and normalizes it; the error
// is PAYER_ID_INVALID.
func payerType(id string) (normalized, typ string, e *Error) {
	id = strings.TrimSpace(id)
	if n := pii.NormalizeIDNumber(id); pii.ValidateIDNumber(n) == nil {
		return n, PayerCitizen, nil
	}
	if n := pii.NormalizeUSCC(id); pii.ValidateUSCC(n) == nil {
		return n, PayerBusiness, nil
	}
	return "", "", errorf(http.StatusBadRequest, CodePayerIDInvalid, "缴款人证件号码应为有效的身份证号码或统一社会信用代码")
}

// Issue issues a notice as its collecting agency: the payer, items of one
// agency from the fee schedule and a due date at the end of the day
// DueDays from today (Asia/Shanghai). It returns PAYER_ID_INVALID,
// ITEM_UNKNOWN or PARAM_INVALID (*Error).
func (s *Server) Issue(req IssueRequest) (Notice, error) {
	n, e := s.issue(req, s.now())
	if e != nil {
		return Notice{}, e
	}
	return n, nil
}

func (s *Server) issue(req IssueRequest, now time.Time) (Notice, *Error) {
	payerID, typ, e := payerType(req.PayerID)
	if e != nil {
		return Notice{}, e
	}
	name := strings.TrimSpace(req.PayerName)
	if name == "" || utf8.RuneCountInString(name) > maxNameRunes {
		return Notice{}, invalid("缴款人名称不能为空且不超过%d个字", maxNameRunes)
	}
	if len(req.Items) == 0 || len(req.Items) > maxItems {
		return Notice{}, invalid("收费项目应为1至%d项", maxItems)
	}
	due := req.DueDays
	if due == 0 {
		due = DefaultDueDays
	}
	if due < 1 || due > maxDueDays {
		return Notice{}, invalid("缴款期限应为1至%d天", maxDueDays)
	}
	if len(req.CaseNumber) > maxCaseNumber {
		return Notice{}, invalid("办件编号不能超过%d个字符", maxCaseNumber)
	}
	var (
		items  []NoticeItem
		agency Agency
		total  int64
	)
	for i, it := range req.Items {
		fee, ok := FeeItemByCode(it.Code)
		if !ok {
			return Notice{}, errorf(http.StatusBadRequest, CodeItemUnknown, "收费项目编码 %q 不在收费目录中", it.Code)
		}
		if i == 0 {
			agency = fee.Agency
		} else if fee.Agency != agency {
			return Notice{}, invalid("一张缴款通知书只能包含同一执收单位的收费项目：%s 属于%s", fee.Name, fee.Agency.Name)
		}
		q := it.Quantity
		if q == 0 {
			q = 1
		}
		price := it.UnitPrice
		if price == 0 {
			price = fee.UnitPrice
		}
		if q < 1 || q > maxQuantity || price < 1 || price > maxNoticeFen {
			return Notice{}, invalid("第%d项的数量或单价无效", i+1)
		}
		label := fee.Name
		if n := strings.TrimSpace(it.Name); n != "" {
			if utf8.RuneCountInString(n) > maxNameRunes {
				return Notice{}, invalid("第%d项的名称过长", i+1)
			}
			label = n
		}
		amount := price * int64(q)
		total += amount
		if total > maxNoticeFen {
			return Notice{}, invalid("缴款金额超过上限")
		}
		items = append(items, NoticeItem{Code: fee.Code, Name: label, UnitPrice: price, Quantity: q, Amount: amount})
	}
	local := now.In(chinaTime)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, chinaTime)
	s.mu.Lock()
	if s.noticeSeq+1 >= maxRunNotices {
		s.mu.Unlock()
		return Notice{}, errorf(http.StatusServiceUnavailable, province.CodeServiceUnavailable, "本次运行的缴款码已用尽，请重启沙箱")
	}
	s.noticeSeq++
	rec := &notice{Notice: Notice{
		PaymentCode: s.newPaymentCode(agency.Division, local.Year(), s.noticeSeq),
		PayerName:   name, PayerID: payerID, PayerType: typ,
		Agency: agency.Name, AgencyCode: agency.Code,
		Items: items, Amount: total,
		IssuedAt:   local.Truncate(time.Second),
		DueAt:      day.AddDate(0, 0, due+1).Add(-time.Second), // 23:59:59 of the last day
		CaseNumber: strings.TrimSpace(req.CaseNumber),
		Status:     StatusUnpaid,
	}}
	s.notices[rec.PaymentCode] = rec
	s.order = append(s.order, rec.PaymentCode)
	v := rec.view()
	s.mu.Unlock()
	s.log.Info("nontax notice issued", "payment_code", v.PaymentCode, "payer", pii.IDNumber(payerID), "amount", total, "agency", agency.Name)
	return v, nil
}

// Cancel cancels an unpaid notice (the agency withdrew it, e.g. the case
// was rejected). It returns NOTICE_NOT_FOUND, or NOTICE_ALREADY_PAID for a
// paid or refunded notice (*Error); cancelling a cancelled notice is a
// no-op.
func (s *Server) Cancel(code, reason string) (Notice, error) {
	now := s.now().In(chinaTime).Truncate(time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notices[code]
	if !ok {
		return Notice{}, errorf(http.StatusNotFound, CodeNoticeNotFound, "缴款通知书不存在")
	}
	switch n.Status {
	case StatusPaid, StatusRefunded:
		return Notice{}, errorf(http.StatusConflict, CodeNoticeAlreadyPaid, "缴款通知书已缴款，不能作废")
	case StatusUnpaid:
		n.Status = StatusCancelled
		n.CancelledAt = &now
		n.CancelReason = strings.TrimSpace(reason)
		if n.CancelReason == "" {
			n.CancelReason = "执收单位作废"
		}
	}
	return n.view(), nil
}

// NoticeByCode returns one notice.
func (s *Server) NoticeByCode(code string) (Notice, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notices[code]
	if !ok {
		return Notice{}, false
	}
	return n.view(), true
}

// Notices returns the notices, oldest first: all of them when payerID is
// empty, else the payer's (an ID number or USCC, normalized); status
// filters when not empty.
func (s *Server) Notices(payerID, status string) []Notice {
	if payerID != "" {
		if id, _, e := payerType(payerID); e == nil {
			payerID = id
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Notice{}
	for _, code := range s.order {
		n := s.notices[code]
		if (payerID == "" || n.PayerID == payerID) && (status == "" || n.Status == status) {
			out = append(out, n.view())
		}
	}
	return out
}
