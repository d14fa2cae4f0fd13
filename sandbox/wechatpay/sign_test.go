package wechatpay_test

import (
	"errors"
	"testing"

	"zwfw/sandbox/wechatpay"
)

// WeChat Pay's published v2 example (developer docs, 安全规范).
func TestSignVector(t *testing.T) {
	params := map[string]string{"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000", "body": "test", "nonce_str": "ibuaiVcKdpRxkhJA"}
	const key = "192006250b4c09247ec02edce69f6a2d"
	for _, tc := range []struct{ signType, want string }{
		{wechatpay.SignMD5, "9A0A8659F005D6984697E2CA0A9CF3B7"},
		{wechatpay.SignHMACSHA256, "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"},
	} {
		if got := wechatpay.Sign(params, key, tc.signType); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.signType, got, tc.want)
		}
	}
	// sign and empty values are not signed.
	params["sign"], params["attach"] = "X", ""
	if got := wechatpay.Sign(params, key, wechatpay.SignMD5); got != "9A0A8659F005D6984697E2CA0A9CF3B7" {
		t.Errorf("sign/empty fields changed the signature: %s", got)
	}
}

func TestParseMessage(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"cdata and plain", `<xml><a><![CDATA[x<y]]></a><b>2</b></xml>`, true},
		{"repeated field", `<xml><a>1</a><a>2</a></xml>`, false},
		{"other root (the SDK's <queryRequest>)", `<queryRequest><a>1</a></queryRequest>`, true},
		{"not xml", `a=1&b=2`, false},
		{"trailing element", `<xml><a>1</a></xml><xml></xml>`, false},
	} {
		msg, err := wechatpay.ParseMessage([]byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
		if err != nil && !errors.Is(err, wechatpay.ErrMalformed) {
			t.Errorf("%s: %v is not ErrMalformed", tc.name, err)
		}
		if tc.ok && msg.Get("a") != "x<y" && msg.Get("a") != "1" {
			t.Errorf("%s: a = %q", tc.name, msg.Get("a"))
		}
	}
	// Encode round-trips values that break CDATA.
	m := wechatpay.Message{{Name: "v", Value: "a]]>b&<"}}
	back, err := wechatpay.ParseMessage(m.Encode())
	if err != nil || back.Get("v") != "a]]>b&<" {
		t.Fatalf("round trip: %v %q", err, back.Get("v"))
	}
}
