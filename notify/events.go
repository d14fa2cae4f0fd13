package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/logistics"
	"zwfw/payments"
	"zwfw/platform/events"
	"zwfw/platform/jobs"
	"zwfw/rectify"
)

// EventTypes are the event types HandleEvent acts on (for ConsumerOptions.Types).
func EventTypes() []string {
	return []string{
		booking.EventConfirmed, booking.EventRescheduled, booking.EventNoShow,
		cases.EventStatusChanged,
		payments.EventNoticeIssued, payments.EventSucceeded, payments.EventReceiptIssued, payments.EventRefunded, payments.EventDuplicatePaid,
		logistics.EventPickedUp, logistics.EventDelivered, logistics.EventException,
		rectify.EventReplied,
	}
}

// sendAttempts bounds the runs of one send job: channel retries for three
// channels plus room for a lost lease.
const sendAttempts = 15

// Check kinds: what a scheduled reminder re-reads before it goes out.
const (
	checkBookingActive    = "booking_active"
	checkPaymentOpen      = "payment_open"
	checkCaseUnchanged    = "case_unchanged"
	checkCaseNotEvaluated = "case_not_evaluated"
	checkLicenseExpires   = "license_expires"
)

// Check is the condition a scheduled reminder re-checks through Lookups.
type Check struct {
	Kind   string    `bson:"kind"`
	Ref    string    `bson:"ref"`
	At     time.Time `bson:"at,omitempty"`
	Status string    `bson:"status,omitempty"`
}

// sendPayload is the JobSend payload.
type sendPayload struct {
	UserID  string            `bson:"user_id"`
	RuleID  string            `bson:"rule_id"`
	Subject string            `bson:"subject"`
	Fields  map[string]string `bson:"fields"`
	Check   *Check            `bson:"check,omitempty"`
}

// plan is one rule firing for some users.
type plan struct {
	rule    string
	users   []string
	subject string
	fields  map[string]string
	at      time.Time // zero: now
	check   *Check
	// late: a reminder whose time has passed is pointless (skip it).
	late bool
}

// HandleEvent is the events.Handler of the ConsumerName consumer: it maps
// the event to rules and users and enqueues one JobSend per message, keyed
// by the message's dedup id, so a duplicated or replayed event enqueues
// nothing new. Unknown events and events without a recipient are ignored;
// an error (the queue is down) makes the consumer retry the event.
func (s *Service) HandleEvent(ctx context.Context, e events.Event) error {
	now := s.clock()
	plans, err := s.plansFor(e, now)
	if err != nil {
		// A payload that does not decode into its domain's struct is a bug
		// upstream; retrying cannot fix it.
		s.log.Warn("event data unreadable; skipped", "seq", e.Seq, "type", e.Type, "err", err)
		return nil
	}
	for _, p := range plans {
		if err := s.enqueuePlan(ctx, p, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) enqueuePlan(ctx context.Context, p plan, now time.Time) error {
	r, ok := s.rules[p.rule]
	if !ok || r.Disabled {
		return nil
	}
	if p.late && !p.at.IsZero() && p.at.Before(now) {
		return nil
	}
	if p.at.IsZero() {
		// Explicit, so that the job is due by the service's clock (the
		// queue's own clock is the wall's).
		p.at = now
	}
	for _, u := range p.users {
		if u == "" {
			continue
		}
		payload := sendPayload{UserID: u, RuleID: p.rule, Subject: p.subject, Fields: p.fields, Check: p.check}
		id := DedupID(u, p.rule, p.subject)
		if _, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobSend, Key: id, Payload: payload,
			RunAt: p.at, MaxAttempts: sendAttempts}); err != nil {
			return fmt.Errorf("notify: enqueue %s: %w", id, err)
		}
	}
	return nil
}

// plansFor decodes the event into its domain's payload struct and maps it
// to reminder plans.
func (s *Service) plansFor(e events.Event, now time.Time) ([]plan, error) {
	switch e.Type {
	case booking.EventConfirmed, booking.EventRescheduled, booking.EventNoShow:
		var d booking.Details
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		return bookingPlans(e, d), nil
	case cases.EventStatusChanged:
		var d cases.StatusChanged
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		return s.casePlans(e, d, now), nil
	case payments.EventNoticeIssued:
		var d payments.NoticeIssued
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		return noticePlans(e, d), nil
	case payments.EventSucceeded, payments.EventReceiptIssued, payments.EventRefunded, payments.EventDuplicatePaid:
		return paymentPlans(e)
	case logistics.EventPickedUp, logistics.EventDelivered, logistics.EventException:
		var d logistics.StateChanged
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		return shipmentPlans(e, d), nil
	case rectify.EventReplied:
		var d rectify.Replied
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		// Each reply once: the subject numbers it.
		return []plan{{rule: RuleRectifyReply, users: []string{d.UserID}, subject: e.Subject + "#" + strconv.Itoa(d.N),
			fields: map[string]string{"case_id": d.CaseID, "case_number": firstNonEmpty(d.CaseNumber, "-"), "item": d.ItemName,
				"status": "已答复", "note": d.Reply, "reply": d.Reply}}}, nil
	}
	return nil, nil
}

// Shown formats.
const (
	showTime = "2006-01-02 15:04"
	showDate = "2006-01-02"
)

func bookingPlans(e events.Event, d booking.Details) []plan {
	id := strings.TrimPrefix(e.Subject, "booking:")
	user := firstNonEmpty(d.UserID, e.Actor)
	start := d.SlotStart
	if id == "" || start.IsZero() {
		return nil
	}
	fields := map[string]string{"booking_id": id, "item": d.ItemCode, "hall": d.HallID,
		"time": start.In(shanghai).Format(showTime), "number": d.Number}
	slotKey := e.Subject + "@" + strconv.FormatInt(start.Unix(), 10)
	active := &Check{Kind: checkBookingActive, Ref: id, At: start}
	reminders := func() []plan {
		local := start.In(shanghai)
		eve := time.Date(local.Year(), local.Month(), local.Day()-1, 18, 0, 0, 0, shanghai).UTC()
		return []plan{
			{rule: RuleBookingTomorrow, users: []string{user}, subject: slotKey, fields: fields, at: eve, check: active, late: true},
			{rule: RuleBookingSoon, users: []string{user}, subject: slotKey, fields: fields, at: start.Add(-time.Hour), check: active, late: true},
		}
	}
	switch e.Type {
	case booking.EventConfirmed:
		return append([]plan{{rule: RuleBookingConfirmed, users: []string{user}, subject: e.Subject, fields: fields}}, reminders()...)
	case booking.EventRescheduled:
		// New keys for the new slot; the old slot's jobs find the booking
		// moved (BookingActive is false for the old start) and cancel.
		return append([]plan{{rule: RuleBookingRescheduled, users: []string{user}, subject: slotKey, fields: fields}}, reminders()...)
	case booking.EventNoShow:
		return []plan{{rule: RuleBookingNoShow, users: []string{user}, subject: e.Subject, fields: fields}}
	}
	return nil
}

func (s *Service) casePlans(e events.Event, d cases.StatusChanged, now time.Time) []plan {
	id := strings.TrimPrefix(e.Subject, "case:")
	user := firstNonEmpty(d.UserID, e.Actor)
	status := d.Status
	fields := map[string]string{"case_id": id, "case_number": firstNonEmpty(d.CaseNumber, "-"),
		"item": firstNonEmpty(d.ItemName, d.ItemCode), "note": d.Note}
	one := func(rule, subject, phrase, text string) plan {
		f := clone(fields)
		f["status"], f["status_text"] = phrase, text
		return plan{rule: rule, users: []string{user}, subject: subject, fields: f}
	}
	switch status {
	case "accepted":
		p := one(RuleCaseAccepted, e.Subject, "已受理", "已受理")
		r := one(RuleCaseReassure, e.Subject, "办理中", "正在办理")
		r.at = now.Add(s.rules[RuleCaseReassure].After)
		r.check = &Check{Kind: checkCaseUnchanged, Ref: id, Status: status, At: now}
		return []plan{p, r}
	case "completed_approved", "completed_denied":
		text := "已办结（准予许可）"
		if status == "completed_denied" {
			text = "已办结（不予许可）"
		}
		p := one(RuleCaseCompleted, e.Subject, "已办结", text)
		ev := one(RuleCaseEvaluate, e.Subject, "已办结", text)
		ev.at = now.Add(s.rules[RuleCaseEvaluate].After)
		ev.check = &Check{Kind: checkCaseNotEvaluated, Ref: id}
		if ev.fields["note"] == "" {
			ev.fields["note"] = "欢迎评价本次服务"
		}
		return []plan{p, ev}
	case "rejected_at_intake":
		return []plan{one(RuleCaseRejected, e.Subject, "不予受理", "不予受理")}
	case "supplement_requested":
		// The materials by their guide names (ids only from events written
		// before the names were), the clerk's note and the deadline.
		names := d.MaterialNames
		if len(names) == 0 {
			names = d.Materials
		}
		p := one(RuleCaseSupplement, e.Subject+"#"+shortHash(strings.Join(d.Materials, "|")+"|"+d.Note), "需补正", "需补正材料")
		p.fields["materials"] = firstNonEmpty(strings.Join(names, "、"), "详见办件")
		p.fields["deadline"] = "办件详情所示期限"
		if d.SupplementDue != nil {
			p.fields["deadline"] = d.SupplementDue.In(shanghai).Format(showDate)
		}
		p.fields["note_line"] = ""
		if d.Note != "" {
			p.fields["note_line"] = "补正说明：" + d.Note
		}
		return []plan{p}
	}
	return nil
}

func paymentFields(code string, amount payments.Fen, agency, caseNumber string) map[string]string {
	return map[string]string{"payment_code": code, "amount": yuan(int64(amount)),
		"agency": firstNonEmpty(agency, "政务服务"), "case_number": caseNumber}
}

func noticePlans(e events.Event, d payments.NoticeIssued) []plan {
	code := firstNonEmpty(d.PaymentCode, strings.TrimPrefix(e.Subject, "payment:"))
	fields := paymentFields(code, d.Amount, d.Agency, d.CaseNumber)
	fields["due"] = "-"
	plans := []plan{{rule: RulePaymentNotice, users: d.UserIDs, subject: e.Subject, fields: fields}}
	if !d.DueAt.IsZero() {
		fields["due"] = d.DueAt.In(shanghai).Format(showDate)
		plans = append(plans, plan{rule: RulePaymentDue, users: d.UserIDs, subject: e.Subject, fields: fields,
			at: d.DueAt.Add(-72 * time.Hour), check: &Check{Kind: checkPaymentOpen, Ref: code}, late: true})
	}
	return plans
}

// paymentPlans maps the events of a paid notice; each tells the user who paid.
func paymentPlans(e events.Event) ([]plan, error) {
	subjectCode := strings.TrimPrefix(e.Subject, "payment:")
	one := func(rule, subject, user string, fields map[string]string) []plan {
		return []plan{{rule: rule, users: []string{user}, subject: subject, fields: fields}}
	}
	switch e.Type {
	case payments.EventSucceeded:
		var d payments.Succeeded
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		f := paymentFields(firstNonEmpty(d.PaymentCode, subjectCode), d.Amount, "", d.CaseNumber)
		f["status"], f["note"] = "已缴费", "感谢您的缴纳"
		return one(RulePaymentPaid, e.Subject, d.UserID, f), nil
	case payments.EventReceiptIssued:
		var d payments.ReceiptIssued
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		f := paymentFields(firstNonEmpty(d.PaymentCode, subjectCode), d.Amount, "", "")
		f["status"], f["receipt_number"], f["note"] = "已开票", d.ReceiptNumber, "票据号"+d.ReceiptNumber
		return one(RulePaymentReceipt, e.Subject, d.UserID, f), nil
	case payments.EventRefunded:
		var d payments.Refunded
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		f := paymentFields(firstNonEmpty(d.PaymentCode, subjectCode), d.Amount, "", "")
		f["status"], f["note"] = "已退费", d.Reason
		return one(RulePaymentRefunded, e.Subject+"#"+d.RefundID, d.UserID, f), nil
	case payments.EventDuplicatePaid:
		var d payments.DuplicatePaid
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		f := paymentFields(firstNonEmpty(d.PaymentCode, subjectCode), d.Amount, "", d.CaseNumber)
		f["status"], f["note"] = "自动退款", "重复付款将原路退回"
		return one(RulePaymentDuplicate, e.Subject+"#"+d.RefundID, d.UserID, f), nil
	}
	return nil, nil
}

func shipmentPlans(e events.Event, d logistics.StateChanged) []plan {
	fields := map[string]string{"shipment_id": firstNonEmpty(d.ShipmentID, strings.TrimPrefix(e.Subject, "shipment:")),
		"waybill": firstNonEmpty(d.WaybillNumber, "-"), "carrier": carrierName(d.Carrier),
		"case_number": d.CaseNumber, "note": d.Context}
	one := func(rule, subject, status string) []plan {
		fields["status"] = status
		return []plan{{rule: rule, users: []string{d.UserID}, subject: subject, fields: fields}}
	}
	switch e.Type {
	case logistics.EventPickedUp:
		return one(RuleShipmentPickedUp, e.Subject, "已揽收")
	case logistics.EventDelivered:
		return one(RuleShipmentDelivered, e.Subject, "已签收")
	case logistics.EventException:
		fields["note"] = firstNonEmpty(fields["note"], "请联系快递公司")
		return one(RuleShipmentException, e.Subject+"@"+strconv.FormatInt(d.At.UnixMilli(), 10), "异常")
	}
	return nil
}

// yuan formats fen as "¥12.50" (WeChat's amount type accepts it).
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, fen/100, fen%100)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// carrierName shows common courier codes by name.
func carrierName(code string) string {
	names := map[string]string{"shunfeng": "顺丰速运", "sf": "顺丰速运", "ems": "中国邮政EMS", "youzhengguonei": "中国邮政",
		"jd": "京东物流", "zhongtong": "中通快递", "yuantong": "圆通速递", "yunda": "韵达快递", "shentong": "申通快递"}
	if n, ok := names[strings.ToLower(code)]; ok {
		return n
	}
	return firstNonEmpty(code, "快递公司")
}
