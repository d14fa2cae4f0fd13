package alipay_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"zwfw/payments"
	"zwfw/payments/alipay"
	fakealipay "zwfw/sandbox/alipay"
)

func TestBill(t *testing.T) {
	for _, utf8 := range []bool{false, true} {
		name := map[bool]string{false: "gbk", true: "utf-8"}[utf8]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, fakealipay.Options{BillUTF8: utf8})
			ctx := context.Background()
			day := time.Date(2026, 3, 2, 0, 0, 0, 0, shanghai)

			e.paid("B1", 10000) // 10:00
			e.clock.Advance(10 * time.Minute)
			e.paid("B2", 2050) // 10:10
			e.clock.Advance(time.Hour)
			if _, err := e.c.Refund(ctx, payments.RefundRequest{OutTradeNo: "B1", OutRefundNo: "RB1", Total: 10000, Amount: 2500, Reason: "退费,部分"}); err != nil {
				t.Fatal(err)
			}
			e.open(e.prepay(payments.AlipayApp, "B3", 700)) // opened, never paid: not in the bill

			if _, err := e.c.Bill(ctx, day); !errors.Is(err, payments.ErrBillNotReady) {
				t.Fatalf("bill of today: %v", err)
			}
			e.clock.Advance(14 * time.Hour)                    // 01:10 on 3 March
			e.paid("B4", 100)                                  // the next day's
			lines, err := e.c.Bill(ctx, day.Add(15*time.Hour)) // any instant of the day will do
			if err != nil {
				t.Fatal(err)
			}
			b1, _ := e.fake.TradeByNo("B1")
			b2, _ := e.fake.TradeByNo("B2")
			want := []payments.BillLine{
				{Kind: payments.BillPayment, OutTradeNo: "B1", TransactionID: b1.TradeNo, Amount: 10000, At: t0},
				{Kind: payments.BillPayment, OutTradeNo: "B2", TransactionID: b2.TradeNo, Amount: 2050, At: t0.Add(10 * time.Minute)},
				{Kind: payments.BillRefund, OutTradeNo: "B1", TransactionID: b1.TradeNo, Amount: 2500, OutRefundNo: "RB1", At: t0.Add(70 * time.Minute)},
			}
			if len(lines) != len(want) {
				t.Fatalf("lines: %+v", lines)
			}
			for i, w := range want {
				l := lines[i]
				if l.Kind != w.Kind || l.OutTradeNo != w.OutTradeNo || l.TransactionID != w.TransactionID || l.Amount != w.Amount ||
					l.OutRefundNo != w.OutRefundNo || !l.At.Equal(w.At) {
					t.Errorf("line %d = %+v, want %+v", i, l, w)
				}
			}

			// A day without trades: an empty bill, not an error.
			if lines, err := e.c.Bill(ctx, day.AddDate(0, 0, -1)); err != nil || len(lines) != 0 {
				t.Fatalf("quiet day: %+v %v", lines, err)
			}
		})
	}
}

func TestBillMissingLongAfterItsDayIsEmpty(t *testing.T) {
	e := newEnv(t, fakealipay.Options{})
	ctx := context.Background()
	// For the fake it is still 2 March: it says isp.bill_not_exist.
	if _, err := e.c.Bill(ctx, t0); !errors.Is(err, payments.ErrBillNotReady) {
		t.Fatalf("bill before its day ended: %v", err)
	}
	// An adapter three days later takes that as a day without trades.
	late := e.clientWith(e.fake.AppID(), func() time.Time { return e.clock.Now().Add(72 * time.Hour) })
	if lines, err := late.Bill(ctx, t0); err != nil || lines != nil {
		t.Fatalf("long after: %+v %v", lines, err)
	}
}

func BenchmarkParseNotify(b *testing.B) {
	s := fakealipay.New(fakealipay.Options{})
	defer s.Close()
	c, err := alipay.New(alipay.Config{AppID: s.AppID(), AppPrivateKey: s.AppPrivateKeyPEM(), AlipayPublicKey: s.AlipayPublicKeyPEM(), Gateway: "http://127.0.0.1:1/alipay/gateway.do"})
	if err != nil {
		b.Fatal(err)
	}
	form := url.Values{
		"notify_time": {"2026-03-02 10:00:05"}, "notify_type": {"trade_status_sync"}, "notify_id": {"ac05099524730693a8b330c5ecf72da978"},
		"app_id": {s.AppID()}, "auth_app_id": {s.AppID()}, "charset": {"utf-8"}, "version": {"1.0"},
		"trade_no": {"2026030222001412345678901234"}, "out_trade_no": {"ZW2026030200001"}, "buyer_id": {"2088102177846880"},
		"seller_id": {s.SellerID()}, "trade_status": {"TRADE_SUCCESS"}, "total_amount": {"128.50"}, "receipt_amount": {"128.50"},
		"subject": {"不动产登记费"}, "gmt_create": {"2026-03-02 10:00:00"}, "gmt_payment": {"2026-03-02 10:00:05"},
		"passback_params": {"pay%3A42"},
	}
	s.SignNotification(form)
	in := payments.InboundNotify{Form: form}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		n, err := c.ParseNotify(ctx, in)
		if err != nil || n.Trade.Amount != 12850 {
			b.Fatal(n, err)
		}
	}
}
