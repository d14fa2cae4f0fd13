package wechatpay

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"zwfw/payments"
	fakepay "zwfw/sandbox/wechatpay"
)

func TestBill(t *testing.T) {
	e := newTestEnv(t, "")
	ctx := context.Background()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, shanghai)
	e.paid(payments.WeChatJSAPI, "B1", 8000)
	e.clock.Advance(time.Hour)
	e.paid(payments.WeChatApp, "B2", 2000)
	// Money for an order zwfw closed (a surplus) is in the bill too.
	if _, err := e.prepay(payments.WeChatJSAPI, "B3", 300); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Close(ctx, "B3"); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.Surplus("B3", fakepay.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitNotify()
	if _, err := e.c.Refund(ctx, payments.RefundRequest{OutTradeNo: "B1", OutRefundNo: "BR1", Total: 8000, Amount: 1500}); err != nil {
		t.Fatal(err)
	}
	e.waitNotify()

	if _, err := e.c.Bill(ctx, day); !errors.Is(err, payments.ErrBillNotReady) {
		t.Errorf("today: %v", err)
	}
	e.clock.Advance(14 * time.Hour) // 2026-03-03 01:00: the day has ended
	lines, err := e.c.Bill(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	want := []payments.BillLine{
		{Kind: payments.BillPayment, OutTradeNo: "B1", Amount: 8000, At: day.Add(10 * time.Hour)},
		{Kind: payments.BillPayment, OutTradeNo: "B2", Amount: 2000, At: day.Add(11 * time.Hour)},
		{Kind: payments.BillPayment, OutTradeNo: "B3", Amount: 300, At: day.Add(11 * time.Hour)},
		{Kind: payments.BillRefund, OutTradeNo: "B1", Amount: 1500, OutRefundNo: "BR1", At: day.Add(11 * time.Hour)},
	}
	if len(lines) != len(want) {
		t.Fatalf("lines %+v", lines)
	}
	for i, w := range want {
		l := lines[i]
		if l.Kind != w.Kind || l.OutTradeNo != w.OutTradeNo || l.Amount != w.Amount || l.OutRefundNo != w.OutRefundNo || !l.At.Equal(w.At) || len(l.TransactionID) != 28 {
			t.Errorf("line %d: %+v, want %+v", i, l, w)
		}
		if w.Kind == payments.BillRefund && l.RefundID == "" {
			t.Errorf("line %d lacks the refund id", i)
		}
	}

	// A long-past day without trades is an empty bill; one that ended less
	// than BillReadyAfter ago is not ready yet (WeChat says "No Bill Exist"
	// for both).
	if got, err := e.c.Bill(ctx, day.AddDate(0, 0, -1)); err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty past day: %v %v", got, err)
	}
	e.clock.Advance(24 * time.Hour) // 2026-03-04 01:00
	next := day.AddDate(0, 0, 1)
	if _, err := e.c.Bill(ctx, next); !errors.Is(err, payments.ErrBillNotReady) {
		t.Errorf("empty day before 10:00 the next day: %v", err)
	}
	e.clock.Advance(9 * time.Hour)
	if got, err := e.c.Bill(ctx, next); err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty day after 10:00 the next day: %v %v", got, err)
	}
}

func TestParseBill(t *testing.T) {
	header := "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
	pay := "`2020-03-02 14:17:55,`wx8c4f683438292e27,`1562960801,`0,`,`4200000480202003022581846288,`2020030213120001,`o0bRy0_kzrcz3ug_eXNjp5VZrE6E,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`0,`0,`0.00,`0.00,`,`,`商品,甲,`98880001::x,`0.00000,`0.30%,`0.01,`0.00,`"
	sum := "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
	for _, tc := range []struct {
		name, text string
		lines      int
		ok         bool
	}{
		{"one payment, comma in the subject, BOM, LF", "\ufeff" + header + "\n" + pay + "\n" + sum + "\n`1,`0.01,`0.00,`0.00,`0.00000,`0.01,`0.00\n", 1, true},
		{"count does not match (truncated)", header + "\r\n" + pay + "\r\n" + sum + "\r\n`2,`0.02,`0.00,`0.00,`0.00000,`0.02,`0.00\r\n", 0, false},
		{"total does not match", header + "\r\n" + pay + "\r\n" + sum + "\r\n`1,`0.02,`0.00,`0.00,`0.00000,`0.02,`0.00\r\n", 0, false},
		{"no summary", header + "\r\n" + pay + "\r\n", 0, false},
		{"short line", header + "\r\n`2020-03-02 14:17:55,`wx\r\n" + sum + "\r\n`1,`0.01,`0.00\r\n", 0, false},
		{"bad amount", header + "\r\n" + strings.Replace(pay, "`0.01,`0.00,`0,", "`0.011,`0.00,`0,", 1) + "\r\n" + sum + "\r\n`1,`0.01,`0.00\r\n", 0, false},
	} {
		lines, err := parseBill(tc.text)
		if (err == nil) != tc.ok || len(lines) != tc.lines {
			t.Errorf("%s: %v %+v", tc.name, err, lines)
		}
	}
}

// BenchmarkParseNotify: valid paid notifies verified and parsed per op.
func BenchmarkParseNotify(b *testing.B) {
	for _, signType := range signTypes {
		b.Run(signType, func(b *testing.B) {
			e := newTestEnv(b, signType)
			f := e.fake
			// A paid notify as the fake signs it, without a delivery.
			if _, err := e.c.Prepay(context.Background(), payments.PrepayRequest{Channel: payments.WeChatJSAPI, OutTradeNo: "BENCH", Amount: 100,
				Subject: "s", OpenID: "o", ClientIP: "1.1.1.1"}); err != nil {
				b.Fatal(err)
			}
			if err := f.Pay("BENCH", fakepay.PayOptions{Notify: fakepay.NotifyDrop}); err != nil {
				b.Fatal(err)
			}
			in := payments.InboundNotify{Body: []byte(f.Notifies()[0].Body)}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if n, err := e.c.ParseNotify(ctx, in); err != nil || n.Kind != payments.NotifyPaid {
					b.Fatal(n, err)
				}
			}
		})
	}
}
