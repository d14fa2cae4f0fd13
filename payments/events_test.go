package payments

import (
	"reflect"
	"testing"
	"time"

	"zwfw/platform/events"
)

// Each event, built the way the domain builds it, decodes from the log into
// its exported payload struct unchanged.
func TestEventsRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	p := Payment{ID: "35010026000000000001", Amount: 1000, DueAt: at.Add(72 * time.Hour), Agency: "福州市公安局交通警察支队",
		CaseNumber: "FZ2026112300001", UserIDs: []string{"u1", "u2"}, PayerIndex: "ix"}
	o := Order{ID: "ZW26112310000012345678", PaymentID: p.ID, UserID: "u1", Channel: WeChatJSAPI, Amount: 1000,
		TransactionID: "4200000001", PaidAt: at.Add(time.Minute)}
	r := Refund{ID: "RF26112310000000000001", PaymentID: p.ID, Amount: 300, Reason: "多收工本费", Actor: "admin1"}
	receipt := Receipt{Number: "0000000001", URL: "http://receipts/1"}
	cases := []struct {
		name    string
		pending events.Pending
		typ     string
		into    any
		want    any
	}{
		{"notice issued", noticeIssuedEvent(p, at), EventNoticeIssued, &NoticeIssued{},
			&NoticeIssued{PaymentCode: p.ID, Amount: 1000, DueAt: p.DueAt, Agency: p.Agency, CaseNumber: p.CaseNumber, UserIDs: p.UserIDs, PayerIndex: "ix"}},
		{"succeeded", succeededEvent(p, o, at), EventSucceeded, &Succeeded{},
			&Succeeded{PaymentCode: p.ID, OrderID: o.ID, Channel: WeChatJSAPI, Amount: 1000, TransactionID: o.TransactionID, PaidAt: o.PaidAt, UserID: "u1", CaseNumber: p.CaseNumber}},
		{"receipt issued", receiptIssuedEvent(p.ID, receipt, o, at), EventReceiptIssued, &ReceiptIssued{},
			&ReceiptIssued{PaymentCode: p.ID, ReceiptNumber: receipt.Number, ReceiptURL: receipt.URL, UserID: "u1", Amount: 1000}},
		{"refunded", refundedEvent(r, "u1", at), EventRefunded, &Refunded{},
			&Refunded{PaymentCode: p.ID, RefundID: r.ID, Amount: 300, Reason: r.Reason, UserID: "u1"}},
		{"duplicate paid", duplicatePaidEvent(p, o, "RD1", at), EventDuplicatePaid, &DuplicatePaid{},
			&DuplicatePaid{PaymentCode: p.ID, OrderID: o.ID, Channel: WeChatJSAPI, Amount: 1000, TransactionID: o.TransactionID, RefundID: "RD1", UserID: "u1", CaseNumber: p.CaseNumber}},
	}
	ids := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := c.pending.Event()
			if e.Type != c.typ || e.Subject != "payment:"+p.ID || e.ID == "" {
				t.Fatalf("event %+v", e)
			}
			if ids[e.ID] {
				t.Fatalf("id %s used by two events", e.ID)
			}
			ids[e.ID] = true
			if err := e.Decode(c.into); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.into, c.want) {
				t.Fatalf("decoded %+v, want %+v", c.into, c.want)
			}
		})
	}
}
