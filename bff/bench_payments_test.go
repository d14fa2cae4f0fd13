package bff_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zwfw/payments"
	"zwfw/sandbox/wechatpay"
)

// post sends each body once with benchWorkers concurrent clients and returns
// requests/second; every answer must be 200.
func (l *loadBench) post(target, contentType string, bodies [][]byte) float64 {
	var next, failed, lastStatus atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for w := 0; w < benchWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(bodies)) {
					return
				}
				res, err := l.client.Post(target, contentType, bytes.NewReader(bodies[i]))
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					failed.Add(1)
					lastStatus.Store(int64(res.StatusCode))
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		l.b.Fatalf("%d of %d posts to %s failed (last status %d)", f, len(bodies), target, lastStatus.Load())
	}
	return float64(len(bodies)) / time.Since(begin).Seconds()
}

// seedOpenOrders stores n unpaid notices, each with an open WeChat Pay
// order, and returns the signed paid notify WeChat Pay would send for each.
func seedOpenOrders(b *testing.B, s *server, n int) [][]byte {
	store := payments.NewMongoStore(s.app.DB())
	wp := s.app.Sandbox().WeChatPay()
	ctx := context.Background()
	now := time.Now().UTC()
	run := now.UnixNano() % 1_000_000
	bodies := make([][]byte, n)
	for i := range bodies {
		code := fmt.Sprintf("3501002699%04d%06d", run%10000, i)
		orderID := fmt.Sprintf("ZWB%06d%08d", run, i)
		p := payments.Payment{ID: code, PayerName: "张三", PayerKind: "person", Agency: "福州市公安局交通警察支队",
			Amount: 1000, IssuedAt: now, DueAt: now.Add(24 * time.Hour), Status: payments.StatusUnpaid, OpenOrder: orderID,
			UserIDs: []string{"bench"}, CreatedAt: now, UpdatedAt: now}
		if _, _, err := store.InsertPayment(ctx, p); err != nil {
			b.Fatal(err)
		}
		o := payments.Order{ID: orderID, PaymentID: code, UserID: "bench", Channel: payments.WeChatApp, Provider: payments.WeChatPay,
			Amount: 1000, Status: payments.OrderOpen, CreatedAt: now, ExpiresAt: now.Add(30 * time.Minute)}
		if err := store.InsertOrder(ctx, o); err != nil {
			b.Fatal(err)
		}
		fields := wechatpay.Message{
			{Name: "return_code", Value: "SUCCESS"}, {Name: "appid", Value: wp.AppAppID}, {Name: "mch_id", Value: wp.MchID},
			{Name: "nonce_str", Value: fmt.Sprintf("n%031d", i)}, {Name: "result_code", Value: "SUCCESS"},
			{Name: "openid", Value: "oBench"}, {Name: "trade_type", Value: "APP"}, {Name: "bank_type", Value: "OTHERS"},
			{Name: "total_fee", Value: "1000"}, {Name: "fee_type", Value: "CNY"}, {Name: "cash_fee", Value: "1000"},
			{Name: "transaction_id", Value: fmt.Sprintf("42000000%06d%014d", run, i)}, {Name: "out_trade_no", Value: orderID},
			{Name: "attach", Value: code}, {Name: "time_end", Value: now.Add(8 * time.Hour).Format("20060102150405")},
		}
		sig := wechatpay.Sign(fields.Map(), wp.APIKey, "MD5")
		bodies[i] = append(fields, wechatpay.Field{Name: "sign", Value: sig}).Encode()
	}
	return bodies
}

// BenchmarkPaymentNotify: WeChat Pay paid notifies through
// POST /api/v1/callbacks/wechatpay/notify, against a bare Fiber POST handler
// in the same run. "first" notifies each mark a distinct open order paid
// (verify, guarded order and payment updates, confirmation job, event);
// "replay" sends the same notifies again (verify, one order read, ack), the
// path WeChat's retries take.
func BenchmarkPaymentNotify(b *testing.B) {
	l := newLoadBench(b)
	// Each first notify needs a seeded order: bound them so -benchtime 3000x
	// stays minutes, not tens of minutes, on the embedded store.
	n := min(max(b.N, 50), 400)
	bodies := seedOpenOrders(b, l.s, n)
	bareBodies := make([][]byte, n)
	for i := range bareBodies {
		bareBodies[i] = bodies[i]
	}
	target := l.s.base + "/api/v1/callbacks/wechatpay/notify"
	l.post(l.bare, "text/xml", bareBodies[:min(50, n)]) // warm connections
	b.ResetTimer()
	bare := l.post(l.bare, "text/xml", bareBodies)
	first := l.post(target, "text/xml", bodies)
	replay := l.post(target, "text/xml", bodies)
	b.StopTimer()
	b.ReportMetric(bare, "bare_req/s")
	b.ReportMetric(first, "first_notify/s")
	b.ReportMetric(replay, "replayed_notify/s")
	b.ReportMetric(first/bare, "first/bare")
	b.ReportMetric(replay/bare, "replay/bare")
}
