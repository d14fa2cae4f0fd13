package wechatpay_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/pay/order"

	"zwfw/sandbox/wechatpay"
)

// The SDK's own calls (PrePayOrder, BridgeConfig, QueryOrder, CloseOrder)
// against the fake, with both sign types.
func TestOrderLifecycleWithSDK(t *testing.T) {
	for _, signType := range []string{wechatpay.SignMD5, wechatpay.SignHMACSHA256} {
		t.Run(signType, func(t *testing.T) {
			e := newEnv(t)
			o := e.sdk(e.MiniProgramAppID()).GetOrder()
			params := func(amount string) *order.Params {
				return &order.Params{TotalFee: amount, CreateIP: "10.0.0.1", Body: "居民身份证工本费", OutTradeNo: "P20260302000001",
					OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", TradeType: "JSAPI", SignType: signType, Attach: "pay-1",
					TimeExpire: t0.Add(30 * time.Minute).In(time.FixedZone("CST", 8*3600)).Format("20060102150405")}
			}
			first, err := o.PrePayOrder(params("2000"))
			if err != nil || !strings.HasPrefix(first.PrePayID, "wx") || len(first.PrePayID) != 36 {
				t.Fatalf("PrePayOrder: %+v %v", first, err)
			}
			if first.AppID != e.MiniProgramAppID() || first.MchID != e.MchID() {
				t.Errorf("answer appid/mch_id: %+v", first)
			}
			cfg, err := o.BridgeConfig(params("2000"))
			if err != nil || cfg.PrePayID != first.PrePayID {
				t.Fatalf("identical repeat must return the same prepay_id: %+v %v", cfg, err)
			}
			if _, err := o.PrePayOrder(params("2001")); err == nil || !strings.Contains(err.Error(), "INVALID_REQUEST") {
				t.Errorf("another amount: %v", err)
			}

			q, err := o.QueryOrder(&order.QueryParams{OutTradeNo: "P20260302000001", SignType: signType})
			if err != nil || *q.TradeState != wechatpay.StateNotPaid || *q.TotalFee != 2000 {
				t.Fatalf("query unpaid: %v %v", err, q.TradeState)
			}
			if err := e.Pay("P20260302000001", wechatpay.PayOptions{}); err != nil {
				t.Fatal(err)
			}
			q, err = o.QueryOrder(&order.QueryParams{OutTradeNo: "P20260302000001", SignType: signType})
			if err != nil || *q.TradeState != wechatpay.StateSuccess || len(*q.TransactionID) != 28 || *q.Attach != "pay-1" || *q.TimeEnd != "20260302100000" {
				t.Fatalf("query paid: %v %+v", err, q)
			}
			if _, err := o.PrePayOrder(params("2000")); err == nil || !strings.HasPrefix(err.Error(), "ORDERPAID") {
				t.Errorf("unifiedorder of a paid order: %v", err)
			}
			if _, err := o.CloseOrder(&order.CloseParams{OutTradeNo: "P20260302000001", SignType: signType}); err == nil || !strings.HasPrefix(err.Error(), "ORDERPAID") {
				t.Errorf("close a paid order: %v", err)
			}

			// Close, then the order cannot be placed again.
			p2 := params("500")
			p2.OutTradeNo = "P20260302000002"
			if _, err := o.PrePayOrder(p2); err != nil {
				t.Fatal(err)
			}
			if _, err := o.CloseOrder(&order.CloseParams{OutTradeNo: "P20260302000002", SignType: signType}); err != nil {
				t.Fatalf("close: %v", err)
			}
			if _, err := o.CloseOrder(&order.CloseParams{OutTradeNo: "P20260302000002", SignType: signType}); err == nil || !strings.HasPrefix(err.Error(), "ORDERCLOSED") {
				t.Errorf("close twice: %v", err)
			}
			q, _ = o.QueryOrder(&order.QueryParams{OutTradeNo: "P20260302000002", SignType: signType})
			if *q.TradeState != wechatpay.StateClosed {
				t.Errorf("closed order state %s", *q.TradeState)
			}
			p2 = params("500")
			p2.OutTradeNo = "P20260302000002"
			if _, err := o.PrePayOrder(p2); err == nil || !strings.HasPrefix(err.Error(), "ORDERCLOSED") {
				t.Errorf("unifiedorder of a closed order: %v", err)
			}
			// Orders are scoped to the app id that placed them.
			other := e.sdk(e.AppAppID()).GetOrder()
			if _, err := other.QueryOrder(&order.QueryParams{OutTradeNo: "P20260302000001"}); err == nil || !strings.HasPrefix(err.Error(), "ORDERNOTEXIST") {
				t.Errorf("query under the other app id: %v", err)
			}
		})
	}
}

func TestUnifiedOrderValidation(t *testing.T) {
	e := newEnv(t)
	base := func() map[string]string {
		return map[string]string{"body": "b", "out_trade_no": "V1", "total_fee": "100", "spbill_create_ip": "1.2.3.4",
			"notify_url": "https://zwfw.example/notify", "trade_type": "JSAPI", "openid": "oUser"}
	}
	for _, tc := range []struct {
		name       string
		mod        func(map[string]string)
		signType   string
		returnCode string
		errCode    string
	}{
		{"ok", func(map[string]string) {}, wechatpay.SignMD5, "SUCCESS", ""},
		{"jsapi without openid", func(p map[string]string) { p["openid"] = ""; p["out_trade_no"] = "V2" }, wechatpay.SignMD5, "SUCCESS", "PARAM_ERROR"},
		{"app needs none", func(p map[string]string) {
			p["openid"] = ""
			p["trade_type"] = "APP"
			p["appid"] = e.AppAppID()
			p["out_trade_no"] = "V3"
		}, wechatpay.SignHMACSHA256, "SUCCESS", ""},
		{"zero amount", func(p map[string]string) { p["total_fee"] = "0"; p["out_trade_no"] = "V4" }, wechatpay.SignMD5, "SUCCESS", "PARAM_ERROR"},
		{"decimal amount", func(p map[string]string) { p["total_fee"] = "1.00"; p["out_trade_no"] = "V5" }, wechatpay.SignMD5, "SUCCESS", "PARAM_ERROR"},
		{"long out_trade_no", func(p map[string]string) { p["out_trade_no"] = strings.Repeat("1", 33) }, wechatpay.SignMD5, "SUCCESS", "PARAM_ERROR"},
		{"no notify_url", func(p map[string]string) { p["notify_url"] = ""; p["out_trade_no"] = "V6" }, wechatpay.SignMD5, "SUCCESS", "LACK_PARAMS"},
		{"notify_url with query", func(p map[string]string) { p["notify_url"] = "https://x/n?a=1"; p["out_trade_no"] = "V7" }, wechatpay.SignMD5, "SUCCESS", "PARAM_ERROR"},
		{"native not enabled", func(p map[string]string) { p["trade_type"] = "NATIVE"; p["out_trade_no"] = "V8" }, wechatpay.SignMD5, "SUCCESS", "NOAUTH"},
		{"expire too soon", func(p map[string]string) { p["time_expire"] = "20260302100030"; p["out_trade_no"] = "V9" }, wechatpay.SignMD5, "SUCCESS", "PARAM_ERROR"},
		{"bad expire", func(p map[string]string) { p["time_expire"] = "2026-03-02"; p["out_trade_no"] = "V10" }, wechatpay.SignMD5, "SUCCESS", "PARAM_ERROR"},
		{"foreign appid", func(p map[string]string) { p["appid"] = "wx0000000000000000" }, wechatpay.SignMD5, "FAIL", ""},
		{"foreign mch_id", func(p map[string]string) { p["mch_id"] = "1999999999" }, wechatpay.SignMD5, "FAIL", ""},
		{"bad sign_type", func(p map[string]string) { p["sign_type"] = "SHA1" }, wechatpay.SignMD5, "FAIL", ""},
		{"long nonce", func(p map[string]string) { p["nonce_str"] = strings.Repeat("n", 33) }, wechatpay.SignMD5, "FAIL", ""},
	} {
		p := base()
		tc.mod(p)
		ans, _ := e.call(http.DefaultClient, e.url, "/pay/unifiedorder", p, tc.signType)
		if ans.Get("return_code") != tc.returnCode || ans.Get("err_code") != tc.errCode {
			t.Errorf("%s: %v", tc.name, ans)
		}
		if ans.Get("return_code") == "SUCCESS" {
			st := tc.signType
			if !verifyAnswer(ans, e.APIKey(), st) {
				t.Errorf("%s: answer not signed with %s", tc.name, st)
			}
		}
	}

	// A request signed with another key, or tampered after signing, is refused.
	msg := wechatpay.Message{{Name: "appid", Value: e.MiniProgramAppID()}, {Name: "mch_id", Value: e.MchID()}, {Name: "nonce_str", Value: "n"}, {Name: "out_trade_no", Value: "V1"}}
	msg = append(msg, wechatpay.Field{Name: "sign", Value: wechatpay.Sign(msg.Map(), strings.Repeat("k", 32), wechatpay.SignMD5)})
	res, err := http.Post(e.url+"/pay/orderquery", "text/xml", strings.NewReader(string(msg.Encode())))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 512)
	n, _ := res.Body.Read(buf)
	if !strings.Contains(string(buf[:n]), "签名错误") {
		t.Errorf("wrong key: %s", buf[:n])
	}
}

// verifyAnswer checks an answer's signature.
func verifyAnswer(m wechatpay.Message, key, signType string) bool {
	return m.Get("sign") != "" && wechatpay.Sign(m.Map(), key, signType) == m.Get("sign")
}

func TestPrepayExpiryAndReissue(t *testing.T) {
	e := newEnv(t)
	first := e.order("E1", "100")
	e.clock.Advance(wechatpay.PrepayTTL)
	if again := e.order("E1", "100"); again == first {
		t.Error("a prepay_id older than 2 h must be replaced")
	}
	// time_expire: paying after it is refused.
	ans, _ := e.call(http.DefaultClient, e.url, "/pay/unifiedorder", map[string]string{"body": "b", "out_trade_no": "E2", "total_fee": "1",
		"spbill_create_ip": "1.1.1.1", "notify_url": "http://x/n", "trade_type": "JSAPI", "openid": "o",
		"time_expire": e.clock.Now().Add(5 * time.Minute).In(time.FixedZone("CST", 8*3600)).Format("20060102150405")}, wechatpay.SignMD5)
	if ans.Get("result_code") != "SUCCESS" {
		t.Fatal(ans)
	}
	e.clock.Advance(6 * time.Minute)
	if err := e.Pay("E2", wechatpay.PayOptions{}); err != wechatpay.ErrOrderExpired {
		t.Errorf("pay after time_expire: %v", err)
	}
}
