package logistics

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	fakecourier "zwfw/sandbox/courier"
)

// pushForm renders a signed Kuaidi100 push of a track of n in-transit
// entries (the newest 10 of them, newest first, as the aggregator sends).
func pushForm(num, salt string, n int) url.Values {
	type entry struct {
		Time       string `json:"time"`
		FTime      string `json:"ftime"`
		Context    string `json:"context"`
		Status     string `json:"status"`
		StatusCode string `json:"statusCode"`
		AreaName   string `json:"areaName"`
	}
	var data []entry
	for i := n; i > 0 && i > n-10; i-- {
		at := t0.Add(time.Duration(i) * time.Minute).Format("2006-01-02 15:04:05")
		data = append(data, entry{at, at, fmt.Sprintf("快件已到达【福州转运中心%d】", i), "在途", "1002", "福建,福州市"})
	}
	body, _ := json.Marshal(map[string]any{
		"status": "polling", "billstatus": "sending", "message": "", "autoCheck": "0", "comOld": "", "comNew": "",
		"lastResult": map[string]any{"message": "ok", "nu": num, "ischeck": "0", "com": "ems", "status": "200", "state": "0", "data": data},
	})
	return url.Values{"param": {string(body)}, "sign": {fakecourier.PushSign(string(body), salt)}}
}

// BenchmarkHandlePush measures valid pushes per second, each bringing one
// new tracking entry: find the waybill, verify, apply with a guarded
// versioned write. Pushes go round-robin over a few shipments, as pushes
// of many parcels interleave.
func BenchmarkHandlePush(b *testing.B) {
	e := newEnv(b)
	if err := e.fake.SetFault(fakecourier.PushFault{Mode: fakecourier.FaultOff}); err != nil {
		b.Fatal(err)
	}
	const parcels = 8
	var ships []Shipment
	for i := range parcels {
		ships = append(ships, e.pickup(1000+i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		sh := ships[i%parcels]
		form := pushForm(sh.WaybillNumber, sh.Salt, i/parcels+1)
		if _, err := e.svc.HandlePush(e.ctx, "ems", form); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "pushes/s")
}
