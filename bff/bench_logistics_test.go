package bff_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/sandbox/courier"
)

// BenchmarkCourierPush: signed tracking pushes through
// POST /api/v1/callbacks/courier/{carrier}, against a bare Fiber POST
// handler in the same run. "new" pushes each carry one newer entry for one
// shipment (verify, guarded versioned update of the timeline); "replay"
// sends the same pushes again (verify, read, nothing newer: ack).
func BenchmarkCourierPush(b *testing.B) {
	l := newLoadBench(b)
	s := l.s
	token, caseID, _ := s.pickupCase("zhangsan")
	sh := s.bookPickup(token, caseID, "bench")
	var doc struct {
		Salt    string `bson:"salt"`
		Carrier string `bson:"carrier"`
	}
	if err := s.app.DB().Collection("shipments").FindOne(context.Background(), bson.D{{Key: "_id", Value: sh.ID}}).Decode(&doc); err != nil {
		b.Fatal(err)
	}
	// Pushes of one parcel are sequential at a courier: send them in order,
	// one worker per parcel would be the real pattern; here all workers
	// share one parcel, so older-than-known pushes are part of the load.
	n := min(max(b.N, 50), 300)
	cst := time.FixedZone("CST", 8*3600)
	base := time.Now().In(cst).Add(time.Hour).Truncate(time.Second)
	bodies := make([][]byte, n)
	for i := range bodies {
		at := base.Add(time.Duration(i) * time.Second).Format("2006-01-02 15:04:05")
		param := fmt.Sprintf(`{"status":"polling","billstatus":"change","message":"","lastResult":{"message":"ok","state":"0","status":"200","condition":"F00","ischeck":"0","com":"%s","nu":"%s","data":[{"time":"%s","ftime":"%s","context":"快件在【福州转运中心】完成分拣，准备发往下一站（%d）","status":"在途"}]}}`,
			doc.Carrier, sh.WaybillNumber, at, at, i)
		bodies[i] = []byte(url.Values{"param": {param}, "sign": {courier.PushSign(param, doc.Salt)}}.Encode())
	}
	target := s.base + "/api/v1/callbacks/courier/" + doc.Carrier
	form := "application/x-www-form-urlencoded"
	l.post(l.bare, form, bodies[:min(50, n)])
	b.ResetTimer()
	bare := l.post(l.bare, form, bodies)
	fresh := l.post(target, form, bodies)
	replay := l.post(target, form, bodies)
	b.StopTimer()
	b.ReportMetric(bare, "bare_req/s")
	b.ReportMetric(fresh, "new_push/s")
	b.ReportMetric(replay, "replayed_push/s")
	b.ReportMetric(fresh/bare, "new/bare")
	b.ReportMetric(replay/bare, "replay/bare")
}
