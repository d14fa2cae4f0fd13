package wechatpay_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/pay/order"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/wechatpay"
)

var _ fake.Fake = (*wechatpay.Server)(nil)

func (e *env) control(method, path string, body any, out any) int {
	e.t.Helper()
	var r *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	} else {
		r = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, e.url+path, r)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

func TestControls(t *testing.T) {
	e := newEnv(t)
	e.order("C1", "300")
	if code := e.control("POST", "/sandbox/wechatpay/notify-mode", map[string]string{"notify": "drop"}, nil); code != 200 {
		t.Fatal(code)
	}
	var o wechatpay.Order
	if code := e.control("POST", "/sandbox/wechatpay/pay", map[string]any{"out_trade_no": "C1", "amount_fen": 299}, &o); code != 200 || o.State != "SUCCESS" || o.PaidFee != 299 {
		t.Fatalf("pay: %d %+v", code, o)
	}
	if code := e.control("POST", "/sandbox/wechatpay/pay", map[string]any{"out_trade_no": "C1"}, nil); code != http.StatusConflict {
		t.Errorf("pay twice: %d", code)
	}
	if code := e.control("POST", "/sandbox/wechatpay/pay", map[string]any{"out_trade_no": "none"}, nil); code != http.StatusNotFound {
		t.Errorf("unknown order: %d", code)
	}
	var ns []wechatpay.Notify
	e.control("GET", "/sandbox/wechatpay/notifies", nil, &ns)
	if len(ns) != 1 || !ns[0].Dropped || ns[0].Kind != "paid" {
		t.Errorf("notifies %+v", ns)
	}
	var os []wechatpay.Order
	e.control("GET", "/sandbox/wechatpay/orders", nil, &os)
	if len(os) != 1 || os[0].OutTradeNo != "C1" {
		t.Errorf("orders %+v", os)
	}

	// Surplus: money for an order the merchant closed.
	e.order("C2", "500")
	if err := e.Surplus("C2", wechatpay.PayOptions{}); err == nil {
		t.Error("surplus of an open order")
	}
	ans, _ := e.call(http.DefaultClient, e.url, "/pay/closeorder", map[string]string{"out_trade_no": "C2"}, wechatpay.SignMD5)
	if ans.Get("result_code") != "SUCCESS" {
		t.Fatal(ans)
	}
	if code := e.control("POST", "/sandbox/wechatpay/surplus", map[string]any{"out_trade_no": "C2", "notify": "send"}, &o); code != 200 || !o.Surplus || o.State != "SUCCESS" {
		t.Errorf("surplus: %d %+v", code, o)
	}
	e.recv.wait(t, 1)

	if d := e.Describe(); d.Name != "wechatpay" || d.Info["mch_id"] != e.MchID() || strings.Contains(strings.Join(d.Notes, " "), e.APIKey()) {
		t.Errorf("describe %+v", d)
	}
}

// The user pays with the parameters the SDK's BridgeConfig / BridgeAppConfig
// produced, as the WeChat client would check them.
func TestPayParams(t *testing.T) {
	e := newEnv(t)
	jsapi, err := e.sdk(e.MiniProgramAppID()).GetOrder().BridgeConfig(&order.Params{TotalFee: "100", CreateIP: "1.1.1.1", Body: "b",
		OutTradeNo: "J1", OpenID: "oPayer", TradeType: "JSAPI", SignType: wechatpay.SignHMACSHA256})
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"appId": e.MiniProgramAppID(), "timeStamp": jsapi.Timestamp, "nonceStr": jsapi.NonceStr,
		"package": jsapi.Package, "signType": jsapi.SignType, "paySign": jsapi.PaySign}
	tampered := map[string]string{}
	for k, v := range params {
		tampered[k] = v
	}
	tampered["timeStamp"] = "1"
	if _, err := e.PayParams(tampered, wechatpay.PayOptions{}); err == nil {
		t.Error("tampered paySign accepted")
	}
	if otn, err := e.PayParams(params, wechatpay.PayOptions{Notify: wechatpay.NotifyDrop}); err != nil || otn != "J1" {
		t.Fatalf("JSAPI params: %v %s", err, otn)
	}

	app, err := e.sdk(e.AppAppID()).GetOrder().BridgeAppConfig(&order.Params{TotalFee: "100", CreateIP: "1.1.1.1", Body: "b", OutTradeNo: "A1", TradeType: "APP"})
	if err != nil {
		t.Fatal(err)
	}
	var o wechatpay.Order
	code := e.control("POST", "/sandbox/wechatpay/pay", map[string]any{"notify": "drop", "params": map[string]string{
		"appid": app.AppID, "partnerid": app.MchID, "prepayid": app.PrePayID, "package": app.Package,
		"noncestr": app.NonceStr, "timestamp": app.Timestamp, "sign": app.Sign}}, &o)
	if code != 200 || o.OutTradeNo != "A1" || o.State != "SUCCESS" || o.OpenID == "" {
		t.Errorf("APP params: %d %+v", code, o)
	}
}

// docs/sandbox.md documents every control the fake describes.
func TestDocsListControls(t *testing.T) {
	doc, err := os.ReadFile("../../docs/sandbox.md")
	if err != nil {
		t.Fatal(err)
	}
	s := wechatpay.New(wechatpay.Options{})
	defer s.Close()
	for _, c := range s.Describe().Controls {
		if !strings.Contains(string(doc), c.Path) {
			t.Errorf("docs/sandbox.md lacks %s %s", c.Method, c.Path)
		}
	}
}
