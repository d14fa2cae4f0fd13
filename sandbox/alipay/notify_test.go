package alipay_test

import (
	"context"
	"testing"
	"time"

	sdk "github.com/smartwalle/alipay/v3"

	"zwfw/sandbox/alipay"
)

func TestNotifyRetriedUntilSuccess(t *testing.T) {
	e := newEnv(t, alipay.Options{NotifyRetryDelays: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}})
	// Only the exact word counts: "SUCCESS", an HTML page or "fail" are retried.
	e.merchant.answers = []string{"fail", "SUCCESS", "<html>ok</html>"}
	e.paid("N1", "1.00")
	forms := e.merchant.waitForms(t, 4)
	waitFor(t, "delivery done", func() bool { return !e.s.Notifies("N1")[0].Pending })
	n := e.s.Notifies("N1")[0]
	if len(n.Attempts) != 4 || n.Delivered != 1 || !n.Attempts[3].OK || n.Attempts[0].OK || n.Attempts[0].Body != "fail" {
		t.Fatalf("attempts: %+v", n)
	}
	for _, f := range forms {
		if f.Get("notify_id") != n.NotifyID {
			t.Fatal("a retry changed the notify")
		}
	}
}

func TestNotifyGivesUp(t *testing.T) {
	e := newEnv(t, alipay.Options{NotifyRetryDelays: []time.Duration{time.Millisecond}})
	e.merchant.answers = []string{"fail", "fail", "fail"}
	e.paid("N2", "1.00")
	waitFor(t, "delivery done", func() bool { return !e.s.Notifies("N2")[0].Pending })
	if n := e.s.Notifies("N2")[0]; len(n.Attempts) != 2 || n.Delivered != 0 {
		t.Fatalf("attempts: %+v", n)
	}
}

func TestNotifyModes(t *testing.T) {
	e := newEnv(t, alipay.Options{})
	if _, err := e.s.Open(e.appOrder("M1", "2.00")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Open(e.appOrder("M2", "2.00")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Pay("M1", alipay.PayOptions{Notify: alipay.NotifyDrop}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Pay("M2", alipay.PayOptions{Notify: alipay.NotifyTwice, Amount: "0.02"}); err != nil {
		t.Fatal(err)
	}
	forms := e.merchant.waitForms(t, 2)
	waitFor(t, "deliveries done", func() bool { return !e.s.Notifies("M2")[0].Pending })
	if len(e.merchant.forms()) != 2 || forms[0].Get("out_trade_no") != "M2" || forms[0].Get("notify_id") != forms[1].Get("notify_id") {
		t.Fatalf("forms: %v", forms)
	}
	// The dropped notify is recorded, signed, and never sent; the trade is paid all the same.
	d := e.s.Notifies("M1")[0]
	if len(d.Attempts) != 0 || d.Pending || d.Form["trade_status"] != "TRADE_SUCCESS" {
		t.Fatalf("dropped: %+v", d)
	}
	if q := e.query("M1"); q.TradeStatus != sdk.TradeStatusSuccess {
		t.Fatalf("query M1: %+v", q)
	}
	// The overridden amount is what Alipay reports everywhere, still signed.
	if forms[0].Get("total_amount") != "0.02" {
		t.Fatalf("total_amount %s", forms[0].Get("total_amount"))
	}
	if _, err := e.sdk.DecodeNotification(context.Background(), forms[0]); err != nil {
		t.Fatal(err)
	}
	tr, _ := e.s.TradeByNo("M2")
	if q := e.query("M2"); q.TotalAmount != "0.02" || tr.OrderedAmount != "2.00" {
		t.Fatalf("override: %+v %+v", q, tr)
	}
	_, err := e.s.Pay("M3", alipay.PayOptions{})
	wantSub(t, err, alipay.SubTradeNotExist)
	if _, err := e.s.Open(e.appOrder("M4", "2.00")); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Pay("M4", alipay.PayOptions{Notify: "loud"})
	wantSub(t, err, alipay.SubInvalidParam)
	_, err = e.s.Pay("M4", alipay.PayOptions{Amount: "2.001"})
	wantSub(t, err, alipay.SubInvalidParam)
}

func TestCloseStopsRetries(t *testing.T) {
	e := newEnv(t, alipay.Options{NotifyRetryDelays: []time.Duration{time.Hour}})
	e.merchant.answers = []string{"fail"}
	e.paid("S1", "1.00")
	waitFor(t, "first attempt", func() bool { return len(e.s.Notifies("S1")[0].Attempts) == 1 })
	e.s.Close() // returns without waiting the hour
	if n := e.s.Notifies("S1")[0]; n.Pending || len(n.Attempts) != 1 {
		t.Fatalf("after close: %+v", n)
	}
	// After Close, payments still happen but nothing is sent.
	if _, err := e.s.Open(e.appOrder("S2", "1.00")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Pay("S2", alipay.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := e.s.Notifies("S2")[0]; n.Pending || n.Attempts[0].Error == "" {
		t.Fatalf("after close: %+v", n)
	}
}

func TestNotifyWithoutNotifyURL(t *testing.T) {
	e := newEnv(t, alipay.Options{})
	if _, err := e.s.Open(e.appOrder("U1", "1.00", func(p *sdk.TradeAppPay) { p.NotifyURL = "" })); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Pay("U1", alipay.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := e.s.Notifies("U1")[0]; n.Pending || len(n.Attempts) != 1 || n.Attempts[0].Error == "" {
		t.Fatalf("no notify_url: %+v", n)
	}
}
