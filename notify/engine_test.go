package notify_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/notify"
	"zwfw/platform/jobs"
)

const tmplConfirmed = "tmpl_booking_confirmed"
const tmplReminder = "tmpl_booking_reminder"

// A booking made at 10:00 for the day after tomorrow, 09:30.
var (
	day0     = time.Date(2026, 11, 24, 10, 0, 0, 0, cst)
	slotTime = time.Date(2026, 11, 26, 9, 30, 0, 0, cst)
)

func TestDuplicatedEventsSendOnce(t *testing.T) {
	e := newEnv(t, day0)
	e.runner(e.svc, "r1")
	e.subscribe("u1", tmplConfirmed, 3)
	e.world.set("b1", slotTime)
	ev := e.event("booking.confirmed", "booking:b1", "u1", bookingData("u1", slotTime))
	for range 3 {
		e.handle(e.svc, ev)
	}
	ev2 := ev
	ev2.Seq = 99 // the same fact appended twice (a retried Append)
	e.handle(e.svc, ev2)
	e.settle()
	if n := e.countSends(notify.ChannelWeChat, tmplConfirmed); n != 1 {
		t.Fatalf("wechat sends = %d, want 1 (%+v)", n, e.ch.all())
	}
	m := e.message("u1", notify.RuleBookingConfirmed, "booking:b1")
	if m.State != notify.StateSent || m.Channel != notify.ChannelWeChat || !m.Inbox {
		t.Fatalf("message = %+v", m)
	}
	if m.Fields["hall"] != "市民中心政务服务大厅" || m.Fields["note"] != "请携带身份证" {
		t.Fatalf("not enriched: %v", m.Fields)
	}
	// Two consents were left on our side; WeChat's counter agrees.
	list, _ := e.svc.Templates(context.Background(), "u1")
	for _, ti := range list {
		if ti.TemplateID == tmplConfirmed && ti.Remaining != 2 {
			t.Fatalf("remaining consents = %d, want 2", ti.Remaining)
		}
	}
}

func TestTwoReplicasNoDuplicates(t *testing.T) {
	e := newEnv(t, day0)
	svc2 := e.newService("replica-2")
	const n = 12
	for i := range n {
		e.ppl[fmt.Sprintf("p%d", i)] = notify.Recipient{Phone: fmt.Sprintf("139001390%02d", i)}
	}
	e.runner(e.svc, "r1")
	e.runner(svc2, "r2")
	for i := range n {
		id := fmt.Sprintf("p%d", i)
		ev := e.event("payment.notice_issued", "payment:"+id, "nontax", map[string]any{
			"payment_code": id, "amount_fen": int64(1250), "agency": "市场监督管理局", "user_ids": []string{id}})
		var wg sync.WaitGroup
		for _, s := range []*notify.Service{e.svc, svc2, e.svc, svc2} {
			wg.Go(func() { e.handle(s, ev) })
		}
		wg.Wait()
	}
	e.settle()
	if got := e.countSends(notify.ChannelSMS, notify.SMSPaymentNotice); got != n {
		t.Fatalf("sms sends = %d, want %d", got, n)
	}

	// Even two different jobs for one message (e.g. a deferral and the
	// original) racing on two replicas send once: the message lease decides.
	ev := e.event("payment.notice_issued", "payment:race", "nontax", map[string]any{
		"payment_code": "race", "amount_fen": int64(100), "user_ids": []string{"u2"}})
	e.handle(e.svc, ev)
	e.settle()
	before := len(e.ch.all())
	id := notify.DedupID("u2", notify.RulePaymentNotice, "payment:race")
	j, err := e.queue.Get(context.Background(), jobs.JobID(notify.JobSend, id))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, s := range []*notify.Service{e.svc, svc2, e.svc, svc2} {
		jj := j
		jj.ID = fmt.Sprintf("%s#%d", j.ID, i)
		wg.Go(func() { _ = s.Dispatch(context.Background(), &jj) })
	}
	wg.Wait()
	if got := len(e.ch.all()); got != before {
		t.Fatalf("re-dispatching a sent message sent %d more", got-before)
	}
}

func TestConcurrentFirstDispatchSendsOnce(t *testing.T) {
	e := newEnv(t, day0)
	svc2 := e.newService("replica-2")
	ev := e.event("payment.succeeded", "payment:c1", "system", map[string]any{
		"payment_code": "c1", "amount_fen": int64(100), "user_id": "u1"})
	e.handle(e.svc, ev)
	id := notify.DedupID("u1", notify.RulePaymentPaid, "payment:c1")
	j, err := e.queue.Get(context.Background(), jobs.JobID(notify.JobSend, id))
	if err != nil {
		t.Fatal(err)
	}
	// u1 has no WeChat consent and payment.paid is not important enough
	// for SMS: with a device, push is the one channel. Race four dispatchers.
	if _, err := e.svc.RegisterDevice(context.Background(), "u1", "1a0018970a8d2c5e3f1", "android"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, s := range []*notify.Service{e.svc, svc2, e.svc, svc2} {
		jj := j
		jj.ID = fmt.Sprintf("%s#%d", j.ID, i)
		jj.Attempts, jj.MaxAttempts = 1, 15
		wg.Go(func() { _ = s.Dispatch(context.Background(), &jj) })
	}
	wg.Wait()
	if got := e.countSends(notify.ChannelPush, ""); got != 1 {
		t.Fatalf("push sends = %d, want 1", got)
	}
}

func TestQuietHoursDefer(t *testing.T) {
	night := time.Date(2026, 11, 24, 23, 30, 0, 0, cst)
	tests := []struct {
		name     string
		typ      string
		data     map[string]any
		rule     string
		subject  string
		wantNow  notify.Channel // channel at night ("" = nothing)
		wantMorn notify.Channel
	}{
		{"non-urgent waits for 08:00", "payment.succeeded",
			map[string]any{"payment_code": "q1", "amount_fen": int64(100), "user_id": "u1"},
			notify.RulePaymentPaid, "", "", notify.ChannelPush},
		{"urgent goes by push at night", "shipment.exception",
			map[string]any{"user_id": "u1", "waybill_number": "SF1234567890", "carrier": "shunfeng", "context": "地址不详", "at": night},
			notify.RuleShipmentException, "", notify.ChannelPush, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, night)
			e.runner(e.svc, "r1")
			if _, err := e.svc.RegisterDevice(context.Background(), "u1", "1a0018970a8d2c5e3f1", "ios"); err != nil {
				t.Fatal(err)
			}
			e.handle(e.svc, e.event(tc.typ, "x:1", "system", tc.data))
			e.settle()
			if got := len(e.ch.all()); (tc.wantNow == "") != (got == 0) {
				t.Fatalf("sends at night = %d, want channel %q", got, tc.wantNow)
			}
			if tc.wantMorn == "" {
				return
			}
			m := e.message("u1", tc.rule, tc.subject+"x:1")
			if m.State != notify.StateDeferred || m.DeferredUntil == nil || !m.DeferredUntil.Equal(time.Date(2026, 11, 25, 8, 0, 0, 0, cst)) {
				t.Fatalf("not deferred to 08:00: %+v", m)
			}
			e.clock.Set(time.Date(2026, 11, 25, 7, 59, 0, 0, cst))
			e.settle()
			if len(e.ch.all()) != 0 {
				t.Fatal("sent before the end of quiet hours")
			}
			e.clock.Set(time.Date(2026, 11, 25, 8, 0, 0, 0, cst))
			e.settle()
			if got := e.countSends(tc.wantMorn, ""); got != 1 {
				t.Fatalf("morning sends on %s = %d, want 1", tc.wantMorn, got)
			}
		})
	}
}

func TestDayBeforeReminderAt1800(t *testing.T) {
	e := newEnv(t, day0)
	e.runner(e.svc, "r1")
	e.subscribe("u1", tmplReminder, 2)
	e.world.set("b1", slotTime)
	e.handle(e.svc, e.event("booking.confirmed", "booking:b1", "u1", bookingData("u1", slotTime)))
	e.settle()
	// The confirmation had no consent for its template and u1 no device:
	// it went by SMS (an important rule).
	if got := e.countSends(notify.ChannelSMS, notify.SMSBookingConfirmed); got != 1 {
		t.Fatalf("confirmation sms = %d, want 1", got)
	}
	// A restart at 17:59: a new replica, nothing in memory.
	e.clock.Set(time.Date(2026, 11, 25, 17, 59, 0, 0, cst))
	fresh := e.newService("after-restart")
	e.runner(fresh, "r-restart")
	e.settle()
	if got := e.countSends(notify.ChannelWeChat, tmplReminder); got != 0 {
		t.Fatalf("reminder sent before 18:00")
	}
	e.clock.Set(time.Date(2026, 11, 25, 18, 0, 0, 0, cst))
	e.settle()
	if got := e.countSends(notify.ChannelWeChat, tmplReminder); got != 1 {
		t.Fatalf("reminders at 18:00 = %d, want 1", got)
	}
	// And the one-hour reminder at 08:30 on the day.
	e.clock.Set(time.Date(2026, 11, 26, 8, 30, 0, 0, cst))
	e.settle()
	if got := e.countSends(notify.ChannelWeChat, tmplReminder); got != 2 {
		t.Fatalf("reminders after 08:30 = %d, want 2", got)
	}
}

func TestCancelledOrMovedBookingNoReminder(t *testing.T) {
	e := newEnv(t, day0)
	e.runner(e.svc, "r1")
	e.subscribe("u1", tmplReminder, 5)
	e.world.set("b1", slotTime)
	e.handle(e.svc, e.event("booking.confirmed", "booking:b1", "u1", bookingData("u1", slotTime)))
	e.world.set("b2", slotTime)
	e.handle(e.svc, e.event("booking.confirmed", "booking:b2", "u1", bookingData("u1", slotTime)))
	e.settle()

	e.world.cancel("b1") // cancelled
	moved := slotTime.Add(24 * time.Hour)
	e.world.set("b2", moved) // rescheduled a day later
	e.handle(e.svc, e.event("booking.rescheduled", "booking:b2", "u1", bookingData("u1", moved)))

	e.clock.Set(time.Date(2026, 11, 25, 18, 0, 0, 0, cst))
	e.settle()
	if got := e.countSends(notify.ChannelWeChat, tmplReminder); got != 0 {
		t.Fatalf("reminders for a cancelled/moved booking: %d", got)
	}
	m := e.message("u1", notify.RuleBookingTomorrow, fmt.Sprintf("booking:b1@%d", slotTime.Unix()))
	if m.State != notify.StateCancelled || m.Inbox {
		t.Fatalf("cancelled reminder = %+v", m)
	}
	e.clock.Set(time.Date(2026, 11, 26, 18, 0, 0, 0, cst))
	e.settle()
	if got := e.countSends(notify.ChannelWeChat, tmplReminder); got != 1 {
		t.Fatalf("reminders for the new slot = %d, want 1", got)
	}
}

func TestConsentConsumedThenFallback(t *testing.T) {
	e := newEnv(t, day0)
	e.runner(e.svc, "r1")
	e.subscribe("u1", "tmpl_payment_notice", 1)
	for _, id := range []string{"n1", "n2"} {
		e.handle(e.svc, e.event("payment.notice_issued", "payment:"+id, "nontax", map[string]any{
			"payment_code": id, "amount_fen": int64(5000), "user_ids": []string{"u1"}}))
		e.settle()
	}
	first := e.message("u1", notify.RulePaymentNotice, "payment:n1")
	second := e.message("u1", notify.RulePaymentNotice, "payment:n2")
	if first.Channel != notify.ChannelWeChat || second.Channel != notify.ChannelSMS {
		t.Fatalf("channels = %s, %s; want wechat then sms", first.Channel, second.Channel)
	}
	if len(second.Attempts) == 0 || second.Attempts[0].Outcome != notify.OutcomeNoConsent {
		t.Fatalf("second attempts = %+v", second.Attempts)
	}
	if d := e.ch.all()[0].Data; d["amount2"] != "¥50.00" || d["character_string1"] != "n1" {
		t.Fatalf("wechat data = %v", d)
	}
}

func TestWeChatRefusalRecordedNotRetried(t *testing.T) {
	e := newEnv(t, day0)
	e.runner(e.svc, "r1")
	// Our side thinks there is a consent; WeChat says 43101.
	if _, err := e.svc.Subscribe(context.Background(), "u1", []string{"tmpl_payment_notice"}, map[string]string{"tmpl_payment_notice": "accept"}); err != nil {
		t.Fatal(err)
	}
	e.handle(e.svc, e.event("payment.notice_issued", "payment:r1", "nontax", map[string]any{
		"payment_code": "r1", "amount_fen": int64(5000), "user_ids": []string{"u1"}}))
	e.settle()
	m := e.message("u1", notify.RulePaymentNotice, "payment:r1")
	if m.Channel != notify.ChannelSMS || m.Attempts[0].Outcome != notify.OutcomeNoConsent {
		t.Fatalf("message = %+v", m)
	}
	list, _ := e.svc.Templates(context.Background(), "u1")
	for _, ti := range list {
		if ti.TemplateID == "tmpl_payment_notice" && ti.Remaining != 0 {
			t.Fatalf("consent not cleared after 43101: %d", ti.Remaining)
		}
	}
}

func TestChannelDownBackoffThenFallback(t *testing.T) {
	e := newEnv(t, day0)
	e.runner(e.svc, "r1")
	e.subscribe("u1", "tmpl_payment_notice", 1)
	e.ch.setFail(notify.ChannelWeChat, fmt.Errorf("%w: connection refused", notify.ErrTemporary))
	e.handle(e.svc, e.event("payment.notice_issued", "payment:d1", "nontax", map[string]any{
		"payment_code": "d1", "amount_fen": int64(5000), "user_ids": []string{"u1"}}))
	for i := range 3 {
		e.settle()
		e.clock.Set(day0.Add(time.Duration(i+1) * time.Minute)) // the runner's backoff is 1 min
	}
	e.settle()
	m := e.message("u1", notify.RulePaymentNotice, "payment:d1")
	if m.State != notify.StateSent || m.Channel != notify.ChannelSMS {
		t.Fatalf("message = %+v", m)
	}
	temps := 0
	for _, a := range m.Attempts {
		if a.Channel == notify.ChannelWeChat && a.Outcome == notify.OutcomeTemporary {
			temps++
		}
	}
	if temps != 3 {
		t.Fatalf("wechat temporary attempts = %d, want 3 (%+v)", temps, m.Attempts)
	}
	// The consent was given back each time: it is still there for next time.
	list, _ := e.svc.Templates(context.Background(), "u1")
	for _, ti := range list {
		if ti.TemplateID == "tmpl_payment_notice" && ti.Remaining != 1 {
			t.Fatalf("consent = %d, want 1", ti.Remaining)
		}
	}
}

func TestAllChannelsDownIsFailedForAdmins(t *testing.T) {
	e := newEnv(t, day0)
	e.runner(e.svc, "r1")
	e.ch.setFail(notify.ChannelSMS, errors.New("isv.SMS_SIGNATURE_ILLEGAL"))
	e.handle(e.svc, e.event("shipment.exception", "shipment:s1", "courier", map[string]any{
		"user_id": "u1", "waybill_number": "SF1", "carrier": "shunfeng", "context": "破损", "at": day0}))
	e.settle()
	failed, _, err := e.svc.Failed(context.Background(), "")
	if err != nil || len(failed) != 1 || failed[0].RuleID != notify.RuleShipmentException {
		t.Fatalf("failed = %+v, %v", failed, err)
	}
	inbox, _, _ := e.svc.Inbox(context.Background(), "u1", "")
	if len(inbox) != 1 || inbox[0].Body == "" {
		t.Fatalf("inbox = %+v", inbox)
	}
	if _, err := e.svc.MarkRead(context.Background(), "u1", inbox[0].PublicID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.MarkRead(context.Background(), "u2", inbox[0].PublicID); !errors.Is(err, notify.ErrNotFound) {
		t.Fatalf("another user's message: %v", err)
	}
}

func TestRateLimitPerChannel(t *testing.T) {
	e := newEnv(t, day0)
	svc := notify.NewService(notify.Deps{Store: e.store, Queue: e.queue, SMS: smsFake{e.ch}, Recipients: e.ppl,
		Lookups: e.world, Now: e.clock.Now, Limits: notify.Limits{PerChannelPerDay: map[notify.Channel]int{notify.ChannelSMS: 2}}})
	e.runner(svc, "r1")
	for i := range 4 {
		id := fmt.Sprintf("l%d", i)
		e.handle(svc, e.event("payment.notice_issued", "payment:"+id, "nontax", map[string]any{
			"payment_code": id, "amount_fen": int64(100), "user_ids": []string{"u2"}}))
	}
	e.settle()
	if got := e.countSends(notify.ChannelSMS, ""); got != 2 {
		t.Fatalf("sms = %d, want 2 (limit)", got)
	}
	inbox, _, _ := svc.Inbox(context.Background(), "u2", "")
	if len(inbox) != 4 {
		t.Fatalf("inbox = %d, want 4", len(inbox))
	}
}

func TestSettingsAndQuietWindow(t *testing.T) {
	e := newEnv(t, day0)
	ctx := context.Background()
	set, err := e.svc.Settings(ctx, "u1")
	if err != nil || !set.Quiet.Enabled || set.Quiet.Start != "22:00" {
		t.Fatalf("defaults = %+v, %v", set, err)
	}
	_, err = e.svc.PutSettings(ctx, "u1", notify.Settings{Channels: map[notify.Kind][]notify.Channel{"payment": {"fax"}},
		Quiet: notify.QuietHours{Enabled: true, Start: "25:00", End: "08:00"}})
	if !errors.Is(err, notify.ErrInvalidSettings) {
		t.Fatalf("invalid settings accepted: %v", err)
	}
	// Payment reminders by SMS only: the WeChat consent is left alone.
	if _, err := e.svc.PutSettings(ctx, "u1", notify.Settings{Channels: map[notify.Kind][]notify.Channel{"payment": {"sms"}}}); err != nil {
		t.Fatal(err)
	}
	e.runner(e.svc, "r1")
	e.subscribe("u1", "tmpl_payment_notice", 1)
	e.handle(e.svc, e.event("payment.notice_issued", "payment:s1", "nontax", map[string]any{
		"payment_code": "s1", "amount_fen": int64(100), "user_ids": []string{"u1"}}))
	e.settle()
	if e.countSends(notify.ChannelWeChat, "") != 0 || e.countSends(notify.ChannelSMS, "") != 1 {
		t.Fatalf("sends = %+v", e.ch.all())
	}

	q := notify.QuietHours{Enabled: true, Start: "22:00", End: "08:00"}
	for _, tc := range []struct {
		at    time.Time
		quiet bool
		until time.Time
	}{
		{time.Date(2026, 1, 1, 21, 59, 0, 0, cst), false, time.Time{}},
		{time.Date(2026, 1, 1, 22, 0, 0, 0, cst), true, time.Date(2026, 1, 2, 8, 0, 0, 0, cst)},
		{time.Date(2026, 1, 2, 3, 0, 0, 0, cst), true, time.Date(2026, 1, 2, 8, 0, 0, 0, cst)},
		{time.Date(2026, 1, 2, 8, 0, 0, 0, cst), false, time.Time{}},
	} {
		until, quiet := q.Until(tc.at)
		if quiet != tc.quiet || !until.Equal(tc.until) {
			t.Errorf("Until(%s) = %s, %v", tc.at, until, quiet)
		}
	}
}

// A reminder scheduled for a person who was since merged into another (the
// same citizen's app and mini-program accounts became one) reaches the
// survivor: its message is in the survivor's inbox, never under the
// absorbed id that nobody reads any more.
func TestReminderForAMergedPersonReachesTheSurvivor(t *testing.T) {
	e := newEnv(t, day0)
	e.runner(e.svc, "r1")
	survivor := e.ppl["u1"]
	survivor.UserID = "u1"
	e.ppl["u-absorbed"] = survivor // identity follows the merge to u1
	e.subscribe("u1", tmplConfirmed, 1)
	e.world.set("b9", slotTime)
	e.handle(e.svc, e.event("booking.confirmed", "booking:b9", "u-absorbed", bookingData("u-absorbed", slotTime)))
	e.settle()
	m := e.message("u1", notify.RuleBookingConfirmed, "booking:b9")
	if m.UserID != "u1" || m.State != notify.StateSent {
		t.Fatalf("the survivor's message: %+v", m)
	}
	n, err := e.db.Collection(notify.MessagesCollection).CountDocuments(context.Background(), bson.D{{Key: "user_id", Value: "u-absorbed"}})
	if err != nil || n != 0 {
		t.Fatalf("%d messages under the absorbed id (%v)", n, err)
	}
}
