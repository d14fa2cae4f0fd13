package push_test

import (
	"context"
	"testing"

	"zwfw/notify/push"
	pushfake "zwfw/sandbox/push"
)

// BenchmarkSend measures one notification through the client to the
// sandbox's fake over real HTTP (keep-alive), in parallel.
func BenchmarkSend(b *testing.B) {
	e := newEnv(b, true)
	ids := []string{e.gw.RegisterDevice(pushfake.PlatformAndroid), e.gw.RegisterDevice(pushfake.PlatformIOS)}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m := push.Message{RegistrationID: ids[i%2], Title: "预约提醒", Body: "您预约的业务明天上午9:00办理，请携带身份证", Extras: map[string]string{"booking": "B1"}}
			if _, err := e.client.Send(ctx, m); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
