package wechat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"zwfw/sandbox/wechat"
)

// getuserphonenumber through the real SDK: a code from the getPhoneNumber
// button gives the verified phone with the app's watermark, once.
func TestPhoneNumberCodeWorksOnce(t *testing.T) {
	w := newWeChat(t)
	auth := w.sdk().GetAuth()
	ctx := context.Background()
	code := w.IssuePhoneCode("13800138000")
	res, err := auth.GetPhoneNumberContext(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	info := res.PhoneInfo
	if info.PhoneNumber != "13800138000" || info.PurePhoneNumber != "13800138000" || info.CountryCode != "86" {
		t.Fatalf("phone_info = %+v", info)
	}
	if info.WaterMark.AppID != w.AppID() || info.WaterMark.Timestamp != w.clock.Now().Unix() {
		t.Fatalf("watermark = %+v", info.WaterMark)
	}
	if _, err := auth.GetPhoneNumberContext(ctx, code); errcode(t, err) != wechat.ErrCodeInvalidCode {
		t.Fatalf("used code: %v", err)
	}
	if _, err := auth.GetPhoneNumberContext(ctx, "never-issued"); errcode(t, err) != wechat.ErrCodeInvalidCode {
		t.Fatalf("unknown code: %v", err)
	}
	late := w.IssuePhoneCode("13900139001")
	w.clock.Advance(wechat.DefaultCodeTTL + time.Second)
	if _, err := auth.GetPhoneNumberContext(ctx, late); errcode(t, err) != wechat.ErrCodeInvalidCode {
		t.Fatalf("expired code: %v", err)
	}
}

// The wire rules: an access token is required, the body is {"code": ...}.
func TestPhoneNumberWireErrors(t *testing.T) {
	w := newWeChat(t)
	post := func(query, body string) int {
		t.Helper()
		res, err := http.Post(w.url+"/wxa/business/getuserphonenumber"+query, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("HTTP %d: WeChat answers errors with 200", res.StatusCode)
		}
		var e struct {
			ErrCode int `json:"errcode"`
		}
		if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
			t.Fatal(err)
		}
		return e.ErrCode
	}
	code := w.IssuePhoneCode("13800138000")
	if got := post("", `{"code":"`+code+`"}`); got != wechat.ErrCodeTokenMissing {
		t.Fatalf("no token: %d", got)
	}
	if got := post("?access_token=forged", `{"code":"`+code+`"}`); got != wechat.ErrCodeInvalidToken {
		t.Fatalf("forged token: %d", got)
	}
	tok, err := w.sdk().GetAuth().GetAccessToken()
	if err != nil {
		t.Fatal(err)
	}
	if got := post("?access_token="+tok, `code=`+code); got != wechat.ErrCodeDataFormat {
		t.Fatalf("form body: %d", got)
	}
	if got := post("?access_token="+tok, `{}`); got != wechat.ErrCodeCodeMissing {
		t.Fatalf("no code: %d", got)
	}
	// None of that used the code up.
	if got := post("?access_token="+tok, `{"code":"`+code+`"}`); got != 0 {
		t.Fatalf("good request: %d", got)
	}
}

func TestPhoneCodeControl(t *testing.T) {
	w := newWeChat(t)
	var out struct {
		Code      string `json:"code"`
		ExpiresIn int    `json:"expires_in"`
	}
	if st := w.control("/sandbox/wechat/phonecodes", map[string]string{"phone": "13800138000"}, &out); st != 201 || out.Code == "" || out.ExpiresIn != 300 {
		t.Fatalf("issue: %d %+v", st, out)
	}
	res, err := w.sdk().GetAuth().GetPhoneNumberContext(context.Background(), out.Code)
	if err != nil || res.PhoneInfo.PurePhoneNumber != "13800138000" {
		t.Fatalf("exchange: %+v %v", res, err)
	}
	for _, bad := range []string{"", "2380013800", "1380013800a", "+8613800138000"} {
		if st := w.control("/sandbox/wechat/phonecodes", map[string]string{"phone": bad}, nil); st != 400 {
			t.Errorf("phone %q: %d", bad, st)
		}
	}
}
