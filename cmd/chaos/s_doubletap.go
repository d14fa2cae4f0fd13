package main

import (
	"context"
	"fmt"
	"time"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/logistics"
	"zwfw/payments"
)

// runDoubleTap sends every money and slot write many times at the same
// moment, once under one Idempotency-Key (a phone retrying) and once
// under a key per copy (a real double tap), and counts the effects in the
// store and at the outside systems: one booking, one move, one
// cancellation, one order and one payment per notice on each channel, one
// refund, one pickup and one cancelled pickup at the courier, one province
// case, one supplement, one withdrawal and one evaluation at the province.
func runDoubleTap(ctx context.Context, d *deployment, short bool) []*scenario {
	copies := 20
	if short {
		copies = 10
	}
	dt := &doubleTap{d: d, short: short, copies: copies}
	admin, err := d.admin(ctx, newTally())
	if err != nil {
		s := newScenario("5 double tap", d, short)
		s.err = err
		return []*scenario{s}
	}
	dt.admin = admin
	dt.group(ctx, dt.bookings)
	dt.group(ctx, dt.pay)
	dt.group(ctx, dt.refund)
	dt.group(ctx, dt.cases)
	return dt.rows
}

type doubleTap struct {
	d      *deployment
	short  bool
	copies int
	admin  *person
	rows   []*scenario
	cur    []*scenario // rows of the running group
}

// row starts a table row for one route.
func (dt *doubleTap) row(route string) *scenario {
	s := newScenario("5 double tap "+route, dt.d, dt.short)
	dt.rows = append(dt.rows, s)
	dt.cur = append(dt.cur, s)
	return s
}

// group runs a family of routes; an error marks its rows.
func (dt *doubleTap) group(ctx context.Context, fn func(ctx context.Context) error) {
	dt.cur = nil
	t0 := time.Now()
	err := fn(ctx)
	for _, s := range dt.cur {
		s.took = time.Since(t0)
		if err != nil && s.err == nil {
			s.err = err
		}
	}
	if err != nil && len(dt.cur) == 0 {
		s := dt.row("(setup)")
		s.err = err
	}
}

// bookings: book, reschedule and cancel, two rounds (one key, then a key
// per copy); after each volley the slots' counters equal the bookings
// holding places.
func (dt *doubleTap) bookings(ctx context.Context) error {
	d := dt.d
	book, move, cancel := dt.row("POST /bookings"), dt.row("POST /bookings/{id}/reschedule"), dt.row("POST /bookings/{id}/cancel")
	h, err := d.setupHall(ctx, dt.admin, 2*dt.copies)
	if err != nil {
		return err
	}
	p, err := d.citizen(ctx, book.t, "tapper")
	if err != nil {
		return err
	}
	var ids []string
	for round, same := range []bool{true, false} {
		prefix := fmt.Sprintf("r%d", round)
		answers := p.tap(ctx, book.t, "POST", "/bookings", map[string]string{"hall_id": h.hall, "item_code": h.item, "slot_start": h.slots[0]},
			prefix+"-book", dt.copies, same)
		won, ok := tapOutcome(book, "POST /bookings", answers, same, false, "409 BOOKING_DUPLICATE_ITEM")
		if !ok {
			return fmt.Errorf("no booking made")
		}
		id, _ := won.m()["id"].(string)
		ids = append(ids, id)
		if err := dt.slotCounters(ctx, book, h); err != nil {
			return err
		}
		to := h.slots[1+round]
		answers = p.tap(ctx, move.t, "POST", "/bookings/"+id+"/reschedule", map[string]string{"slot_start": to}, prefix+"-move", dt.copies, same)
		tapOutcome(move, "POST /bookings/{id}/reschedule", answers, same, false, "409 BOOKING_STATE_CONFLICT")
		if err := dt.slotCounters(ctx, move, h); err != nil {
			return err
		}
		answers = p.tap(ctx, cancel.t, "POST", "/bookings/"+id+"/cancel", nil, prefix+"-cancel", dt.copies, same)
		tapOutcome(cancel, "POST /bookings/{id}/cancel", answers, same, false, "409 BOOKING_STATE_CONFLICT")
		if err := dt.slotCounters(ctx, cancel, h); err != nil {
			return err
		}
	}
	if err := d.settle(ctx, 60*time.Second, true); err != nil {
		book.note("%v", err)
	}
	rows, err := bookingRows(ctx, d.store)
	if err != nil {
		return err
	}
	mine := 0
	for _, r := range rows {
		if r.UserID == p.userID {
			mine++
		}
	}
	book.count("bookings stored, one per round", max(0, 2-mine), max(0, mine-2), "%d bookings for 2 rounds", mine)
	per := eventCount(auditLog(ctx, book))
	confirmed, moved, cancelled := map[string]int{}, map[string]int{}, map[string]int{}
	for _, id := range ids {
		confirmed[id] = per[bookingSubject(id)][booking.EventConfirmed]
		moved[id] = per[bookingSubject(id)][booking.EventRescheduled]
		cancelled[id] = per[bookingSubject(id)][booking.EventCancelled]
	}
	exactlyOnce(book, "booking.confirmed events per booking", confirmed)
	exactlyOnce(move, "booking.rescheduled events per booking", moved)
	exactlyOnce(cancel, "booking.cancelled events per booking", cancelled)
	return nil
}

// slotCounters compares each slot's counter with the confirmed bookings
// in it: a place counted and not held is lost, a place held twice is
// duplicated.
func (dt *doubleTap) slotCounters(ctx context.Context, s *scenario, h hallSetup) error {
	counters, err := all[booking.SlotCounter](ctx, dt.d.store, booking.SlotCountersCollection, nil)
	if err != nil {
		return err
	}
	list, err := all[booking.Booking](ctx, dt.d.store, booking.BookingsCollection, nil)
	if err != nil {
		return err
	}
	held := map[int64]int{}
	for _, b := range list {
		if b.HallID == h.hall && b.ItemCode == h.item && b.Status == booking.StatusConfirmed {
			held[b.SlotStart.Unix()]++
		}
	}
	lost, dup, slots := 0, 0, 0
	for _, c := range counters {
		if c.HallID != h.hall || c.ItemCode != h.item {
			continue
		}
		slots++
		n := held[c.Start.Unix()]
		lost += max(0, n-c.Taken) // places handed out that the counter does not hold: overbooking
		dup += max(0, c.Taken-n)  // places the counter holds for no booking
	}
	s.count("slot counters against bookings", lost, dup, "%d slots", slots)
	return nil
}

// pay: each channel, one notice, a volley under one key then one under a
// key per copy; every success carries the notice's one order. The payer
// then pays with every set of parameters handed out: the channel takes
// the money once.
func (dt *doubleTap) pay(ctx context.Context) error {
	d := dt.d
	for _, ch := range payChannels {
		s := dt.row("POST /payments/{id}/pay " + ch)
		p, err := d.citizen(ctx, s.t, "payer")
		if err != nil {
			return err
		}
		code, amount, err := d.notice(ctx, p)
		if err != nil {
			return err
		}
		handed := map[string]payAnswer{}
		for _, same := range []bool{true, false} {
			answers := p.tap(ctx, s.t, "POST", "/payments/"+code+"/pay", map[string]string{"channel": ch}, "pay-"+code, dt.copies, same)
			tapOutcome(s, "pay", answers, same, true)
			for _, r := range answers {
				var a payAnswer
				if r.ok() && r.json(&a) == nil {
					handed[string(r.body)] = a
				}
			}
		}
		orders := map[string]bool{}
		for _, a := range handed {
			orders[a.OrderID] = true
			_ = d.payAtChannel(ctx, a, "send") // a second set is refused by the channel: paid already
		}
		s.guarantee("one order handed out", len(orders) == 1, "%d distinct orders in %d distinct answers", len(orders), len(handed))
		if err := waitUntil(ctx, 60*time.Second, "the notice paid", func() (bool, error) {
			st, err := p.paymentStatus(ctx, code)
			return st == "paid", err
		}); err != nil {
			s.note("%v", err)
		}
		if err := d.settle(ctx, 60*time.Second, true); err != nil {
			s.note("%v", err)
		}
		if err := dt.countPaid(ctx, s, code, amount); err != nil {
			return err
		}
	}
	return nil
}

// countPaid: one order of the notice in zwfw, the money in once at the
// channel and at the non-tax platform, one payment.succeeded event.
func (dt *doubleTap) countPaid(ctx context.Context, s *scenario, code string, amount int64) error {
	d := dt.d
	orders, err := all_[orderRow](ctx, s, payments.OrdersCollection)
	if err != nil {
		return err
	}
	var in int64
	n := 0
	for _, o := range orders {
		if o.PaymentID != code {
			continue
		}
		n++
		i, _, err := d.channelMoney(ctx, o.ID)
		if err != nil {
			return err
		}
		in += i
	}
	s.count("orders per notice (zwfw)", max(0, 1-n), max(0, n-1), "%d", n)
	countMoney(s, "money in at the channel", money{code: {in, amount}})
	paid, _, _, err := d.nontaxMoney(ctx, code)
	if err != nil {
		return err
	}
	countMoney(s, "payment booked at the non-tax platform", money{code: {paid, amount}})
	per := eventCount(auditLog(ctx, s))
	exactlyOnce(s, "payment.succeeded events", map[string]int{code: per[paymentSubject(code)][payments.EventSucceeded]})
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// refund: two paid notices (WeChat Pay and Alipay), a full refund of each
// tapped, one under one key, one under a key per copy: one refund each,
// the money back once at the channel and at the non-tax platform.
func (dt *doubleTap) refund(ctx context.Context) error {
	d := dt.d
	s := dt.row("POST /admin/payments/{id}/refund")
	admin := &person{d: d, t: s.t, name: dt.admin.name, ip: dt.admin.ip, token: dt.admin.token}
	type paid struct {
		code   string
		amount int64
		order  string
	}
	var list []paid
	for i, ch := range []string{"wechat_app", "alipay_app"} {
		p, err := d.citizen(ctx, s.t, "refunded")
		if err != nil {
			return err
		}
		code, amount, err := d.notice(ctx, p)
		if err != nil {
			return err
		}
		r, err := p.want(ctx, 200, "POST", "/payments/"+code+"/pay", map[string]string{"channel": ch}, "pay-"+code)
		if err != nil {
			return err
		}
		var a payAnswer
		if err := r.json(&a); err != nil {
			return err
		}
		if err := d.payAtChannel(ctx, a, "send"); err != nil {
			return err
		}
		if err := waitUntil(ctx, 60*time.Second, "the notice paid", func() (bool, error) {
			st, err := p.paymentStatus(ctx, code)
			return st == "paid", err
		}); err != nil {
			return err
		}
		same := i == 0
		answers := admin.tap(ctx, s.t, "POST", "/admin/payments/"+code+"/refund", map[string]any{"reason": "办件不予受理，退还费用"}, "refund-"+code, dt.copies, same)
		tapOutcome(s, "refund", answers, same, false, "400 PAYMENT_REFUND_AMOUNT_INVALID", "409 PAYMENT_NOT_PAID")
		list = append(list, paid{code, amount, a.OrderID})
		_ = waitUntil(ctx, 60*time.Second, "the refund", func() (bool, error) {
			st, err := p.paymentStatus(ctx, code)
			return st == "refunded", err
		})
	}
	_ = waitUntil(ctx, 60*time.Second, "the refunds registered at the non-tax platform", func() (bool, error) {
		for _, x := range list {
			_, ref, _, err := d.nontaxMoney(ctx, x.code)
			if err != nil || ref == 0 {
				return false, err
			}
		}
		return true, nil
	})
	if err := d.settle(ctx, 60*time.Second, true); err != nil {
		s.note("%v", err)
	}
	refunds, err := all_[refundRow](ctx, s, payments.RefundsCollection)
	if err != nil {
		return err
	}
	per := eventCount(auditLog(ctx, s))
	stored, evs := map[string]int{}, map[string]int{}
	back, nontax := money{}, money{}
	for _, x := range list {
		for _, r := range refunds {
			if r.PaymentID == x.code && r.Status == "succeeded" {
				stored[x.code]++
			}
		}
		_, out, err := d.channelMoney(ctx, x.order)
		if err != nil {
			return err
		}
		back[x.code] = [2]int64{out, x.amount}
		_, ref, _, err := d.nontaxMoney(ctx, x.code)
		if err != nil {
			return err
		}
		nontax[x.code] = [2]int64{ref, x.amount}
		evs[x.code] = per[paymentSubject(x.code)][payments.EventRefunded]
	}
	exactlyOnce(s, "refunds per notice (zwfw)", stored)
	countMoney(s, "money back at the channels", back)
	countMoney(s, "refunds booked at the non-tax platform", nontax)
	exactlyOnce(s, "payment.refunded events", evs)
	return nil
}

// cases: submit, the pickup of the materials and its cancellation,
// supplement, withdrawal and evaluation, each tapped on two cases (one
// key, a key per copy).
func (dt *doubleTap) cases(ctx context.Context) error {
	d := dt.d
	submit := dt.row("POST /cases/{id}/submit")
	subs, g, err := drafts(ctx, submit, 8, "applicant")
	if err != nil {
		return err
	}
	// submit: cases 0 and 1 tapped; the others submitted once, for the later routes.
	for i, sub := range subs {
		if i < 2 {
			answers := sub.p.tap(ctx, submit.t, "POST", "/cases/"+sub.caseID+"/submit", nil, "submit-"+sub.caseID, dt.copies, i == 0)
			tapOutcome(submit, "submit", answers, i == 0, false, "409 CASE_NOT_DRAFT")
			continue
		}
		if _, err := sub.p.want(ctx, 202, "POST", "/cases/"+sub.caseID+"/submit", nil, "submit-"+sub.caseID); err != nil {
			return err
		}
	}
	numbers, err := d.waitStatus(ctx, subs, "", 90*time.Second)
	if err != nil {
		return err
	}
	if err := d.settle(ctx, 60*time.Second, false); err != nil {
		submit.note("%v", err)
	}
	countSubmissions(ctx, submit, subs[:2], auditLog(ctx, submit))

	if err := dt.shipments(ctx, subs[:2]); err != nil {
		return err
	}
	if err := dt.caseActions(ctx, subs[2:], numbers[2:], g); err != nil {
		return err
	}
	return nil
}

// shipments: a pickup of the materials tapped on each of two cases, then
// its cancellation.
func (dt *doubleTap) shipments(ctx context.Context, subs []submission) error {
	d := dt.d
	create, cancel := dt.row("POST /cases/{id}/shipments"), dt.row("POST /shipments/{id}/cancel")
	body := map[string]any{"direction": "to_hall", "address": pickupAddress, "pickup_window": tomorrowWindow()}
	var ids []string
	for i, sub := range subs {
		answers := sub.p.tap(ctx, create.t, "POST", "/cases/"+sub.caseID+"/shipments", body, "pickup-"+sub.caseID, dt.copies, i == 0)
		won, ok := tapOutcome(create, "shipment", answers, i == 0, false, "409 SHIPMENT_PICKUP_EXISTS")
		if !ok {
			return fmt.Errorf("no shipment made")
		}
		id, _ := won.m()["id"].(string)
		ids = append(ids, id)
	}
	shipmentsOf := func() (map[string]shipmentRow, error) {
		rows, err := shipmentRows(ctx, d.store)
		out := map[string]shipmentRow{}
		for _, r := range rows {
			out[r.ID] = r
		}
		return out, err
	}
	if err := waitUntil(ctx, 60*time.Second, "the courier to book the pickups", func() (bool, error) {
		rows, err := shipmentsOf()
		for _, id := range ids {
			if rows[id].Waybill == "" {
				return false, err
			}
		}
		return true, err
	}); err != nil {
		return err
	}
	for i, id := range ids {
		answers := subs[i].p.tap(ctx, cancel.t, "POST", "/shipments/"+id+"/cancel", nil, "cancel-"+id, dt.copies, i == 0)
		tapOutcome(cancel, "cancel", answers, i == 0, false, "409 SHIPMENT_ALREADY_CANCELLED")
	}
	if err := d.settle(ctx, 60*time.Second, true); err != nil {
		create.note("%v", err)
	}
	rows, err := shipmentRows(ctx, d.store)
	if err != nil {
		return err
	}
	perCase := map[string]int{}
	var mine []shipmentRow
	for _, sub := range subs {
		perCase[sub.caseID] = 0
	}
	for _, r := range rows {
		if _, ok := perCase[r.CaseID]; ok && r.Direction == string(logistics.ToHall) {
			perCase[r.CaseID]++
			mine = append(mine, r)
		}
	}
	exactlyOnce(create, "pickups per case (zwfw)", perCase)
	if err := countCourierOrders(ctx, create, mine); err != nil {
		return err
	}
	var orders []struct {
		Kuaidinum string `json:"kuaidinum"`
		Status    string `json:"status"`
	}
	if err := d.sb(ctx, "GET", "/sandbox/courier/orders", nil, &orders); err != nil {
		return err
	}
	cancelled, created, cancelEvents := map[string]int{}, map[string]int{}, map[string]int{}
	per := eventCount(auditLog(ctx, create))
	for _, r := range mine {
		cancelled[r.ID] = 0
		for _, o := range orders {
			if o.Kuaidinum == r.Waybill && o.Status == "cancelled" {
				cancelled[r.ID]++
			}
		}
		created[r.ID] = per[shipmentSubject(r.ID)][logistics.EventCreated]
		cancelEvents[r.ID] = per[shipmentSubject(r.ID)][logistics.EventCancelled]
	}
	exactlyOnce(create, "shipment.created events", created)
	exactlyOnce(cancel, "pickups cancelled at the courier", cancelled)
	exactlyOnce(cancel, "shipment.cancelled events", cancelEvents)
	return nil
}

// caseActions: supplement (cases 0, 1), withdrawal (2, 3) and evaluation
// (4, 5) of submitted cases, each counted in the province's history.
func (dt *doubleTap) caseActions(ctx context.Context, subs []submission, numbers []string, g guide) error {
	d := dt.d
	supp, wd, eval := dt.row("POST /cases/{id}/supplement"), dt.row("POST /cases/{id}/withdraw"), dt.row("POST /cases/{id}/evaluation")
	slot := g.Materials[0].ID
	for i := 0; i < 2; i++ {
		if err := d.sb(ctx, "POST", "/sandbox/province/cases/"+numbers[i]+"/advance",
			map[string]any{"status": "supplement_requested", "note": "复印件不清晰", "materials": []string{slot}}, nil); err != nil {
			return err
		}
		if err := d.advance(ctx, numbers[4+i], "accepted", ""); err != nil {
			return err
		}
		if err := d.advance(ctx, numbers[4+i], "completed_approved", "electronic"); err != nil {
			return err
		}
	}
	if _, err := d.waitStatus(ctx, subs[:2], "supplement_requested", 60*time.Second); err != nil {
		return err
	}
	if _, err := d.waitStatus(ctx, subs[4:6], "completed_approved", 60*time.Second); err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		same := i == 0
		sub := subs[i]
		if err := sub.p.upload(ctx, sub.caseID, slot); err != nil {
			return err
		}
		answers := sub.p.tap(ctx, supp.t, "POST", "/cases/"+sub.caseID+"/supplement", map[string]string{"note": "已补正"}, "supp-"+sub.caseID, dt.copies, same)
		tapOutcome(supp, "supplement", answers, same, false, "409 CASE_ACTION_IN_PROGRESS", "409 CASE_STATE_CONFLICT")
		sub = subs[2+i]
		answers = sub.p.tap(ctx, wd.t, "POST", "/cases/"+sub.caseID+"/withdraw", map[string]string{"reason": "材料有误"}, "wd-"+sub.caseID, dt.copies, same)
		tapOutcome(wd, "withdraw", answers, same, false, "409 CASE_ACTION_IN_PROGRESS", "409 CASE_STATE_CONFLICT")
		sub = subs[4+i]
		answers = sub.p.tap(ctx, eval.t, "POST", "/cases/"+sub.caseID+"/evaluation", map[string]any{"level": 5, "comment": "很方便"}, "eval-"+sub.caseID, dt.copies, same)
		tapOutcome(eval, "evaluation", answers, same, false, "409 EVALUATION_EXISTS")
	}
	// The evaluation reaches the province by a job.
	_ = waitUntil(ctx, 60*time.Second, "the evaluations at the province", func() (bool, error) {
		pcs, err := d.provinceCases(ctx)
		n := 0
		for _, pc := range pcs {
			if (pc.CaseNumber == numbers[4] || pc.CaseNumber == numbers[5]) && pc.Evaluation != nil {
				n++
			}
		}
		return n == 2, err
	})
	if err := d.settle(ctx, 60*time.Second, true); err != nil {
		supp.note("%v", err)
	}
	pcs, err := d.provinceCases(ctx)
	if err != nil {
		return err
	}
	byNumber := map[string]provinceCase{}
	for _, pc := range pcs {
		byNumber[pc.CaseNumber] = pc
	}
	var stats struct {
		Paths map[string]int `json:"paths"`
	}
	if err := d.sb(ctx, "GET", "/sandbox/province/stats", nil, &stats); err != nil {
		return err
	}
	per := eventCount(auditLog(ctx, supp))
	resub, resubEv, withdrawn, wdEv, evaluated, reports, evalEv := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for i := 0; i < 2; i++ {
		a, b, c := subs[i].caseID, subs[2+i].caseID, subs[4+i].caseID
		resub[a] = byNumber[numbers[i]].historyCount("resubmitted")
		resubEv[a] = per[caseSubject(a)][cases.EventStatusChanged+"/resubmitted"]
		withdrawn[b] = byNumber[numbers[2+i]].historyCount("withdrawn")
		wdEv[b] = per[caseSubject(b)][cases.EventStatusChanged+"/withdrawn"]
		evaluated[c] = b2i(byNumber[numbers[4+i]].Evaluation != nil)
		reports[c] = stats.Paths["POST /api/cases/"+numbers[4+i]+"/evaluation"]
		evalEv[c] = per[caseSubject(c)][cases.EventEvaluated]
	}
	exactlyOnce(supp, "resubmissions in the province's history", resub)
	exactlyOnce(supp, "resubmitted events", resubEv)
	exactlyOnce(wd, "withdrawals in the province's history", withdrawn)
	exactlyOnce(wd, "withdrawn events", wdEv)
	exactlyOnce(eval, "evaluations at the province", evaluated)
	exactlyOnce(eval, "evaluation reports sent to the province", reports)
	exactlyOnce(eval, "case.evaluated events", evalEv)
	return nil
}
