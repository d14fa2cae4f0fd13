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

	first := e.pay("u1", code, WeChatJSAPI)
	again := e.pay("u1", code, WeChatJSAPI)
	if again.Order.ID != first.Order.ID || again.Prepay.Params["package"] != first.Prepay.Params["package"] {
		t.Fatalf("a second request on the same channel opened another order: %s vs %s", again.Order.ID, first.Order.ID)
	}
	ali := e.pay("u1", code, AlipayApp)
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
	if _, err := e.svc.Pay(ctx, PayRequest{UserID: "u2", PaymentID: code, Channel: AlipayApp}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stranger paid: %v", err)
	}
}

// Fifty copies of one notify at once: the order is paid once, one event.
func TestConcurrentReplayedNotifyCountsMoneyOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 1000)
	res := e.pay("u1", code, WeChatApp)
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
	if _, err := e.svc.Pay(ctx, PayRequest{UserID: "u1", PaymentID: code, Channel: AlipayWap}); !errors.Is(err, ErrAlreadyPaid) {
		t.Fatalf("paying twice: %v", err)
	}
}

func TestBadNotifiesChangeNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 1000)
	res := e.pay("u1", code, WeChatApp)

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

// Money a channel takes for an order zwfw closed (the payer was still in
// the cashier) is the payment when the notice is unpaid: applied, not a
// surplus, and the order that replaced it is closed through its channel.
func TestMoneyForAClosedOrderPaysAnUnpaidNotice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 500)
	first := e.pay("u1", code, WeChatApp)
	second := e.pay("u1", code, AlipayApp) // closes the WeChat order
	e.wx.mu.Lock()
	e.wx.trades[first.Order.ID].State = TradeNotPaid // the channel took it anyway
	e.wx.mu.Unlock()
	body := e.wx.pay(t, first.Order.ID, 500)
	r, err := e.svc.HandleNotify(ctx, WeChatPay, InboundNotify{Body: body})
	if err != nil || r.Outcome != OutcomePaid {
		t.Fatalf("%+v %v", r, err)
	}
	if list, _ := e.svc.Anomalies(ctx, true); len(list) != 0 {
		t.Fatalf("anomalies %+v", list)
	}
	p, _ := e.store.Payment(ctx, code)
	if p.Status != StatusPaid || p.PaidOrder != first.Order.ID || p.OpenOrder != "" {
		t.Fatalf("payment %+v", p)
	}
	if err := e.runJob(JobCloseOrder, second.Order.ID, e.svc.HandleCloseOrder); err != nil {
		t.Fatal(err)
	}
	if !e.ali.closed[second.Order.ID] {
		t.Fatal("the Alipay order a client holds was not closed at Alipay")
	}
	if o, _ := e.store.Order(ctx, second.Order.ID); o.Status != OrderClosed {
		t.Fatalf("second order %s", o.Status)
	}
}

func TestActiveQueryRecoversLostNotifyAndClosesExpiredOrders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	lost := e.pay("u1", e.notice("u1", 700), WeChatJSAPI)
	e.wx.pay(t, lost.Order.ID, 700) // the notify never arrives
	if err := e.runJob(JobQueryOrder, lost.Order.ID, e.svc.HandleQueryOrder); err != nil {
		t.Fatal(err)
	}
	if o, _ := e.store.Order(ctx, lost.Order.ID); o.Status != OrderPaid || o.PaidVia != "query" {
		t.Fatalf("order %+v", o)
	}

	code := e.notice("u1", 300)
	idle := e.pay("u1", code, AlipayWap)
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
	res := e.pay("u1", code, WeChatApp)
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
			_, err := e.svc.RequestRefund(ctx, RefundApplication{PaymentID: code, Amount: 300, Reason: "多收费用", Actor: "admin"})
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
	// No amount refunds the rest; then nothing is left.
	r1, err := e.svc.RequestRefund(ctx, RefundApplication{PaymentID: code, Reason: "x"})
	if err != nil || r1.Amount != 100 {
		t.Fatalf("rest: %+v %v", r1, err)
	}
	if _, err := e.svc.RequestRefund(ctx, RefundApplication{PaymentID: code, Reason: "x"}); !errors.Is(err, ErrRefundAmount) {
		t.Fatalf("refund beyond what was paid: %v", err)
	}
}

// A day with a lost notify, a surplus and an amount mismatch.
func TestReconciliationReport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	day := e.clock.Now()

	ok := e.pay("u1", e.notice("u1", 1000), WeChatApp)
	if _, err := e.svc.HandleNotify(ctx, WeChatPay, InboundNotify{Body: e.wx.pay(t, ok.Order.ID, 1000)}); err != nil {
		t.Fatal(err)
	}
	if err := e.runJob(JobConfirm, ok.Order.ID, e.svc.HandleConfirm); err != nil {
		t.Fatal(err)
	}
	lostCode := e.notice("u1", 2000)
	lost := e.pay("u1", lostCode, WeChatApp)
	e.wx.pay(t, lost.Order.ID, 2000) // notify lost
	mism := e.pay("u1", e.notice("u1", 3000), AlipayApp)
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

// A double tap on Pay: twenty requests at once open one order, and each
// gets it; requests that arrive while the channel is still creating it
// wait for it instead of closing it.
func TestConcurrentPaysOpenOneOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 1000)
	if _, err := e.svc.List(ctx, "u1", ""); err != nil {
		t.Fatal(err)
	}
	e.wx.hold = make(chan struct{}) // the channel is slow: everyone arrives while the first order is being created
	results := make([]PayResult, 20)
	errs := make([]error, 20)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], errs[i] = e.svc.Pay(ctx, PayRequest{UserID: "u1", PaymentID: code, Channel: WeChatJSAPI})
		}(i)
	}
	time.Sleep(300 * time.Millisecond)
	close(e.wx.hold)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pay %d: %v", i, err)
		}
		if results[i].Order.ID != results[0].Order.ID || results[i].Prepay.Params["package"] != results[0].Prepay.Params["package"] {
			t.Fatalf("pay %d got order %s, pay 0 got %s", i, results[i].Order.ID, results[0].Order.ID)
		}
	}
	orders, _ := e.store.OrdersOfPayment(ctx, code)
	if len(orders) != 1 || orders[0].Status != OrderOpen || e.wx.prepays != 1 || len(e.wx.closed) != 0 {
		t.Fatalf("orders %+v, %d prepays, closed %v", orders, e.wx.prepays, e.wx.closed)
	}
}

// Asking for another channel while the first order is still being created
// waits for it, then closes it through its channel.
func TestSwitchingChannelWaitsForTheOrderBeingCreated(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 1000)
	if _, err := e.svc.List(ctx, "u1", ""); err != nil {
		t.Fatal(err)
	}
	e.wx.hold = make(chan struct{})
	first := make(chan PayResult, 1)
	go func() {
		r, err := e.svc.Pay(ctx, PayRequest{UserID: "u1", PaymentID: code, Channel: WeChatApp})
		if err != nil {
			t.Error(err)
		}
		first <- r
	}()
	for p, _ := e.store.Payment(ctx, code); p.OpenOrder == ""; p, _ = e.store.Payment(ctx, code) {
		time.Sleep(5 * time.Millisecond) // until the WeChat request has claimed the notice
	}
	time.AfterFunc(200*time.Millisecond, func() { close(e.wx.hold) })
	ali, err := e.svc.Pay(ctx, PayRequest{UserID: "u1", PaymentID: code, Channel: AlipayApp})
	if err != nil {
		t.Fatal(err)
	}
	wx := <-first
	if wx.Order.ID == "" || wx.Order.ID == ali.Order.ID {
		t.Fatalf("orders %q %q", wx.Order.ID, ali.Order.ID)
	}
	// The WeChat order was created, handed out, then closed at WeChat Pay.
	if !e.wx.closed[wx.Order.ID] || e.wx.prepays != 1 {
		t.Fatalf("closed at the channel: %v, prepays %d", e.wx.closed, e.wx.prepays)
	}
	p, _ := e.store.Payment(ctx, code)
	if p.OpenOrder != ali.Order.ID {
		t.Fatalf("open order %s", p.OpenOrder)
	}
}

// An order whose creator died (the pointer claimed, nothing stored) does
// not block the notice for ever.
func TestAnAbandonedClaimIsTakenOver(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 1000)
	if _, err := e.svc.List(ctx, "u1", ""); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.store.SetOpenOrder(ctx, code, "", "ZW-DIED", e.clock.Now()); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := e.svc.Pay(ctx, PayRequest{UserID: "u1", PaymentID: code, Channel: WeChatApp}); !errors.Is(err, ErrBusy) {
		t.Fatalf("while the claim is fresh: %v", err)
	}
	e.clock.Add(2 * time.Minute)
	res := e.pay("u1", code, WeChatApp)
	if res.Order.ID == "ZW-DIED" {
		t.Fatal("the dead claim was handed out")
	}
}

// Two orders of one notice paid anyway: the later money goes back through
// its own channel automatically, recorded as an anomaly naming the refund;
// it does not count against what staff may refund, and the payer is told.
func TestASecondPaymentIsRefundedAutomatically(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.notice("u1", 1000)
	ali := e.pay("u1", code, AlipayApp)
	wx := e.pay("u1", code, WeChatApp) // closes the Alipay order (never opened at Alipay: it can still be paid)
	e.ali.mu.Lock()
	e.ali.trades[ali.Order.ID].State = TradeNotPaid
	e.ali.mu.Unlock()
	if r, err := e.svc.HandleNotify(ctx, WeChatPay, InboundNotify{Body: e.wx.pay(t, wx.Order.ID, 1000)}); err != nil || r.Outcome != OutcomePaid {
		t.Fatalf("first payment: %+v %v", r, err)
	}
	for i := 0; i < 2; i++ { // the channel notifies twice
		if _, err := e.svc.HandleNotify(ctx, Alipay, InboundNotify{Body: e.ali.payAgain(t, ali.Order.ID, 1000)}); err != nil {
			t.Fatal(err)
		}
	}
	refunds, _ := e.store.RefundsOfPayment(ctx, code)
	if len(refunds) != 1 || refunds[0].Kind != RefundDuplicate || refunds[0].OrderID != ali.Order.ID || refunds[0].Amount != 1000 {
		t.Fatalf("refunds %+v", refunds)
	}
	rd := refunds[0]
	list, _ := e.svc.Anomalies(ctx, false)
	if len(list) != 1 || list[0].Kind != AnomalyDuplicatePayment || list[0].RefundID != rd.ID || list[0].OrderID != ali.Order.ID {
		t.Fatalf("anomalies %+v", list)
	}
	if n := e.eventsOf(EventDuplicatePaid, "payment:"+code); n != 1 {
		t.Fatalf("%d payment.duplicate_paid events", n)
	}
	if err := e.runJob(JobRefund, rd.ID, e.svc.HandleRefund); err != nil {
		t.Fatal(err)
	}
	if res, ok := e.ali.refunds[rd.ID]; !ok || res.OutTradeNo != ali.Order.ID || res.Amount != 1000 {
		t.Fatalf("refund at Alipay: %+v", e.ali.refunds)
	}
	p, _ := e.store.Payment(ctx, code)
	if p.Status != StatusPaid || p.PaidOrder != wx.Order.ID || p.Refunded != 0 || p.Refunding != 0 || p.Refundable() != 1000 {
		t.Fatalf("payment %+v", p)
	}
	if r, _ := e.store.Refund(ctx, rd.ID); r.Status != RefundStatusSucceeded {
		t.Fatalf("refund %+v", r)
	}
	if list, _ := e.svc.Anomalies(ctx, false); len(list) != 0 {
		t.Fatalf("the refunded duplicate still waits for a person: %+v", list)
	}
	if e.eventsOf(EventRefunded, "payment:"+code) != 0 || len(e.treasury.refunds) != 0 {
		t.Fatal("the duplicate's refund was reported as a refund of the notice")
	}
}
