package wechatpay_test

import (
	"encoding/xml"
	"net/http"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/pay/notify"

	"zwfw/sandbox/wechatpay"
)

// The paid notify verifies with the SDK's own PaidVerifySign for both sign
// types and carries WeChat's field set.
func TestPaidNotifyVerifiesWithSDK(t *testing.T) {
	for _, signType := range []string{wechatpay.SignMD5, wechatpay.SignHMACSHA256} {
		t.Run(signType, func(t *testing.T) {
			e := newEnv(t)
			ans, _ := e.call(http.DefaultClient, e.url, "/pay/unifiedorder", map[string]string{"body": "b", "out_trade_no": "N1", "total_fee": "8000",
				"spbill_create_ip": "1.1.1.1", "notify_url": e.recv.srv.URL + "/notify", "trade_type": "JSAPI", "openid": "oPayer", "attach": "pay-9"}, signType)
			if ans.Get("result_code") != "SUCCESS" {
				t.Fatal(ans)
			}
			if err := e.Pay("N1", wechatpay.PayOptions{}); err != nil {
				t.Fatal(err)
			}
			e.recv.wait(t, 1)
			body := e.recv.all()[0]
			var res notify.PaidResult
			if err := xml.Unmarshal(body, &res); err != nil {
				t.Fatal(err)
			}
			if !e.sdk(e.MiniProgramAppID()).GetNotify().PaidVerifySign(res) {
				t.Fatalf("SDK does not verify the notify: %s", body)
			}
			msg, _ := wechatpay.ParseMessage(body)
			for _, f := range []string{"appid", "mch_id", "nonce_str", "sign", "result_code", "openid", "is_subscribe", "trade_type",
				"bank_type", "total_fee", "fee_type", "cash_fee", "transaction_id", "out_trade_no", "attach", "time_end"} {
				if msg.Get(f) == "" {
					t.Errorf("notify lacks %s", f)
				}
			}
			if msg.Get("total_fee") != "8000" || msg.Get("attach") != "pay-9" || len(msg.Get("transaction_id")) != 28 {
				t.Errorf("notify fields: %v", msg)
			}
			waitDelivered(t, e, 1)
		})
	}
}

// waitDelivered waits until n notifies are recorded as delivered.
func waitDelivered(t *testing.T, e *env, n int) []wechatpay.Notify {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ns := e.Notifies()
		done := 0
		for _, x := range ns {
			if x.Delivered || x.GaveUp {
				done++
			}
		}
		if done >= n {
			return ns
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifies: %+v", ns)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestNotifyModes(t *testing.T) {
	t.Run("retries until SUCCESS", func(t *testing.T) {
		e := newEnv(t)
		e.recv.failFirst = 2
		e.order("R1", "100")
		if err := e.Pay("R1", wechatpay.PayOptions{}); err != nil {
			t.Fatal(err)
		}
		e.recv.wait(t, 3)
		ns := waitDelivered(t, e, 1)
		if ns[0].Attempts != 3 || !ns[0].Delivered {
			t.Errorf("%+v", ns[0])
		}
	})
	t.Run("gives up", func(t *testing.T) {
		e := newEnv(t)
		e.recv.failFirst = 100
		e.order("R2", "100")
		_ = e.Pay("R2", wechatpay.PayOptions{})
		ns := waitDelivered(t, e, 1)
		if !ns[0].GaveUp || ns[0].Attempts != 3 {
			t.Errorf("%+v", ns[0])
		}
	})
	t.Run("drop", func(t *testing.T) {
		e := newEnv(t)
		e.order("R3", "100")
		_ = e.Pay("R3", wechatpay.PayOptions{Notify: wechatpay.NotifyDrop})
		ns := e.Notifies()
		if len(ns) != 1 || !ns[0].Dropped || ns[0].Attempts != 0 {
			t.Errorf("%+v", ns)
		}
	})
	t.Run("twice", func(t *testing.T) {
		e := newEnv(t)
		e.order("R4", "100")
		_ = e.Pay("R4", wechatpay.PayOptions{Notify: wechatpay.NotifyTwice})
		e.recv.wait(t, 2)
		if b := e.recv.all(); string(b[0]) != string(b[1]) {
			t.Error("the duplicate must be the same notify")
		}
	})
	t.Run("wrong amount", func(t *testing.T) {
		e := newEnv(t)
		e.order("R5", "100")
		_ = e.Pay("R5", wechatpay.PayOptions{AmountFen: 1})
		e.recv.wait(t, 1)
		msg, _ := wechatpay.ParseMessage(e.recv.all()[0])
		if msg.Get("total_fee") != "1" {
			t.Errorf("total_fee %s", msg.Get("total_fee"))
		}
	})
	t.Run("close stops retries", func(t *testing.T) {
		e := newEnv(t, func(o *wechatpay.Options) { o.NotifyRetryDelays = []time.Duration{time.Hour} })
		e.recv.failFirst = 100
		e.order("R6", "100")
		_ = e.Pay("R6", wechatpay.PayOptions{})
		e.recv.wait(t, 1)
		done := make(chan struct{})
		go func() { e.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not stop the pending retry")
		}
	})
	t.Run("pay twice", func(t *testing.T) {
		e := newEnv(t)
		e.order("R7", "100")
		_ = e.Pay("R7", wechatpay.PayOptions{Notify: wechatpay.NotifyDrop})
		if err := e.Pay("R7", wechatpay.PayOptions{}); err == nil {
			t.Error("a paid order cannot be paid again")
		}
		if err := e.Pay("nope", wechatpay.PayOptions{}); err != wechatpay.ErrOrderNotFound {
			t.Error(err)
		}
		if err := e.Pay("R7", wechatpay.PayOptions{Notify: "sometimes"}); err != wechatpay.ErrNotifyMode {
			t.Error(err)
		}
	})
}
