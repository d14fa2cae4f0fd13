package payments

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/mongox"
	"zwfw/platform/testenv"
)

// BenchmarkNotifyFirstVsRawGuarded measures, in one run, the raw guarded
// findOneAndUpdate rate and the rate of first paid notifies (each settles
// an open order: verify, order and payment updates, the confirmation job,
// the event), reports their ratio and the store calls a first notify makes.
// The goal: a first notify at ≥ 0.25 of a raw guarded update.
func BenchmarkNotifyFirstVsRawGuarded(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	bodies := make([][]byte, b.N)
	for i := range b.N {
		user := fmt.Sprintf("u%d", i)
		res := e.pay(user, e.notice(user, 1000), WeChatApp)
		bodies[i] = e.wx.pay(b, res.Order.ID, 1000)
	}
	db := e.store.payments.Database()
	raw := mongox.C(db, "bench_raw_guarded")
	id := bson.D{{Key: "_id", Value: "raw"}}
	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}
	if _, err := raw.InsertOne(ctx, bson.D{{Key: "_id", Value: "raw"}, {Key: "n", Value: 0}}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	t0 := time.Now()
	for range b.N {
		if err := raw.FindOneAndUpdate(ctx, id, inc).Err(); err != nil {
			b.Fatal(err)
		}
	}
	rawRate := float64(b.N) / time.Since(t0).Seconds()
	calls0, by0 := testenv.StoreCalls(db), testenv.StoreCallsBy(db)
	t1 := time.Now()
	for _, body := range bodies {
		r, err := e.svc.HandleNotify(ctx, WeChatPay, InboundNotify{Body: body})
		if err != nil || r.Outcome != OutcomePaid {
			b.Fatalf("first notify: %+v %v", r, err)
		}
	}
	first := float64(b.N) / time.Since(t1).Seconds()
	calls := float64(testenv.StoreCalls(db)-calls0) / float64(b.N)
	b.StopTimer()
	b.ReportMetric(rawRate, "raw_guarded/s")
	b.ReportMetric(first, "first_notify/s")
	b.ReportMetric(first/rawRate, "notify/raw")
	b.ReportMetric(calls, "store_calls/op")
	b.Logf("store calls per op: %s", testenv.CallsPerOp(by0, testenv.StoreCallsBy(db), b.N))
}
