package wechatpay

import (
	"maps"
	"testing"

	"github.com/silenceper/wechat/v2/util"
)

// WeChat Pay's published v2 example verifies with the verifier ParseNotify
// and the answer checks use.
func TestSignatureVector(t *testing.T) {
	const key = "192006250b4c09247ec02edce69f6a2d"
	base := map[string]string{"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000", "body": "test", "nonce_str": "ibuaiVcKdpRxkhJA"}
	for _, tc := range []struct {
		signType, sign string
	}{
		{util.SignTypeMD5, "9A0A8659F005D6984697E2CA0A9CF3B7"},
		{util.SignTypeHMACSHA256, "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"},
	} {
		m := maps.Clone(base)
		m["sign"] = tc.sign
		if !verifySign(m, key, tc.signType) {
			t.Errorf("%s vector does not verify", tc.signType)
		}
		m["body"] = "test2"
		if verifySign(m, key, tc.signType) {
			t.Errorf("%s: a changed field still verifies", tc.signType)
		}
		m["body"] = "test"
		if verifySign(m, "192006250b4c09247ec02edce69f6a2e", tc.signType) {
			t.Errorf("%s: another key verifies", tc.signType)
		}
	}
	// The notify path: a notify without sign_type from an HMAC-SHA256
	// merchant is tried with HMAC-SHA256 first, then MD5.
	c := &Client{cfg: Config{SignType: util.SignTypeHMACSHA256}}
	m := maps.Clone(base)
	m["sign"] = "9A0A8659F005D6984697E2CA0A9CF3B7"
	if !verifySign(m, key, c.notifySignTypes(m)...) {
		t.Error("MD5 notify of an HMAC merchant")
	}
	m["sign_type"] = "SHA1"
	if c.notifySignTypes(m) != nil {
		t.Error("unknown sign_type must not verify")
	}
}
