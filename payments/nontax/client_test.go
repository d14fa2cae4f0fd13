package nontax

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"zwfw/payments"
	"zwfw/platform/gwsign"
	fakent "zwfw/sandbox/nontax"
)

var ctx = context.Background()

func TestNotice(t *testing.T) {
	for _, method := range []string{gwsign.SignHMACSM3, gwsign.SignHMACSHA256} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t, func(c *Config, _ **http.Client) { c.SignMethod = method })
			want := e.fake.Notices(zhangSan.IDNumber, "")[0]
			n, err := e.c.Notice(ctx, want.PaymentCode)
			if err != nil {
				t.Fatal(err)
			}
			if n.PaymentCode != want.PaymentCode || n.PayerID != zhangSan.IDNumber || n.PayerName != "张三" ||
				n.Amount != 9000 || len(n.Items) != 2 || n.Items[0].Amount != 8000 || n.Items[0].Quantity != 1 ||
				n.Status != payments.NoticeUnpaid || n.Agency != "福州市不动产登记和交易中心" || n.Receipt != nil ||
				!n.DueAt.Equal(want.DueAt) || !n.IssuedAt.Equal(start) {
				t.Fatalf("notice %+v", n)
			}
		})
	}
}

func TestNoticeNotFoundAndBadCodes(t *testing.T) {
	e := newEnv(t, nil)
	missing := "3501002699999999999"
	missing += string(CheckDigit(missing))
	_, err := e.c.Notice(ctx, missing)
	if !errors.Is(err, payments.ErrNoticeNotFound) || CodeOf(err) != CodeNoticeNotFound {
		t.Fatalf("missing notice: %v", err)
	}
	calls := e.calls(epNotice)
	good := e.fake.Notices("", "")[0].PaymentCode
	for _, bad := range []string{"", "123", good[:19] + string('0'+(good[19]-'0'+1)%10), good[:5] + "x" + good[6:], good + "0"} {
		_, err := e.c.Notice(ctx, bad)
		if !errors.Is(err, ErrPaymentCodeInvalid) || !errors.Is(err, payments.ErrNoticeNotFound) {
			t.Errorf("Notice(%q): %v", bad, err)
		}
		if _, err := e.c.ConfirmPaid(ctx, payments.Confirmation{PaymentCode: bad}); !errors.Is(err, ErrPaymentCodeInvalid) {
			t.Errorf("ConfirmPaid(%q): %v", bad, err)
		}
		if err := e.c.RegisterRefund(ctx, payments.RefundRegistration{PaymentCode: bad}); !errors.Is(err, ErrPaymentCodeInvalid) {
			t.Errorf("RegisterRefund(%q): %v", bad, err)
		}
	}
	if e.calls(epNotice) != calls || e.calls(epConfirm) != 0 {
		t.Fatal("malformed codes were sent to the platform")
	}
}

func TestNoticesOf(t *testing.T) {
	e := newEnv(t, nil)
	list, err := e.c.NoticesOf(ctx, zhangSan.IDNumber)
	if err != nil || len(list) != 3 {
		t.Fatalf("张三's notices: %v %+v", err, list)
	}
	list, err = e.c.NoticesOf(ctx, strings.ToLower(company.USCC[:17])+company.USCC[17:])
	if err != nil || len(list) != 2 || list[0].PayerID != company.USCC {
		t.Fatalf("company's notices: %v %+v", err, list)
	}
	nobody := "91350100M000100Y43" // valid, no notices
	if list, err = e.c.NoticesOf(ctx, nobody); err != nil || len(list) != 0 {
		t.Fatalf("no notices: %v %+v", err, list)
	}
	for _, bad := range []string{"", "350102199003071235", "12345"} {
		if _, err := e.c.NoticesOf(ctx, bad); !errors.Is(err, ErrPayerIDInvalid) || CodeOf(err) != CodePayerIDInvalid {
			t.Errorf("NoticesOf(%q): %v", bad, err)
		}
	}
}

func TestConfirmPaidIsIdempotent(t *testing.T) {
	e := newEnv(t, nil)
	n := e.issue("103045500101")
	conf := e.confirmation(n, "4200000001202603021000000001")
	r1, err := e.c.ConfirmPaid(ctx, conf)
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Code) != 8 || len(r1.Number) != 10 || len(r1.CheckSum) != 6 || !strings.HasPrefix(r1.URL, e.srv.URL+"/nontax/receipts/") || !r1.IssuedAt.Equal(start) {
		t.Fatalf("receipt %+v", r1)
	}
	// The same confirmation later (a job retry): the same receipt, one booking.
	e.clock.Advance(time.Hour)
	r2, err := e.c.ConfirmPaid(ctx, conf)
	if err != nil || r2 != r1 {
		t.Fatalf("repeat: %v %+v, first %+v", err, r2, r1)
	}
	if len(e.fake.Confirmations(time.Time{})) != 1 {
		t.Fatal("booked twice")
	}
	got, err := e.c.Notice(ctx, n.PaymentCode)
	if err != nil || got.Status != payments.NoticePaid || got.Receipt == nil || *got.Receipt != r1 {
		t.Fatalf("notice after payment: %v %+v", err, got)
	}
	rc, err := e.c.Receipt(ctx, n.PaymentCode)
	if err != nil || rc != r1 {
		t.Fatalf("Receipt: %v %+v", err, rc)
	}
}

func TestConfirmPaidRefusals(t *testing.T) {
	e := newEnv(t, nil)
	paid := e.issue("103040100101")
	if _, err := e.c.ConfirmPaid(ctx, e.confirmation(paid, "TX1")); err != nil {
		t.Fatal(err)
	}
	cancelled := e.issue("103040100101")
	if _, err := e.fake.Cancel(cancelled.PaymentCode, "申请已撤回"); err != nil {
		t.Fatal(err)
	}
	open := e.issue("103040100101")
	short := e.confirmation(open, "TX3")
	short.Amount--
	cases := []struct {
		name string
		conf payments.Confirmation
		code string
	}{
		{"paid by another transaction", e.confirmation(paid, "TX2"), CodeNoticeAlreadyPaid},
		{"cancelled", e.confirmation(cancelled, "TX2"), CodeNoticeCancelled},
		{"amount mismatch", short, CodeAmountMismatch},
		{"transaction of another notice", e.confirmation(open, "TX1"), CodeTransactionDuplicate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.c.ConfirmPaid(ctx, c.conf)
			var pe *Error
			if !errors.Is(err, payments.ErrNoticeNotPayable) || !errors.As(err, &pe) || pe.Code != c.code || pe.Message == "" || pe.Status != 409 {
				t.Fatalf("err %v, want %s", err, c.code)
			}
		})
	}
	// Refusals are answers: not retried.
	if n := e.calls(epConfirm); n != 5 {
		t.Fatalf("%d confirmation requests, want 5", n)
	}
	if _, err := e.c.Receipt(ctx, open.PaymentCode); !errors.Is(err, ErrReceiptNotFound) {
		t.Fatalf("receipt of an unpaid notice: %v", err)
	}
}

func TestRegisterRefund(t *testing.T) {
	e := newEnv(t, nil)
	n := e.issue("103045500101", "103045500102") // 9000 fen
	reg := func(no string, amount payments.Fen) payments.RefundRegistration {
		return payments.RefundRegistration{PaymentCode: n.PaymentCode, RefundNo: no, Amount: amount, Reason: "办件不予受理，退还登记费", RefundedAt: e.clock.Now()}
	}
	if err := e.c.RegisterRefund(ctx, reg("R1", 1000)); !errors.Is(err, payments.ErrRefundRefused) || CodeOf(err) != CodeNoticeNotPaid {
		t.Fatalf("refund of an unpaid notice: %v", err)
	}
	if _, err := e.c.ConfirmPaid(ctx, e.confirmation(n, "TX1")); err != nil {
		t.Fatal(err)
	}
	if err := e.c.RegisterRefund(ctx, reg("R1", 1000)); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if err := e.c.RegisterRefund(ctx, reg("R1", 1000)); err != nil { // RefundedAt differs: a new request, same refund
		t.Fatal("repeat:", err)
	}
	if err := e.c.RegisterRefund(ctx, reg("R2", 8001)); !errors.Is(err, payments.ErrRefundRefused) || CodeOf(err) != CodeRefundExceedsPaid {
		t.Fatalf("refund over the paid amount: %v", err)
	}
	if err := e.c.RegisterRefund(ctx, reg("R1", 2000)); !errors.Is(err, payments.ErrRefundRefused) || CodeOf(err) != CodeRefundNoConflict {
		t.Fatalf("refund number reused: %v", err)
	}
	if err := e.c.RegisterRefund(ctx, reg("R3", 8000)); err != nil {
		t.Fatal(err)
	}
	got, _ := e.c.Notice(ctx, n.PaymentCode)
	if got.Status != payments.NoticeRefunded {
		t.Fatalf("status %s after full refund", got.Status)
	}
	missing := "3501002699999999999"
	missing += string(CheckDigit(missing))
	if err := e.c.RegisterRefund(ctx, payments.RefundRegistration{PaymentCode: missing, RefundNo: "R9", Amount: 1, Reason: "x", RefundedAt: start}); !errors.Is(err, payments.ErrNoticeNotFound) {
		t.Fatalf("refund of a missing notice: %v", err)
	}
}

func TestConfirmationsOfADay(t *testing.T) {
	e := newEnv(t, nil)
	e.clock.Advance(48 * time.Hour)
	// 23:59:59 on 03-02 and 00:00:00 on 03-03 in China: one UTC date, two days.
	late := time.Date(2026, 3, 2, 15, 59, 59, 0, time.UTC)
	early := late.Add(time.Second)
	for i, at := range []time.Time{early, late, late.Add(-3 * time.Hour)} {
		n := e.issue("103040100101")
		conf := e.confirmation(n, "TX"+string(rune('0'+i)))
		conf.PaidAt = at
		if _, err := e.c.ConfirmPaid(ctx, conf); err != nil {
			t.Fatal(err)
		}
	}
	day, err := e.c.Confirmations(ctx, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) // 08:00 in China: 03-02
	if err != nil || len(day) != 2 || day[0].TransactionID != "TX2" || day[1].TransactionID != "TX1" ||
		day[1].Channel != payments.WeChatJSAPI || day[1].Amount != 2000 || !day[1].PaidAt.Equal(late) || day[1].OutTradeNo != "ZWTX1" {
		t.Fatalf("03-02: %v %+v", err, day)
	}
	day, err = e.c.Confirmations(ctx, time.Date(2026, 3, 2, 16, 30, 0, 0, time.UTC)) // 00:30 on 03-03 in China
	if err != nil || len(day) != 1 || day[0].TransactionID != "TX0" {
		t.Fatalf("03-03: %v %+v", err, day)
	}
	day, err = e.c.Confirmations(ctx, start.AddDate(0, 0, 5))
	if err != nil || len(day) != 0 {
		t.Fatalf("a day without payments: %v %+v", err, day)
	}
}

func TestNewChecksConfig(t *testing.T) {
	good := Config{BaseURL: "https://fs.example.gov.cn/nontax", AppKey: "k", AppSecret: "s"}
	if _, err := New(good, nil); err != nil {
		t.Fatal(err)
	}
	for _, edit := range []func(*Config){
		func(c *Config) { c.BaseURL = "fs.example.gov.cn" },
		func(c *Config) { c.BaseURL = "ftp://fs.example.gov.cn" },
		func(c *Config) { c.BaseURL = "https://fs.example.gov.cn/?x=1" },
		func(c *Config) { c.AppKey = "" },
		func(c *Config) { c.AppSecret = "" },
		func(c *Config) { c.SignMethod = "HMAC-MD5" },
	} {
		c := good
		edit(&c)
		if _, err := New(c, nil); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

// The client's check digit and the sandbox's (written apart) agree.
func TestCheckDigitAgreesWithTheSandbox(t *testing.T) {
	e := newEnv(t, nil)
	for _, n := range e.fake.Notices("", "") {
		if !ValidPaymentCode(n.PaymentCode) || CheckDigit(n.PaymentCode[:19]) != n.PaymentCode[19] {
			t.Fatalf("client rejects the sandbox's code %s", n.PaymentCode)
		}
	}
	for i := range 2000 {
		first := "350100" + "26" + strings.Repeat("0", 5) + string(rune('0'+i%10)) + fmtInt(i*7919, 5)
		if len(first) != 19 {
			t.Fatalf("bad test code %q", first)
		}
		if CheckDigit(first) != fakent.PaymentCodeCheckDigit(first) {
			t.Fatalf("check digit of %s: client %c, sandbox %c", first, CheckDigit(first), fakent.PaymentCodeCheckDigit(first))
		}
		for d := byte('0'); d <= '9'; d++ {
			code := first + string(d)
			if ValidPaymentCode(code) != (fakent.ValidatePaymentCode(code) == nil) {
				t.Fatalf("client and sandbox disagree on %s", code)
			}
		}
	}
	if CheckDigit("123") != '?' || CheckDigit(strings.Repeat("a", 19)) != '?' {
		t.Fatal("CheckDigit of a malformed prefix")
	}
}

// fmtInt writes n mod 10^width with leading zeros.
func fmtInt(n, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b)
}
