package alipay_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"zwfw/payments"
	"zwfw/payments/alipay"
	fakealipay "zwfw/sandbox/alipay"
)

func TestPrepayOpenPayNotify(t *testing.T) {
	for _, ch := range []payments.Channel{payments.AlipayApp, payments.AlipayWap} {
		t.Run(string(ch), func(t *testing.T) {
			e := newEnv(t, fakealipay.Options{})
			ctx := context.Background()
			p := e.prepay(ch, "ZW"+strings.ToUpper(string(ch[7:])), 12345)
			if (ch == payments.AlipayApp) != (p.OrderString != "") || (ch == payments.AlipayWap) != (p.PayURL != "") {
				t.Fatalf("prepay: %+v", p)
			}
			no := "ZW" + strings.ToUpper(string(ch[7:]))
			if _, err := e.c.Query(ctx, no); !errors.Is(err, payments.ErrTradeNotFound) {
				t.Fatalf("query before opening: %v", err)
			}
			if ch == payments.AlipayWap {
				// The browser opens the cashier URL itself.
				res, err := http.Get(p.PayURL)
				if err != nil || res.StatusCode != 200 {
					t.Fatalf("cashier: %v", err)
				}
				res.Body.Close()
			} else {
				e.open(p)
			}
			tr, err := e.c.Query(ctx, no)
			if err != nil || tr.State != payments.TradeNotPaid || tr.Amount != 12345 || tr.Attach != "pay:42/a b&c" {
				t.Fatalf("query after opening: %+v %v", tr, err)
			}
			got, _ := e.fake.TradeByNo(no)
			if want := t0.Add(30 * time.Minute); got.TimeExpire == nil || !got.TimeExpire.Equal(want) || got.NotifyURL != e.notifyURL {
				t.Fatalf("order at Alipay: %+v", got)
			}
			if ch == payments.AlipayWap && got.ReturnURL != "https://zwfw.example.cn/pay/return" {
				t.Fatalf("return_url %q", got.ReturnURL)
			}

			e.clock.Advance(2 * time.Minute)
			if _, err := e.fake.Pay(no, fakealipay.PayOptions{}); err != nil {
				t.Fatal(err)
			}
			n := e.notifications(1)[0]
			want := payments.Trade{
				OutTradeNo: no, TransactionID: got.TradeNo, State: payments.TradePaid, Amount: 12345,
				Currency: "CNY", PaidAt: t0.Add(2 * time.Minute), Attach: "pay:42/a b&c",
			}
			if n.Kind != payments.NotifyPaid || n.ID == "" || !sameTrade(n.Trade, want) || !strings.HasPrefix(n.Trade.Payer, "2088") {
				t.Fatalf("notification: %+v", n)
			}
			if n.Trade.PaidAt.Location().String() != "Asia/Shanghai" && n.Trade.PaidAt.Location().String() != "CST" {
				t.Fatalf("paid at %v", n.Trade.PaidAt)
			}
			tr, err = e.c.Query(ctx, no)
			if err != nil || !sameTrade(tr, want) || tr.Payer != n.Trade.Payer {
				t.Fatalf("query after paying: %+v %v", tr, err)
			}
		})
	}
}

func sameTrade(a, b payments.Trade) bool {
	return a.OutTradeNo == b.OutTradeNo && a.TransactionID == b.TransactionID && a.State == b.State &&
		a.Amount == b.Amount && a.Currency == b.Currency && a.PaidAt.Equal(b.PaidAt) && a.Attach == b.Attach
}

func TestPrepayRefusesBadOrders(t *testing.T) {
	e := newEnv(t, fakealipay.Options{})
	tests := []payments.PrepayRequest{
		{Channel: payments.WeChatJSAPI, OutTradeNo: "A", Amount: 1, Subject: "x"},
		{Channel: payments.AlipayApp, Amount: 1, Subject: "x"},
		{Channel: payments.AlipayApp, OutTradeNo: "A", Amount: 0, Subject: "x"},
		{Channel: payments.AlipayWap, OutTradeNo: "A", Amount: payments.MaxFen + 1, Subject: "x"},
		{Channel: payments.AlipayWap, OutTradeNo: "A", Amount: 1},
	}
	for _, req := range tests {
		if _, err := e.c.Prepay(context.Background(), req); err == nil {
			t.Errorf("prepay %+v succeeded", req)
		}
	}
}

func TestNotifyVerification(t *testing.T) {
	e := newEnv(t, fakealipay.Options{})
	ctx := context.Background()
	e.paid("V1", 10000)
	form := url.Values{}
	for k, v := range e.fake.Notifies("V1")[0].Form {
		form.Set(k, v)
	}
	parse := func(f url.Values) (payments.Notification, error) {
		return e.c.ParseNotify(ctx, payments.InboundNotify{Body: []byte(f.Encode()), ContentType: "application/x-www-form-urlencoded"})
	}
	if n, err := parse(form); err != nil || n.Trade.Amount != 10000 {
		t.Fatalf("genuine notify from the body: %+v %v", n, err)
	}
	tamper := func(f func(url.Values)) url.Values {
		c := url.Values{}
		for k, v := range form {
			c[k] = append([]string{}, v...)
		}
		f(c)
		return c
	}
	forged := []struct {
		name string
		form url.Values
	}{
		{"amount", tamper(func(v url.Values) { v.Set("total_amount", "0.01") })},
		{"status", tamper(func(v url.Values) { v.Set("trade_status", "TRADE_FINISHED") })},
		{"extra field", tamper(func(v url.Values) { v.Set("refund_fee", "100.00") })},
		{"no sign", tamper(func(v url.Values) { v.Del("sign") })},
		{"altered sign", tamper(func(v url.Values) { v.Set("sign", form.Get("sign")[:20]+"AAAA"+form.Get("sign")[24:]) })},
	}
	for _, tt := range forged {
		if _, err := parse(tt.form); !errors.Is(err, payments.ErrForgedNotify) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if _, err := e.c.ParseNotify(ctx, payments.InboundNotify{Body: []byte("%zz")}); !errors.Is(err, payments.ErrForgedNotify) {
		t.Errorf("garbage body: %v", err)
	}

	// Signed by Alipay, but for another app.
	foreign := tamper(func(v url.Values) { v.Set("app_id", "2021009999999999") })
	e.fake.SignNotification(foreign)
	if _, err := parse(foreign); !errors.Is(err, payments.ErrForeignNotify) {
		t.Fatalf("foreign: %v", err)
	}
	// A verified notify we have nothing to do with, and one with a bad amount.
	waiting := tamper(func(v url.Values) { v.Set("trade_status", "WAIT_BUYER_PAY"); v.Del("gmt_payment") })
	e.fake.SignNotification(waiting)
	if n, err := parse(waiting); err != nil || n.Kind != payments.NotifyOther || n.Trade.State != payments.TradeNotPaid {
		t.Fatalf("wait_buyer_pay: %+v %v", n, err)
	}
	badAmount := tamper(func(v url.Values) { v.Set("total_amount", "1.005") })
	e.fake.SignNotification(badAmount)
	if _, err := parse(badAmount); !errors.Is(err, payments.ErrAmount) {
		t.Fatalf("bad amount: %v", err)
	}
	// Whatever ParseNotify says, Ack speaks Alipay's words.
	if b, ct := e.c.Ack(true); string(b) != "success" || !strings.HasPrefix(ct, "text/plain") {
		t.Fatal("ack success")
	}
	if b, _ := e.c.Ack(false); string(b) != "fail" {
		t.Fatal("ack fail")
	}
}

func TestWrongAmountReachesTheCaller(t *testing.T) {
	e := newEnv(t, fakealipay.Options{})
	e.open(e.prepay(payments.AlipayApp, "W1", 5000))
	if _, err := e.fake.Pay("W1", fakealipay.PayOptions{Amount: "0.50"}); err != nil {
		t.Fatal(err)
	}
	if n := e.notifications(1)[0]; n.Trade.Amount != 50 {
		t.Fatalf("amount %d", n.Trade.Amount)
	}
}

func TestClose(t *testing.T) {
	e := newEnv(t, fakealipay.Options{})
	ctx := context.Background()
	if err := e.c.Close(ctx, "never-seen"); err != nil {
		t.Fatal("never seen:", err)
	}
	e.open(e.prepay(payments.AlipayApp, "CL1", 100))
	for range 2 { // closing twice is fine
		if err := e.c.Close(ctx, "CL1"); err != nil {
			t.Fatal("open trade:", err)
		}
	}
	if tr, err := e.c.Query(ctx, "CL1"); err != nil || tr.State != payments.TradeClosed || !tr.PaidAt.IsZero() {
		t.Fatalf("closed: %+v %v", tr, err)
	}
	e.paid("CL2", 100)
	if err := e.c.Close(ctx, "CL2"); !errors.Is(err, payments.ErrTradePaid) {
		t.Fatalf("paid: %v", err)
	}
}

func TestRefunds(t *testing.T) {
	e := newEnv(t, fakealipay.Options{})
	ctx := context.Background()
	e.paid("RF", 10000)
	e.clock.Advance(time.Hour)
	req := payments.RefundRequest{OutTradeNo: "RF", OutRefundNo: "R1", Total: 10000, Amount: 3000, Reason: "部分退费"}
	r, err := e.c.Refund(ctx, req)
	if err != nil || r.State != payments.RefundSuccess || r.Amount != 3000 || r.OutRefundNo != "R1" || !r.SettledAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("refund: %+v %v", r, err)
	}
	// Repeating it is idempotent (fund_change N, then the refund query).
	if r, err = e.c.Refund(ctx, req); err != nil || r.State != payments.RefundSuccess || r.Amount != 3000 {
		t.Fatalf("repeat: %+v %v", r, err)
	}
	refused := []payments.RefundRequest{
		{OutTradeNo: "RF", OutRefundNo: "R2", Total: 10000, Amount: 7001},              // over what is left
		{OutTradeNo: "RF", OutRefundNo: "R1", Total: 10000, Amount: 2000},              // same id, other amount
		{OutTradeNo: "RF", TransactionID: "x", OutRefundNo: "R9", Total: 1, Amount: 1}, // trade_no of no trade
	}
	for i, rq := range refused {
		_, err := e.c.Refund(ctx, rq)
		if want := payments.ErrRefundRefused; i == 2 {
			if !errors.Is(err, payments.ErrTradeNotFound) {
				t.Errorf("refund %+v: %v", rq, err)
			}
		} else if !errors.Is(err, want) {
			t.Errorf("refund %+v: %v", rq, err)
		}
	}
	if _, err := e.c.Refund(ctx, payments.RefundRequest{OutTradeNo: "nope", OutRefundNo: "R1", Amount: 1}); !errors.Is(err, payments.ErrTradeNotFound) {
		t.Fatalf("unknown trade: %v", err)
	}
	e.open(e.prepay(payments.AlipayApp, "UNPAID", 100))
	if _, err := e.c.Refund(ctx, payments.RefundRequest{OutTradeNo: "UNPAID", OutRefundNo: "R1", Amount: 1}); !errors.Is(err, payments.ErrRefundRefused) {
		t.Fatalf("unpaid trade: %v", err)
	}

	// The rest: the trade is wholly refunded, then closed to new refunds.
	if r, err = e.c.Refund(ctx, payments.RefundRequest{OutTradeNo: "RF", OutRefundNo: "R2", Total: 10000, Amount: 7000}); err != nil || r.State != payments.RefundSuccess {
		t.Fatalf("rest: %+v %v", r, err)
	}
	if tr, err := e.c.Query(ctx, "RF"); err != nil || tr.State != payments.TradeRefunded || tr.PaidAt.IsZero() {
		t.Fatalf("query after full refund: %+v %v", tr, err)
	}
	_, err = e.c.Refund(ctx, payments.RefundRequest{OutTradeNo: "RF", OutRefundNo: "R3", Amount: 1})
	if !errors.Is(err, payments.ErrRefundRefused) || !errors.Is(err, payments.ErrTradeClosed) {
		t.Fatalf("refund of a closed trade: %v", err)
	}

	// Refund queries.
	if r, err = e.c.QueryRefund(ctx, "RF", "R2"); err != nil || r.State != payments.RefundSuccess || r.Amount != 7000 || !r.SettledAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("query R2: %+v %v", r, err)
	}
	for _, q := range [][2]string{{"RF", "R9"}, {"nope", "R1"}} {
		if _, err := e.c.QueryRefund(ctx, q[0], q[1]); !errors.Is(err, payments.ErrRefundNotFound) {
			t.Fatalf("query %v: %v", q, err)
		}
	}

	// Each refund was notified: payment, R1, R2.
	ns := e.notifications(3)
	var refunds []payments.Notification
	for _, n := range ns {
		if n.Kind == payments.NotifyRefunded {
			refunds = append(refunds, n)
		}
	}
	if len(refunds) != 2 {
		t.Fatalf("refund notifies: %+v", ns)
	}
	for _, n := range refunds {
		want := map[string]payments.Fen{"R1": 3000, "R2": 7000}[n.Refund.OutRefundNo]
		if want == 0 || n.Refund.Amount != want || n.Refund.State != payments.RefundSuccess || !n.Refund.SettledAt.Equal(t0.Add(time.Hour)) ||
			n.Trade.Amount != 10000 || n.Trade.State != payments.TradeRefunded || n.Refund.OutTradeNo != "RF" {
			t.Errorf("refund notify: %+v", n)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	e := newEnv(t, fakealipay.Options{})
	good := alipay.Config{AppID: e.fake.AppID(), AppPrivateKey: e.fake.AppPrivateKeyPEM(), AlipayPublicKey: e.fake.AlipayPublicKeyPEM()}
	tests := []func(*alipay.Config){
		func(c *alipay.Config) { c.AppID = " " },
		func(c *alipay.Config) { c.AppPrivateKey = "" },
		func(c *alipay.Config) { c.AlipayPublicKey = "" },
		func(c *alipay.Config) {
			c.AppPrivateKey = "-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----"
		},
		func(c *alipay.Config) { c.AlipayPublicKey = e.fake.AppPrivateKeyPEM() },
	}
	for i, mod := range tests {
		c := good
		mod(&c)
		if _, err := alipay.New(c); err == nil {
			t.Errorf("config %d accepted", i)
		}
	}
	c, err := alipay.New(good) // production gateway: built, not called
	if err != nil || c.Provider() != payments.Alipay {
		t.Fatal(err)
	}
}

func TestForeignAppIsRefusedByTheGateway(t *testing.T) {
	e := newEnv(t, fakealipay.Options{})
	// An adapter configured with the wrong app id: Alipay refuses it, which
	// is temporary (configuration), not a statement about the trade.
	_, err := e.client("2021000000000001").Query(context.Background(), "X")
	if err == nil || errors.Is(err, payments.ErrTradeNotFound) || !strings.Contains(err.Error(), "isv.invalid-app-id") {
		t.Fatalf("wrong app id: %v", err)
	}
}
