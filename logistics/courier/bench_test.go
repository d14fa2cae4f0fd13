package courier

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParsePush measures verifying and parsing a push with a full
// ten-entry track, what the callback handler does per push.
func BenchmarkParsePush(b *testing.B) {
	var data []string
	for i := 9; i >= 0; i-- {
		data = append(data, fmt.Sprintf(`{"time":"2026-03-02 1%d:00:00","ftime":"2026-03-02 1%d:00:00","context":"快件已到达【福州鼓楼集散中心】","location":"","status":"在途","areaCode":"CN350100000000","areaName":"福建,福州市","statusCode":"1002"}`, i, i))
	}
	param := `{"status":"polling","billstatus":"sending","message":"","autoCheck":"0","comOld":"","comNew":"","lastResult":{"message":"ok","nu":"1100000000001","ischeck":"0","condition":"F00","com":"ems","status":"200","state":"0","data":[` +
		strings.Join(data, ",") + `]}}`
	form := signedForm(param, testSalt)
	b.ReportAllocs()
	for b.Loop() {
		t, err := ParsePush(form, testSalt)
		if err != nil || len(t.Events) != 10 {
			b.Fatal(err)
		}
	}
}
