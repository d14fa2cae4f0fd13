package nontax

import (
	"strings"
	"testing"
	"time"
)

func TestConfirmPayment(t *testing.T) {
	e := newEnv(t, Options{NoDemoData: true})
	n := e.issue(itemsOf("103045500101", "103045500102")...)
	path := apiNotices + n.PaymentCode + "/payments"
	paidAt := start.Add(-2 * time.Minute)

	var res ConfirmResult
	e.post(path, "p1", payment("4200000001", n.Amount, paidAt)).ok(t).into(t, &res)
	r := res.Receipt
	if res.Status != StatusPaid || res.Confirmation.TransactionID != "4200000001" || !res.Confirmation.PaidAt.Equal(paidAt) ||
		len(r.Code) != 8 || r.Code != "35012601" || len(r.Number) != 10 || len(r.CheckSum) != 6 || r.Amount != 9000 ||
		!strings.HasPrefix(r.URL, e.srv.URL+ReceiptPath+"/35012601/"+r.Number+".pdf?check_sum=") {
		t.Fatalf("confirmation %+v", res)
	}

	// The same transaction again (another idempotency key): the same receipt.
	var again ConfirmResult
	e.clock.Advance(time.Hour)
	e.post(path, "p2", payment("4200000001", n.Amount, paidAt)).ok(t).into(t, &again)
	if again.Receipt != res.Receipt || again.Confirmation != res.Confirmation {
		t.Fatalf("repeat gave %+v, first %+v", again, res)
	}
	// The same transaction with another amount, another transaction: refused.
	e.post(path, "p3", payment("4200000001", n.Amount-1, paidAt)).want(t, 409, CodeAmountMismatch)
	e.post(path, "p4", payment("4200000002", n.Amount, paidAt)).want(t, 409, CodeNoticeAlreadyPaid)

	var got Notice
	e.get(apiNotices+n.PaymentCode).ok(t).into(t, &got)
	if got.Status != StatusPaid || got.PaidAmount != 9000 || got.Receipt == nil || got.Receipt.Number != r.Number || got.Confirmation == nil {
		t.Fatalf("notice after payment %+v", got)
	}
	var rc Receipt
	e.get(apiNotices+n.PaymentCode+"/receipt").ok(t).into(t, &rc)
	if rc != r {
		t.Fatalf("receipt %+v, want %+v", rc, r)
	}
}

func TestConfirmRefusals(t *testing.T) {
	e := newEnv(t, Options{NoDemoData: true})
	n := e.issue(itemsOf("103040100101")...)
	other := e.issue(itemsOf("103040100101")...)
	e.post(apiNotices+other.PaymentCode+"/payments", "o", payment("TX-OTHER", other.Amount, start)).ok(t)
	path := apiNotices + n.PaymentCode + "/payments"
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"amount too low", payment("T1", n.Amount-1, start), 409, CodeAmountMismatch},
		{"amount too high", payment("T1", n.Amount+100, start), 409, CodeAmountMismatch},
		{"transaction of another notice", payment("TX-OTHER", n.Amount, start), 409, CodeTransactionDuplicate},
		{"paid in the future", payment("T1", n.Amount, start.Add(10*time.Minute)), 400, CodeParamInvalid},
		{"unknown channel", merge(payment("T1", n.Amount, start), "channel", "unionpay"), 400, CodeParamInvalid},
		{"no transaction", merge(payment("T1", n.Amount, start), "transaction_id", ""), 400, CodeParamInvalid},
		{"amount in yuan", merge(payment("T1", n.Amount, start), "amount", 20.5), 400, CodeParamInvalid},
		{"no time zone", merge(payment("T1", n.Amount, start), "paid_at", "2026-03-02 10:00:00"), 400, CodeParamInvalid},
		{"unknown field", merge(payment("T1", n.Amount, start), "total_fee", 2000), 400, CodeParamInvalid},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.post(path, "k"+string(rune('a'+i)), c.body).want(t, c.status, c.code)
		})
	}
	e.post(apiNotices+"00000000000000000001/payments", "z", payment("T1", 1, start)).want(t, 400, CodePaymentCodeInvalid)
	// Paid at 23:59:59 of the due date is in time.
	e.post(path, "last", payment("T1", n.Amount, n.DueAt)).want(t, 400, CodeParamInvalid) // still in the future here
	e.clock.Advance(n.DueAt.Sub(start) + time.Hour)
	e.post(path, "late", payment("T1", n.Amount, n.DueAt.Add(time.Second))).want(t, 409, CodeNoticeExpired)
	e.post(path, "last2", payment("T1", n.Amount, n.DueAt)).ok(t)
}

func merge(m map[string]any, k string, v any) map[string]any { m[k] = v; return m }

func TestRefunds(t *testing.T) {
	e := newEnv(t, Options{NoDemoData: true})
	n := e.issue(itemsOf("103045500101", "103045500102")...) // 9000 fen
	path := apiNotices + n.PaymentCode + "/refunds"
	e.post(path, "r0", refund("R0", 100, start)).want(t, 409, CodeNoticeNotPaid)
	e.post(apiNotices+n.PaymentCode+"/payments", "p", payment("T1", n.Amount, start)).ok(t)

	var res RefundResult
	e.post(path, "r1", refund("R1", 1000, start)).ok(t).into(t, &res)
	if res.RefundedAmount != 1000 || res.Status != StatusPaid {
		t.Fatalf("partial refund %+v", res)
	}
	e.post(path, "r1b", refund("R1", 1000, start)).ok(t).into(t, &res) // same refund_no, another key
	if res.RefundedAmount != 1000 {
		t.Fatalf("repeated refund counted twice: %+v", res)
	}
	e.post(path, "r1c", refund("R1", 2000, start)).want(t, 409, CodeRefundNoConflict)
	e.post(path, "r2", refund("R2", 8001, start)).want(t, 409, CodeRefundExceedsPaid)
	e.post(path, "r3", refund("R3", 8000, start)).ok(t).into(t, &res)
	if res.RefundedAmount != 9000 || res.Status != StatusRefunded {
		t.Fatalf("full refund %+v", res)
	}
	e.post(path, "r4", refund("R4", 1, start)).want(t, 409, CodeRefundExceedsPaid)
	other := e.issue(itemsOf("103040100101")...)
	e.post(apiNotices+other.PaymentCode+"/payments", "p2", payment("T2", other.Amount, start)).ok(t)
	e.post(apiNotices+other.PaymentCode+"/refunds", "r5", refund("R1", 1000, start)).want(t, 409, CodeRefundNoConflict)
	e.post(path, "r6", map[string]any{"refund_no": "R6", "amount": 1, "reason": "", "refunded_at": start.Format(time.RFC3339)}).want(t, 400, CodeParamInvalid)

	var got Notice
	e.get(apiNotices+n.PaymentCode).ok(t).into(t, &got)
	if got.Status != StatusRefunded || got.RefundedAmount != 9000 || len(got.Refunds) != 2 {
		t.Fatalf("notice after refunds %+v", got)
	}
	// A wholly refunded notice still cannot be paid again.
	e.post(apiNotices+n.PaymentCode+"/payments", "p3", payment("T9", n.Amount, start)).want(t, 409, CodeNoticeAlreadyPaid)
}

func TestConfirmationsOfADay(t *testing.T) {
	e := newEnv(t, Options{NoDemoData: true})
	e.clock.Advance(48 * time.Hour)
	// 2026-03-02 23:59:59 and 2026-03-03 00:00:00 in China are one second
	// apart and on two days; the UTC date of both is 03-02.
	late := time.Date(2026, 3, 2, 15, 59, 59, 0, time.UTC)
	early := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
	for i, at := range []time.Time{early, late, late.Add(-time.Hour)} {
		n := e.issue(itemsOf("103040100101")...)
		e.post(apiNotices+n.PaymentCode+"/payments", "k"+string(rune('0'+i)), payment("T"+string(rune('0'+i)), n.Amount, at)).ok(t)
	}
	var day struct {
		Date          string         `json:"date"`
		Count         int            `json:"count"`
		TotalAmount   int64          `json:"total_amount"`
		Confirmations []Confirmation `json:"confirmations"`
	}
	e.get(APIPrefix+"/confirmations?date=2026-03-02").ok(t).into(t, &day)
	if day.Count != 2 || day.TotalAmount != 4000 || day.Confirmations[0].TransactionID != "T2" || day.Confirmations[1].TransactionID != "T1" {
		t.Fatalf("2026-03-02: %+v", day)
	}
	e.get(APIPrefix+"/confirmations?date=2026-03-03").ok(t).into(t, &day)
	if day.Count != 1 || day.Confirmations[0].TransactionID != "T0" {
		t.Fatalf("2026-03-03: %+v", day)
	}
	e.get(APIPrefix+"/confirmations?date=2026-03-04").ok(t).into(t, &day)
	if day.Count != 0 || day.Confirmations == nil {
		t.Fatalf("2026-03-04: %+v", day)
	}
	e.get(APIPrefix+"/confirmations").want(t, 400, CodeParamInvalid)
	e.get(APIPrefix+"/confirmations?date=03%2F02%2F2026").want(t, 400, CodeParamInvalid)
	var all []Confirmation
	if e.control("GET", "/sandbox/nontax/confirmations", nil, &all); len(all) != 3 {
		t.Fatalf("all confirmations %+v", all)
	}
	if e.control("GET", "/sandbox/nontax/confirmations?date=2026-03-03", nil, &all); len(all) != 1 {
		t.Fatalf("confirmations of 03-03 %+v", all)
	}
}
