package payments

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestPayReusesOneOpenOrderAndSwitchingClosesTheOther(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 8000)

	first := e.pay("u1", code, WeChatJSAPI, "k1")
	again := e.pay("u1", code, WeChatJSAPI, "k1")
	if again.Order.ID != first.Order.ID {
		t.Fatalf("same key gave another order: %s vs %s", again.Order.ID, first.Order.ID)
	}
	sameChannel := e.pay("u1", code, WeChatJSAPI, "k2")
	if sameChannel.Order.ID != first.Order.ID {
		t.Fatal("a second request on the same channel did not reuse the open order")
	}
	if _, err := e.svc.Pay(ctx, PayRequest{UserID: "u1", PaymentID: code, Channel: AlipayApp, IdempotencyKey: "k1"}); !errors.Is(err, ErrIdempotencyReused) {
		t.Fatalf("key reused for another channel: %v", err)
	}
	ali := e.pay("u1", code, AlipayApp, "k3")
	if ali.Order.ID == first.Order.ID || ali.Order.Provider != Alipay {
		t.Fatalf("switching channel: %+v", ali.Order)
	}
	if !e.wx.closed[first.Order.ID] {
		t.Fatal("the WeChat order was not closed at the channel before switching")
	}
	old, _ := e.store.Order(ctx, first.Order.ID)
	if old.Status != OrderClosed {
		t.Fatalf("old order status %s", old.Status)
	}
	p, _ := e.store.Payment(ctx, code)
	if p.OpenOrder != ali.Order.ID {
		t.Fatalf("open order = %q", p.OpenOrder)
	}
	// Someone else cannot see or pay it.
	if _, err := e.svc.Pay(ctx, PayRequest{UserID: "u2", PaymentID: code, Channel: AlipayApp, IdempotencyKey: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stranger paid: %v", err)
	}
}

// Fifty copies of one notify at once: the order is paid once, one event.
func TestConcurrentReplayedNotifyCountsMoneyOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 1000)
	res := e.pay("u1", code, WeChatApp, "k")
	body := e.wx.pay(t, res.Order.ID, 1000)

	var wg sync.WaitGroup
	outcomes := make([]Outcome, 50)
	for i := range outcomes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := e.svc.HandleNotify(ctx, WeChatPay, InboundNotify{Body: body})
			if err != nil {
				t.Errorf("notify %d: %v", i, err)
			}
			outcomes[i] = r.Outcome
		}(i)
	}
	wg.Wait()
	paid := 0
	for _, o := range outcomes {
		if o == OutcomePaid {
			paid++
		}
	}
	if paid != 1 {
		t.Fatalf("%d notifies marked it paid", paid)
	}
	if n := e.eventsOf(EventSucceeded, "payment:"+code); n != 1 {
		t.Fatalf("%d payment.succeeded events", n)
	}
	p, _ := e.store.Payment(ctx, code)
	if p.Status != StatusPaid || p.PaidAmount != 1000 || p.PaidOrder != res.Order.ID {
		t.Fatalf("payment %+v", p)
	}
	// The confirmation job books it with the platform and stores the receipt.
	if err := e.runJob(JobConfirm, res.Order.ID, e.svc.HandleConfirm); err != nil {
		t.Fatal(err)
	}
	p, _ = e.store.Payment(ctx, code)
	if p.Receipt == nil || p.Receipt.Number == "" {
		t.Fatal("no receipt")
	}
	if _, err := e.svc.Pay(ctx, PayRequest{UserID: "u1", PaymentID: code, Channel: AlipayWap, IdempotencyKey: "again"}); !errors.Is(err, ErrAlreadyPaid) {
		t.Fatalf("paying twice: %v", err)
	}
}

func TestBadNotifiesChangeNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 1000)
	res := e.pay("u1", code, WeChatApp, "k")

	if _, err := e.svc.HandleNotify(ctx, WeChatPay, InboundNotify{Body: []byte(`{"sig":"forged"}`)}); !errors.Is(err, ErrNotifyForged) {
		t.Fatalf("forged: %v", err)
	}
	body := e.wx.pay(t, res.Order.ID, 1) // the channel says 0.01 yuan
	r, err := e.svc.HandleNotify(ctx, WeChatPay, InboundNotify{Body: body})
	if err != nil || r.Outcome != OutcomeAnomaly || string(r.Body) != "success" {
		t.Fatalf("wrong amount: %+v %v", r, err)
	}
	p, _ := e.store.Payment(ctx, code)
	o, _ := e.store.Order(ctx, res.Order.ID)
	if p.Status != StatusUnpaid || o.Status != OrderOpen {
		t.Fatalf("state changed: payment %s order %s", p.Status, o.Status)
	}
	list, _ := e.svc.Anomalies(ctx, false)
	kinds := map[AnomalyKind]int{}
	for _, a := range list {
		kinds[a.Kind]++
	}
	if kinds[AnomalyForgedNotify] != 1 || kinds[AnomalyAmountMismatch] != 1 {
		t.Fatalf("anomalies %v", kinds)
	}
}

// Money for an order zwfw closed is a surplus for a person, never lost.
func TestNotifyForClosedOrderIsASurplus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 500)
	first := e.pay("u1", code, WeChatApp, "k1")
	e.pay("u1", code, AlipayApp, "k2") // closes the WeChat order
	e.wx.mu.Lock()
	e.wx.trades[first.Order.ID].State = TradeNotPaid // the channel took it anyway
	e.wx.mu.Unlock()
	body := e.wx.pay(t, first.Order.ID, 500)
	r, err := e.svc.HandleNotify(ctx, WeChatPay, InboundNotify{Body: body})
	if err != nil || r.Outcome != OutcomeAnomaly {
		t.Fatalf("%+v %v", r, err)
	}
	list, _ := e.svc.Anomalies(ctx, false)
	if len(list) != 1 || list[0].Kind != AnomalySurplus || list[0].Actual != 500 {
		t.Fatalf("anomalies %+v", list)
	}
	if p, _ := e.store.Payment(ctx, code); p.Status != StatusUnpaid {
		t.Fatalf("payment %s", p.Status)
	}
}

func TestActiveQueryRecoversLostNotifyAndClosesExpiredOrders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	lost := e.pay("u1", e.notice("u1", 700), WeChatJSAPI, "a")
	e.wx.pay(t, lost.Order.ID, 700) // the notify never arrives
	if err := e.runJob(JobQueryOrder, lost.Order.ID, e.svc.HandleQueryOrder); err != nil {
		t.Fatal(err)
	}
	if o, _ := e.store.Order(ctx, lost.Order.ID); o.Status != OrderPaid || o.PaidVia != "query" {
		t.Fatalf("order %+v", o)
	}

	code := e.notice("u1", 300)
	idle := e.pay("u1", code, AlipayWap, "b")
	if err := e.runJob(JobQueryOrder, idle.Order.ID, e.svc.HandleQueryOrder); err == nil {
		t.Fatal("an unpaid, unexpired order should be queried again later")
	}
	e.clock.Add(31 * time.Minute)
	if err := e.runJob(JobQueryOrder, idle.Order.ID, e.svc.HandleQueryOrder); err != nil {
		t.Fatal(err)
	}
	if o, _ := e.store.Order(ctx, idle.Order.ID); o.Status != OrderClosed || o.CloseReason != "expired" {
		t.Fatalf("order %+v", o)
	}
	if p, _ := e.store.Payment(ctx, code); p.OpenOrder != "" {
		t.Fatal("expired order still open on the payment")
	}
}

func TestRefundsNeverExceedWhatWasPaid(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 1000)
	res := e.pay("u1", code, WeChatApp, "k")
	if _, err := e.svc.HandleNotify(ctx, WeChatPay, InboundNotify{Body: e.wx.pay(t, res.Order.ID, 1000)}); err != nil {
		t.Fatal(err)
	}
	// Ten admins each try to refund 3 yuan at once: at most three succeed.
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := e.svc.RequestRefund(ctx, RefundApplication{PaymentID: code, Amount: 300, Reason: "多收费用", Actor: "admin", IdempotencyKey: string(rune('a' + i))})
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, ErrRefundAmount) && !errors.Is(err, ErrBusy) {
				t.Errorf("refund %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	if ok != 3 {
		t.Fatalf("%d refunds of 3 yuan accepted on 10 yuan paid", ok)
	}
	p, _ := e.store.Payment(ctx, code)
	if p.Refunding != 900 || p.Refundable() != 100 {
		t.Fatalf("refunding %d refundable %d", p.Refunding, p.Refundable())
	}
	refunds, _ := e.store.RefundsOfPayment(ctx, code)
	for _, r := range refunds {
		if err := e.runJob(JobRefund, r.ID, e.svc.HandleRefund); err != nil {
			t.Fatal(err)
		}
		if err := e.runJob(JobRegisterRefund, r.ID, e.svc.HandleRegisterRefund); err != nil {
			t.Fatal(err)
		}
	}
	p, _ = e.store.Payment(ctx, code)
	if p.Refunded != 900 || p.Refunding != 0 || p.Status != StatusPartiallyRefunded {
		t.Fatalf("after settling: %+v", p)
	}
	if len(e.treasury.refunds) != 3 || e.eventsOf(EventRefunded, "payment:"+code) != 3 {
		t.Fatalf("registered %d refunds", len(e.treasury.refunds))
	}
	// The same key again is the same refund, not a new one.
	r1, err := e.svc.RequestRefund(ctx, RefundApplication{PaymentID: code, Reason: "x", IdempotencyKey: "rest"})
	if err != nil || r1.Amount != 100 {
		t.Fatalf("rest: %+v %v", r1, err)
	}
	r2, err := e.svc.RequestRefund(ctx, RefundApplication{PaymentID: code, Reason: "x", IdempotencyKey: "rest"})
	if err != nil || r2.ID != r1.ID {
		t.Fatalf("replay: %+v %v", r2, err)
	}
}

// A day with a lost notify, a surplus and an amount mismatch.
func TestReconciliationReport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	day := e.clock.Now()

	ok := e.pay("u1", e.notice("u1", 1000), WeChatApp, "ok")
	if _, err := e.svc.HandleNotify(ctx, WeChatPay, InboundNotify{Body: e.wx.pay(t, ok.Order.ID, 1000)}); err != nil {
		t.Fatal(err)
	}
	if err := e.runJob(JobConfirm, ok.Order.ID, e.svc.HandleConfirm); err != nil {
		t.Fatal(err)
	}
	lostCode := e.notice("u1", 2000)
	lost := e.pay("u1", lostCode, WeChatApp, "lost")
	e.wx.pay(t, lost.Order.ID, 2000) // notify lost
	mism := e.pay("u1", e.notice("u1", 3000), AlipayApp, "mism")
	_, _ = e.svc.HandleNotify(ctx, Alipay, InboundNotify{Body: e.ali.pay(t, mism.Order.ID, 2999)})
	e.wx.extra = append(e.wx.extra, BillLine{Kind: BillPayment, OutTradeNo: "ZW-UNKNOWN", TransactionID: "TXS", Amount: 4000, At: day})

	rep, err := e.svc.Reconcile(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ReportLine{}
	for _, l := range rep.Lines {
		got[l.OutTradeNo] = l
	}
	want := []struct {
		order  string
		kind   MatchKind
		action Action
	}{
		{ok.Order.ID, MatchOK, ActionNone},
		{lost.Order.ID, MatchOK, ActionAutoFixed},
		{mism.Order.ID, MatchAmountMismatch, ActionNeedsPerson},
		{"ZW-UNKNOWN", MatchSurplus, ActionNeedsPerson},
	}
	for _, w := range want {
		l, found := got[w.order]
		if !found || l.Kind != w.kind || l.Action != w.action {
			t.Errorf("%s: got %+v, want %s/%s", w.order, l, w.kind, w.action)
		}
	}
	if len(rep.Lines) != len(want) || rep.NeedsPerson != 2 {
		t.Fatalf("report %+v", rep)
	}
	if p, _ := e.store.Payment(ctx, lostCode); p.Status != StatusPaid {
		t.Fatal("the lost notify's payment was not repaired")
	}
	stored, err := e.svc.Report(ctx, day)
	if err != nil || len(stored.Lines) != 4 {
		t.Fatalf("stored report: %v", err)
	}
}
