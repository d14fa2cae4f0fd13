package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/events"
	"zwfw/platform/jobs"
)

// EventTypes are the event types HandleEvent acts on (for ConsumerOptions.Types).
func EventTypes() []string {
	return []string{
		"booking.confirmed", "booking.rescheduled", "booking.no_show",
		"case.status_changed",
		"payment.notice_issued", "payment.succeeded", "payment.receipt_issued", "payment.refunded", "payment.duplicate_paid",
		"shipment.picked_up", "shipment.delivered", "shipment.exception",
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
	var data bson.M
	if len(e.Data) > 0 {
		if err := bson.Unmarshal(e.Data, &data); err != nil {
			s.log.Warn("event data unreadable; skipped", "seq", e.Seq, "type", e.Type, "err", err)
			return nil
		}
	}
	now := s.clock()
	plans := s.plansFor(e, data, now)
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

func (s *Service) plansFor(e events.Event, d bson.M, now time.Time) []plan {
	switch {
	case strings.HasPrefix(e.Type, "booking."):
		return bookingPlans(e, d)
	case e.Type == "case.status_changed":
		return s.casePlans(e, d, now)
	case strings.HasPrefix(e.Type, "payment."):
		return paymentPlans(e, d)
	case strings.HasPrefix(e.Type, "shipment."):
		return shipmentPlans(e, d)
	}
	return nil
}

// Shown formats.
const (
	showTime = "2006-01-02 15:04"
	showDate = "2006-01-02"
)

func bookingPlans(e events.Event, d bson.M) []plan {
	id := strings.TrimPrefix(e.Subject, "booking:")
	user := firstNonEmpty(str(d, "user_id"), e.Actor)
	start := timeOf(d, "slot_start")
	if id == "" || start.IsZero() {
		return nil
	}
	fields := map[string]string{"booking_id": id, "item": str(d, "item_code"), "hall": str(d, "hall_id"),
		"time": start.In(shanghai).Format(showTime), "number": str(d, "number")}
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
	case "booking.confirmed":
		return append([]plan{{rule: RuleBookingConfirmed, users: []string{user}, subject: e.Subject, fields: fields}}, reminders()...)
	case "booking.rescheduled":
		// New keys for the new slot; the old slot's jobs find the booking
		// moved (BookingActive is false for the old start) and cancel.
		return append([]plan{{rule: RuleBookingRescheduled, users: []string{user}, subject: slotKey, fields: fields}}, reminders()...)
	case "booking.no_show":
		return []plan{{rule: RuleBookingNoShow, users: []string{user}, subject: e.Subject, fields: fields}}
	}
	return nil
}

func (s *Service) casePlans(e events.Event, d bson.M, now time.Time) []plan {
	id := strings.TrimPrefix(e.Subject, "case:")
	user := firstNonEmpty(str(d, "user_id"), e.Actor)
	status := str(d, "status")
	fields := map[string]string{"case_id": id, "case_number": firstNonEmpty(str(d, "case_number"), "-"),
		"item": firstNonEmpty(str(d, "item_name"), str(d, "item_code")), "note": str(d, "note")}
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
		materials := strs(d, "materials")
		p := one(RuleCaseSupplement, e.Subject+"#"+shortHash(strings.Join(materials, "|")+"|"+str(d, "note")), "需补正", "需补正材料")
		p.fields["materials"] = firstNonEmpty(strings.Join(materials, "、"), str(d, "note"), "详见办件")
		p.fields["deadline"] = "尽快"
		if dl := timeOf(d, "deadline"); !dl.IsZero() {
			p.fields["deadline"] = dl.In(shanghai).Format(showDate)
		}
		return []plan{p}
	}
	return nil
}

func paymentPlans(e events.Event, d bson.M) []plan {
	code := firstNonEmpty(str(d, "payment_code"), strings.TrimPrefix(e.Subject, "payment:"))
	users := strs(d, "user_ids")
	if u := str(d, "user_id"); u != "" {
		users = append(users, u)
	}
	fields := map[string]string{"payment_code": code, "amount": yuan(int64Of(d, "amount_fen")),
		"agency": firstNonEmpty(str(d, "agency"), "政务服务"), "case_number": str(d, "case_number")}
	switch e.Type {
	case "payment.notice_issued":
		due := timeOf(d, "due_at")
		fields["due"] = "-"
		plans := []plan{{rule: RulePaymentNotice, users: users, subject: e.Subject, fields: fields}}
		if !due.IsZero() {
			fields["due"] = due.In(shanghai).Format(showDate)
			plans = append(plans, plan{rule: RulePaymentDue, users: users, subject: e.Subject, fields: fields,
				at: due.Add(-72 * time.Hour), check: &Check{Kind: checkPaymentOpen, Ref: code}, late: true})
		}
		return plans
	case "payment.succeeded":
		fields["status"], fields["note"] = "已缴费", "感谢您的缴纳"
		return []plan{{rule: RulePaymentPaid, users: users, subject: e.Subject, fields: fields}}
	case "payment.receipt_issued":
		fields["status"], fields["receipt_number"] = "已开票", str(d, "receipt_number")
		fields["note"] = "票据号" + str(d, "receipt_number")
		return []plan{{rule: RulePaymentReceipt, users: users, subject: e.Subject, fields: fields}}
	case "payment.refunded":
		fields["status"], fields["note"] = "已退费", str(d, "reason")
		return []plan{{rule: RulePaymentRefunded, users: users, subject: e.Subject + "#" + str(d, "refund_id"), fields: fields}}
	case "payment.duplicate_paid":
		fields["status"], fields["note"] = "自动退款", "重复付款将原路退回"
		return []plan{{rule: RulePaymentDuplicate, users: users, subject: e.Subject + "#" + str(d, "refund_id"), fields: fields}}
	}
	return nil
}

func shipmentPlans(e events.Event, d bson.M) []plan {
	user := str(d, "user_id")
	fields := map[string]string{"shipment_id": firstNonEmpty(str(d, "shipment_id"), strings.TrimPrefix(e.Subject, "shipment:")),
		"waybill": firstNonEmpty(str(d, "waybill_number"), "-"), "carrier": carrierName(str(d, "carrier")),
		"case_number": str(d, "case_number"), "note": str(d, "context")}
	switch e.Type {
	case "shipment.picked_up":
		fields["status"] = "已揽收"
		return []plan{{rule: RuleShipmentPickedUp, users: []string{user}, subject: e.Subject, fields: fields}}
	case "shipment.delivered":
		fields["status"] = "已签收"
		return []plan{{rule: RuleShipmentDelivered, users: []string{user}, subject: e.Subject, fields: fields}}
	case "shipment.exception":
		fields["status"] = "异常"
		fields["note"] = firstNonEmpty(fields["note"], "请联系快递公司")
		at := timeOf(d, "at")
		return []plan{{rule: RuleShipmentException, users: []string{user},
			subject: e.Subject + "@" + strconv.FormatInt(at.UnixMilli(), 10), fields: fields}}
	}
	return nil
}

// ScheduleLicenseReminders enqueues the 30- and 7-day renewal reminders of
// an e-licence expiring at expiresAt (sent at 10:00 those days). Call it
// whenever a licence is synced; it is idempotent per expiry date, and a
// renewed licence (new expiry) cancels the old reminders at send time.
func (s *Service) ScheduleLicenseReminders(ctx context.Context, userID, licenseID, name string, expiresAt time.Time) error {
	now := s.clock()
	local := expiresAt.In(shanghai)
	subject := "license:" + licenseID + "@" + local.Format(showDate)
	fields := map[string]string{"license_id": licenseID, "license": name, "expires": local.Format(showDate), "note": "请及时办理延续"}
	check := &Check{Kind: checkLicenseExpires, Ref: licenseID, At: expiresAt}
	for rule, days := range map[string]int{RuleLicenseExpiry30: 30, RuleLicenseExpiry7: 7} {
		at := time.Date(local.Year(), local.Month(), local.Day()-days, 10, 0, 0, 0, shanghai).UTC()
		if err := s.enqueuePlan(ctx, plan{rule: rule, users: []string{userID}, subject: subject, fields: fields,
			at: at, check: check, late: true}, now); err != nil {
			return err
		}
	}
	return nil
}

// --- small readers of event data ---

func str(d bson.M, k string) string {
	switch v := d[k].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func strs(d bson.M, k string) []string {
	var out []string
	switch v := d[k].(type) {
	case bson.A:
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func timeOf(d bson.M, k string) time.Time {
	switch v := d[k].(type) {
	case bson.DateTime:
		return v.Time().UTC()
	case time.Time:
		return v.UTC()
	case string:
		t, err := time.Parse(time.RFC3339, v)
		if err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func int64Of(d bson.M, k string) int64 {
	switch v := d[k].(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case float64:
		return int64(v)
	}
	return 0
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
