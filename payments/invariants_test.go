package payments

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/invariants"
	"zwfw/platform/jobs"
)

// Drift a crash or a stray write can leave, found by the check, repaired by
// it, and not found again.
func TestInvariantRepairsPaymentTotals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	paidFor := func(amount Fen) (string, PayResult) {
		code := e.notice("u1", amount)
		res := e.pay("u1", code, WeChatApp)
		if _, err := e.svc.HandleNotify(ctx, WeChatPay, InboundNotify{Body: e.wx.pay(t, res.Order.ID, amount)}); err != nil {
			t.Fatal(err)
		}
		return code, res
	}
	set := func(code string, fields bson.D) {
		if _, err := e.store.payments.UpdateOne(ctx, bson.D{{Key: "_id", Value: code}}, bson.D{{Key: "$set", Value: fields}}); err != nil {
			t.Fatal(err)
		}
	}

	// 1. A settled refund whose money never moved, and a wrong paid amount.
	refunded, _ := paidFor(1000)
	r, err := e.svc.RequestRefund(ctx, RefundApplication{PaymentID: refunded, Amount: 400, Reason: "多收", Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runJob(JobRefund, r.ID, e.svc.HandleRefund); err != nil {
		t.Fatal(err)
	}
	set(refunded, bson.D{{Key: "refunded", Value: 0}, {Key: "refunding", Value: 400}, {Key: "settled_refunds", Value: bson.A{}},
		{Key: "status", Value: StatusPaid}, {Key: "paid_amount", Value: 999}})

	// 2. A paid order whose payment was never marked paid (a crash in between).
	unsettledCode := e.notice("u1", 700)
	unsettled := e.pay("u1", unsettledCode, WeChatApp)
	e.wx.pay(t, unsettled.Order.ID, 700)
	if ok, err := e.store.MarkOrderPaid(ctx, unsettled.Order.ID, Trade{TransactionID: "TX-CRASH", PaidAt: e.clock.Now()}, "notify"); !ok || err != nil {
		t.Fatal(ok, err)
	}

	// 3. A reservation whose refund was never stored (a crash in between), an hour ago.
	reserved, _ := paidFor(500)
	p, _ := e.store.Payment(ctx, reserved)
	if ok, err := e.store.ReserveRefund(ctx, reserved, p.Version, 200, e.clock.Now()); !ok || err != nil {
		t.Fatal(ok, err)
	}
	e.clock.Add(time.Hour)

	// 4. A pending refund without its job.
	jobless, _ := paidFor(300)
	p, _ = e.store.Payment(ctx, jobless)
	if ok, err := e.store.ReserveRefund(ctx, jobless, p.Version, 300, e.clock.Now()); !ok || err != nil {
		t.Fatal(ok, err)
	}
	o, _ := e.store.Order(ctx, p.PaidOrder)
	if _, _, err := e.store.InsertRefund(ctx, Refund{ID: "RF-JOBLESS", PaymentID: jobless, OrderID: o.ID, Provider: o.Provider,
		TransactionID: o.TransactionID, OrderAmount: 300, Amount: 300, Reason: "x", Status: RefundStatusPending, CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)

	check := e.svc.Invariants()[0]
	found := func(rep invariants.Result) map[string]int {
		out := map[string]int{}
		for _, f := range rep.Findings {
			out[strings.TrimPrefix(f.Subject, "payment:")]++
		}
		return out
	}
	dry, err := check.Run(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := found(dry); got[refunded] != 1 || got[unsettledCode] != 1 || got[reserved] != 1 || len(got) != 3 {
		t.Fatalf("dry run found %v: %+v", got, dry.Findings)
	}
	rep, err := check.Run(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if !f.Repaired {
			t.Errorf("not repaired: %+v", f)
		}
	}
	if got := found(rep); got[refunded] != 1 || got[unsettledCode] != 1 || got[reserved] != 1 || got[jobless] != 1 || len(got) != 4 {
		t.Fatalf("repair found %v: %+v", got, rep.Findings)
	}
	if p, _ := e.store.Payment(ctx, refunded); p.Refunded != 400 || p.Refunding != 0 || p.PaidAmount != 1000 || p.Status != StatusPartiallyRefunded {
		t.Fatalf("refunded payment %+v", p)
	}
	if p, _ := e.store.Payment(ctx, unsettledCode); p.Status != StatusPaid || p.PaidOrder != unsettled.Order.ID {
		t.Fatalf("unsettled payment %+v", p)
	}
	if p, _ := e.store.Payment(ctx, reserved); p.Refunding != 0 || p.Refundable() != 500 {
		t.Fatalf("reserved payment %+v", p)
	}
	if _, err := e.queue.Get(ctx, jobs.JobID(JobRefund, "RF-JOBLESS")); err != nil {
		t.Fatalf("the jobless refund has no job: %v", err)
	}
	again, err := check.Run(ctx, true)
	if err != nil || len(again.Findings) != 0 || again.Examined != 4 {
		t.Fatalf("second run: %+v %v", again, err)
	}
}
