package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	wxsdk "github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/cache"
	miniConfig "github.com/silenceper/wechat/v2/miniprogram/config"
	"github.com/silenceper/wechat/v2/util"

	"zwfw/notify"
	"zwfw/sandbox"
	"zwfw/sandbox/sms"
	"zwfw/sandbox/wechat"
)

func start(t *testing.T, opts sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	s := sandbox.New(opts)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

func TestCredentialsAreGeneratedPerSandbox(t *testing.T) {
	a, b := sandbox.New(sandbox.Options{}), sandbox.New(sandbox.Options{})
	wa, sa := a.WeChat(), a.SMS()
	if !regexp.MustCompile(`^wx[0-9a-f]{16}$`).MatchString(wa.AppID) || len(wa.AppSecret) != 32 {
		t.Fatalf("wechat credentials %+v", wa)
	}
	if !strings.HasPrefix(sa.AccessKeyID, "LTAI") || len(sa.AccessKeySecret) != 30 || sa.SignName == "" || sa.LoginTemplateCode != sms.LoginTemplateCode {
		t.Fatalf("sms credentials %+v", sa)
	}
	if wa == b.WeChat() || sa.AccessKeySecret == b.SMS().AccessKeySecret {
		t.Fatal("two sandboxes share credentials")
	}
}

func TestServesEveryFakeOnOneServer(t *testing.T) {
	s := start(t, sandbox.Options{})
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+$`).MatchString(s.URL()) {
		t.Fatalf("URL %q", s.URL())
	}
	if err := s.Start("127.0.0.1:0"); err == nil {
		t.Fatal("started twice")
	}

	status, body := get(t, s.URL()+"/sandbox/")
	var index struct {
		URL   string `json:"url"`
		Fakes []struct {
			Name     string `json:"name"`
			API      []any  `json:"api"`
			Controls []any  `json:"controls"`
		} `json:"fakes"`
	}
	if err := json.Unmarshal(body, &index); status != 200 || err != nil {
		t.Fatalf("index: HTTP %d %v %s", status, err, body)
	}
	var names []string
	for _, f := range index.Fakes {
		names = append(names, f.Name)
		if len(f.API) == 0 || len(f.Controls) == 0 {
			t.Errorf("fake %s lists no routes", f.Name)
		}
	}
	if strings.Join(names, ",") != "wechat,sms,province,wechatpay,alipay,nontax,courier,push" || index.URL != s.URL() {
		t.Fatalf("index lists %v at %s", names, index.URL)
	}
	if strings.Contains(string(body), s.WeChat().AppSecret) || strings.Contains(string(body), s.SMS().AccessKeySecret) ||
		strings.Contains(string(body), s.Province().AppSecret) || strings.Contains(string(body), s.WeChatPay().APIKey) ||
		strings.Contains(string(body), s.NonTax().AppSecret) || strings.Contains(string(body), s.Courier().Secret) ||
		strings.Contains(string(body), s.Push().MasterSecret) || strings.Contains(string(body), "PRIVATE KEY") {
		t.Fatal("the index shows a secret")
	}

	status, body = get(t, s.URL()+"/no/such/api")
	if status != 404 || !strings.Contains(string(body), "no fake serves GET /no/such/api") {
		t.Fatalf("unknown route: HTTP %d %s", status, body)
	}
}

func TestCloseStopsServing(t *testing.T) {
	s := sandbox.New(sandbox.Options{})
	if s.URL() != "" {
		t.Fatal("URL before Start")
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(s.URL() + "/sandbox/"); err == nil {
		t.Fatal("still serving after Close")
	}
}

// The clients zwfw uses, pointed at one sandbox as bff does it: the WeChat
// SDK through its URI hook, the SMS client through its endpoint.
func TestZwfwClientsAgainstTheSandbox(t *testing.T) {
	s := start(t, sandbox.Options{})
	util.SetURIModifier(func(uri string) string {
		return strings.Replace(uri, "https://api.weixin.qq.com", s.URL(), 1)
	})
	t.Cleanup(func() { util.SetURIModifier(nil) })

	wx := s.WeChat()
	mp := wxsdk.NewWechat().GetMiniProgram(&miniConfig.Config{AppID: wx.AppID, AppSecret: wx.AppSecret, Cache: cache.NewMemory()})
	res, err := mp.GetAuth().Code2SessionContext(t.Context(), "test:zhangsan")
	if err != nil || res.OpenID != wechat.OpenIDFor(wx.AppID, "zhangsan") {
		t.Fatalf("code2Session: %+v %v", res, err)
	}

	cred := s.SMS()
	client := notify.NewAliyunSMS(notify.AliyunSMSConfig{
		Endpoint: s.URL(), AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SignName: cred.SignName,
	})
	if _, err := client.Send(t.Context(), "13800138000", cred.LoginTemplateCode, map[string]string{"code": "482913"}); err != nil {
		t.Fatal(err)
	}
	// What bff's tests and a human tester do: read the code back.
	_, body := get(t, s.URL()+"/sandbox/sms/messages?phone=13800138000")
	var msgs []map[string]any
	if err := json.Unmarshal(body, &msgs); err != nil || len(msgs) != 1 {
		t.Fatalf("messages %s", body)
	}
	if code := msgs[0]["params"].(map[string]any)["code"]; code != "482913" {
		t.Fatalf("code read back %v", code)
	}
	// Flow control is on by default.
	_, err = client.Send(t.Context(), "13800138000", cred.LoginTemplateCode, map[string]string{"code": "000000"})
	var se *notify.SMSError
	if !errors.As(err, &se) || !se.FlowControlled() {
		t.Fatalf("second code within a minute: %v", err)
	}
}

func TestSMSFlowControlCanBeTurnedOff(t *testing.T) {
	s := start(t, sandbox.Options{SMSFlowControl: &sms.FlowControl{}})
	cred := s.SMS()
	client := notify.NewAliyunSMS(notify.AliyunSMSConfig{
		Endpoint: s.URL(), AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SignName: cred.SignName,
	})
	for i := range 3 {
		if _, err := client.Send(t.Context(), "13800138000", cred.LoginTemplateCode, map[string]string{"code": "123456"}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := len(s.SMSGateway().Messages("13800138000")); n != 3 {
		t.Fatalf("%d messages", n)
	}
}
