package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/notify"
	"zwfw/payments"
)

// runNotifyStorm pays notices on each channel with the channel's notify
// held back, then sends that notify — exactly as WeChat Pay and Alipay
// signed it, taken from the sandbox's record — many times at once; then,
// after a refund, the refund notifies and the paid notifies again, all
// shuffled (a refund notify before a late copy of the paid one). Each
// notice must be paid once and refunded once: one paid order, the money
// in and out once at the channel and at the non-tax platform, one event
// and one reminder of each.
func runNotifyStorm(ctx context.Context, d *deployment, short bool) []*scenario {
	s := newScenario("4 notify storm (WeChat Pay, Alipay)", d, short)
	t0 := time.Now()
	if err := notifyStorm(ctx, s); err != nil {
		s.err = err
	}
	s.took = time.Since(t0)
	return []*scenario{s}
}

// stormed is a notice paid on one channel, with the notifies to replay.
type stormed struct {
	p       *person
	code    string
	amount  int64
	pay     payAnswer
	paid    request
	refund  request
	wechat  bool
	orderID string
}

func notifyStorm(ctx context.Context, s *scenario) error {
	d := s.d
	perChannel, copies := 2, 30
	if s.short {
		perChannel, copies = 1, 15
	}
	admin, err := d.admin(ctx, s.t)
	if err != nil {
		return err
	}
	var all []*stormed
	for _, ch := range payChannels {
		for i := 0; i < perChannel; i++ {
			p, err := d.citizen(ctx, s.t, "payer")
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
			all = append(all, &stormed{p: p, code: code, amount: amount, pay: a, wechat: strings.HasPrefix(ch, "wechat"), orderID: a.OrderID})
		}
	}
	// Everyone pays; the channels hold the paid notifies back.
	for _, st := range all {
		if err := d.payAtChannel(ctx, st.pay, "drop"); err != nil {
			return err
		}
		if st.paid, err = d.heldNotify(ctx, st, "paid"); err != nil {
			return err
		}
	}
	var storm []request
	for _, st := range all {
		for i := 0; i < copies; i++ {
			storm = append(storm, st.paid)
		}
	}
	rand.Shuffle(len(storm), func(i, j int) { storm[i], storm[j] = storm[j], storm[i] })
	d.progress("%d payments made; %d copies of their paid notifies at once", len(all), len(storm))
	stormStart := time.Now()
	d.notifyVolley(ctx, s.t, storm)
	if err := waitUntil(ctx, 60*time.Second, "every notice paid", func() (bool, error) {
		return d.allStatus(ctx, all, "paid")
	}); err != nil {
		return err
	}
	s.recovered = time.Since(stormStart)

	// Refunds, their notifies held back at WeChat Pay (Alipay sends its
	// own at once; its copies come again in the second storm).
	if err := d.sb(ctx, "POST", "/sandbox/wechatpay/notify-mode", map[string]string{"notify": "drop"}, nil); err != nil {
		return err
	}
	for _, st := range all {
		if _, err := admin.want(ctx, 202, "POST", "/admin/payments/"+st.code+"/refund", map[string]any{"reason": "重复缴费，全额退回"}, "refund-"+st.code); err != nil {
			return err
		}
	}
	if err := waitUntil(ctx, 60*time.Second, "the channels' refund notifies", func() (bool, error) {
		for _, st := range all {
			if st.refund.url != "" {
				continue
			}
			r, err := d.heldNotify(ctx, st, "refund")
			if err != nil {
				return false, nil
			}
			st.refund = r
		}
		return true, nil
	}); err != nil {
		return err
	}
	storm = storm[:0]
	for _, st := range all {
		for i := 0; i < copies; i++ {
			storm = append(storm, st.refund, st.paid)
		}
	}
	rand.Shuffle(len(storm), func(i, j int) { storm[i], storm[j] = storm[j], storm[i] })
	d.progress("refunds made; %d copies of refund and paid notifies, shuffled, at once", len(storm))
	d.notifyVolley(ctx, s.t, storm)
	if err := waitUntil(ctx, 90*time.Second, "every notice refunded", func() (bool, error) {
		return d.allStatus(ctx, all, "refunded")
	}); err != nil {
		s.note("%v", err)
	}
	// The non-tax platform hears of each refund by a job.
	_ = waitUntil(ctx, 60*time.Second, "the refunds registered at the non-tax platform", func() (bool, error) {
		for _, st := range all {
			_, refunded, _, err := d.nontaxMoney(ctx, st.code)
			if err != nil || refunded < st.amount {
				return false, err
			}
		}
		return true, nil
	})
	if err := d.settle(ctx, 60*time.Second, true); err != nil {
		s.note("%v", err)
	}
	return countPayments(ctx, s, all)
}

// heldNotify finds the notify the channel recorded for the order (kind
// "paid" or "refund") and makes the request that delivers it.
func (d *deployment) heldNotify(ctx context.Context, st *stormed, kind string) (request, error) {
	if st.wechat {
		var list []struct {
			Kind       string `json:"kind"`
			OutTradeNo string `json:"out_trade_no"`
			URL        string `json:"url"`
			Body       string `json:"body"`
		}
		if err := d.sb(ctx, "GET", "/sandbox/wechatpay/notifies", nil, &list); err != nil {
			return request{}, err
		}
		for _, n := range list {
			if n.Kind == kind && n.OutTradeNo == st.orderID {
				return request{method: "POST", url: n.URL, body: []byte(n.Body), ctype: "text/xml"}, nil
			}
		}
		return request{}, fmt.Errorf("no %s notify of %s at WeChat Pay", kind, st.orderID)
	}
	var list []struct {
		Kind string            `json:"kind"`
		URL  string            `json:"url"`
		Form map[string]string `json:"form"`
	}
	if err := d.sb(ctx, "GET", "/sandbox/alipay/notifies?out_trade_no="+st.orderID, nil, &list); err != nil {
		return request{}, err
	}
	want := map[string]string{"paid": "payment", "refund": "refund"}[kind]
	for _, n := range list {
		if n.Kind == want {
			form := url.Values{}
			for k, v := range n.Form {
				form.Set(k, v)
			}
			return request{method: "POST", url: n.URL, body: []byte(form.Encode()), ctype: "application/x-www-form-urlencoded"}, nil
		}
	}
	return request{}, fmt.Errorf("no %s notify of %s at Alipay", kind, st.orderID)
}

// notifyVolley sends the notifies all at once; an answer other than the
// channel's "received" is filed in the tally as the channel's refusal.
func (d *deployment) notifyVolley(ctx context.Context, t *tally, reqs []request) {
	answers := d.volley(ctx, newTally(), reqs)
	for i, r := range answers {
		wechat := reqs[i].ctype == "text/xml"
		okBody := wechat && strings.Contains(string(r.body), "SUCCESS") || !wechat && strings.TrimSpace(string(r.body)) == "success"
		switch {
		case r.err != nil || r.status/100 != 2:
			t.record(r)
		case !okBody:
			t.recordKey(fmt.Sprintf("%d notify not acknowledged", r.status))
		default:
			t.record(r)
		}
	}
}

func (d *deployment) allStatus(ctx context.Context, all []*stormed, status string) (bool, error) {
	for _, st := range all {
		got, err := st.p.paymentStatus(ctx, st.code)
		if err != nil || got != status {
			return false, err
		}
	}
	return true, nil
}

// countPayments counts, per notice: paid orders and refunds in zwfw's
// store, money in and out at the channel and at the non-tax platform,
// the payment events and the payer's reminders.
func countPayments(ctx context.Context, s *scenario, all []*stormed) error {
	d := s.d
	log := auditLog(ctx, s)
	per := eventCount(log)
	orders, err := all_[orderRow](ctx, s, payments.OrdersCollection)
	if err != nil {
		return err
	}
	refunds, err := all_[refundRow](ctx, s, payments.RefundsCollection)
	if err != nil {
		return err
	}
	via := map[string]int{}
	for _, o := range orders {
		if o.Status == "paid" {
			via[o.PaidVia]++
		}
	}
	s.note("orders learnt paid through: %v (the channels held their own notifies back, so a \"notify\" here is a storm copy)", via)
	paidOrders, refundRows := map[string]int{}, map[string]int{}
	moneyIn, moneyOut, nontaxIn, nontaxOut := money{}, money{}, money{}, money{}
	succeeded, refunded := map[string]int{}, map[string]int{}
	var want []reminderKey
	var total, back int64
	for _, st := range all {
		paidOrders[st.code] = 0
		for _, o := range orders {
			if o.PaymentID == st.code && o.Status == "paid" {
				paidOrders[st.code]++
			}
		}
		refundRows[st.code] = 0
		for _, r := range refunds {
			if r.PaymentID == st.code && r.Status == "succeeded" {
				refundRows[st.code]++
			}
		}
		in, out, err := d.channelMoney(ctx, st.orderID)
		if err != nil {
			return err
		}
		total, back = total+in, back+out
		moneyIn[st.code] = [2]int64{in, st.amount}
		moneyOut[st.code] = [2]int64{out, st.amount}
		paid, ref, _, err := d.nontaxMoney(ctx, st.code)
		if err != nil {
			return err
		}
		nontaxIn[st.code] = [2]int64{paid, st.amount}
		nontaxOut[st.code] = [2]int64{ref, st.amount}
		subject := paymentSubject(st.code)
		succeeded[st.code] = per[subject][payments.EventSucceeded]
		refunded[st.code] = per[subject][payments.EventRefunded]
		want = append(want, reminderKey{st.p.userID, notify.RulePaymentPaid, subject}, reminderKey{st.p.userID, notify.RulePaymentRefunded, subject + "#"})
	}
	exactlyOnce(s, "paid orders per notice (zwfw)", paidOrders)
	exactlyOnce(s, "refunds per notice (zwfw)", refundRows)
	countMoney(s, "money in at the channels", moneyIn)
	countMoney(s, "money back at the channels", moneyOut)
	countMoney(s, "payments booked at the non-tax platform", nontaxIn)
	countMoney(s, "refunds booked at the non-tax platform", nontaxOut)
	exactlyOnce(s, "payment.succeeded events per notice", succeeded)
	exactlyOnce(s, "payment.refunded events per notice", refunded)
	auditReminders(ctx, s, want)
	s.note("%d notices; the channels took %s and gave back %s", len(all), moneyText(total), moneyText(back))
	dupPaid := 0
	for _, st := range all {
		dupPaid += per[paymentSubject(st.code)][payments.EventDuplicatePaid]
	}
	s.count("payment.duplicate_paid events (a second payment)", 0, dupPaid, "%d", dupPaid)
	return nil
}

// money is what was moved for each notice, against the notice's amount.
type money map[string][2]int64 // code -> {sum, amount}

// countMoney files a notice whose money never moved as lost and each
// further whole amount as duplicated; a sum that is no whole number of
// notices (a wrong amount) fails the check outright.
func countMoney(s *scenario, what string, m money) {
	lost, dup := 0, 0
	var odd []string
	var total int64
	for code, v := range m {
		sum, amount := v[0], v[1]
		total += sum
		switch {
		case amount <= 0 || sum%amount != 0:
			odd = append(odd, fmt.Sprintf("%s: %s of %s", code, moneyText(sum), moneyText(amount)))
		case sum == 0:
			lost++
		case sum > amount:
			dup += int(sum/amount) - 1
		}
	}
	s.count(what, lost, dup, "%s over %d notices", moneyText(total), len(m))
	if len(odd) > 0 {
		s.guarantee(what+" in whole notice amounts", false, "%s", listed(odd))
	}
}

func all_[T any](ctx context.Context, s *scenario, coll string) ([]T, error) {
	return all[T](ctx, s.d.store, coll, bson.D{})
}
