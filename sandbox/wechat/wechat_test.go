package wechat_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wxsdk "github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/miniprogram"
	miniConfig "github.com/silenceper/wechat/v2/miniprogram/config"
	"github.com/silenceper/wechat/v2/miniprogram/subscribe"
	"github.com/silenceper/wechat/v2/util"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/wechat"
)

// The SDK's URI hook is process-wide, so it is set once and sends
// api.weixin.qq.com to whichever fake the running test started. Tests in
// this package therefore do not run in parallel.
var target atomic.Pointer[string]

func TestMain(m *testing.M) {
	util.SetURIModifier(func(uri string) string {
		const official = "https://api.weixin.qq.com"
		if base := target.Load(); base != nil && strings.HasPrefix(uri, official+"/") {
			return *base + strings.TrimPrefix(uri, official)
		}
		return uri
	})
	os.Exit(m.Run())
}

// wx is a fake WeChat on a real HTTP server, with a clock the test steps.
type wx struct {
	*wechat.Server
	t     *testing.T
	clock *fake.ManualClock
	url   string
}

func newWeChat(t *testing.T) *wx {
	t.Helper()
	clock := fake.NewManualClock(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
	s := wechat.New(wechat.Options{Now: clock.Now})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	target.Store(&srv.URL)
	return &wx{Server: s, t: t, clock: clock, url: srv.URL}
}

// sdk is the real SDK's mini-program client with its own token cache, as
// zwfw builds it; mod changes its configuration.
func (w *wx) sdk(mod ...func(*miniConfig.Config)) *miniprogram.MiniProgram {
	cfg := &miniConfig.Config{AppID: w.AppID(), AppSecret: w.AppSecret(), Cache: cache.NewMemory()}
	for _, m := range mod {
		m(cfg)
	}
	return wxsdk.NewWechat().GetMiniProgram(cfg)
}

// control calls a /sandbox/wechat/ route with a JSON body.
func (w *wx) control(path string, body any, out any) int {
	w.t.Helper()
	b, _ := json.Marshal(body)
	res, err := http.Post(w.url+path, "application/json", strings.NewReader(string(b)))
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			w.t.Fatal(err)
		}
	}
	return res.StatusCode
}

func (w *wx) get(path string, out any) {
	w.t.Helper()
	res, err := http.Get(w.url + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		w.t.Fatal(err)
	}
}

var errcodePattern = regexp.MustCompile(`errcode=(-?\d+)`)

// errcode recovers WeChat's errcode from an SDK error (the SDK formats it
// into the message); 0 for nil.
func errcode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	m := errcodePattern.FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("not a WeChat API error: %v", err)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestTestCodeLogsInAsAStableUser(t *testing.T) {
	w := newWeChat(t)
	auth := w.sdk().GetAuth()
	first, err := auth.Code2SessionContext(t.Context(), "test:zhangsan")
	if err != nil {
		t.Fatal(err)
	}
	if first.OpenID != wechat.OpenIDFor(w.AppID(), "zhangsan") || len(first.OpenID) != 28 || first.OpenID[0] != 'o' {
		t.Fatalf("openid %q", first.OpenID)
	}
	if first.UnionID != wechat.UnionIDFor("zhangsan") || len(first.UnionID) != 28 {
		t.Fatalf("unionid %q", first.UnionID)
	}
	if key, err := base64.StdEncoding.DecodeString(first.SessionKey); err != nil || len(key) != 16 {
		t.Fatalf("session_key %q is not a base64 AES-128 key", first.SessionKey)
	}

	again, err := auth.Code2SessionContext(t.Context(), "test:zhangsan") // test codes are reusable
	if err != nil {
		t.Fatal(err)
	}
	if again.OpenID != first.OpenID || again.SessionKey == first.SessionKey {
		t.Fatalf("second login: openid %s, session_key reused: %v", again.OpenID, again.SessionKey == first.SessionKey)
	}
	other, _ := auth.Code2SessionContext(t.Context(), "test:lisi")
	if other.OpenID == first.OpenID || other.UnionID == first.UnionID {
		t.Fatal("two names, one user")
	}
}

// The openid is per app; the unionid is the person, so it survives a
// sandbox restart with new credentials.
func TestOpenIDIsPerAppUnionIDIsNot(t *testing.T) {
	a, b := wechat.New(wechat.Options{}), wechat.New(wechat.Options{})
	if a.AppID() == b.AppID() || !regexp.MustCompile(`^wx[0-9a-f]{16}$`).MatchString(a.AppID()) || len(a.AppSecret()) != 32 {
		t.Fatalf("generated credentials %s/%s and %s", a.AppID(), a.AppSecret(), b.AppID())
	}
	if wechat.OpenIDFor(a.AppID(), "zhangsan") == wechat.OpenIDFor(b.AppID(), "zhangsan") {
		t.Fatal("openid does not depend on the app")
	}
}

func TestIssuedCodeWorksOnce(t *testing.T) {
	w := newWeChat(t)
	var issued struct {
		Code    string `json:"code"`
		OpenID  string `json:"openid"`
		UnionID string `json:"unionid"`
	}
	if s := w.control("/sandbox/wechat/codes", map[string]string{"name": "wangwu"}, &issued); s != 201 {
		t.Fatalf("POST codes: HTTP %d", s)
	}
	auth := w.sdk().GetAuth()
	res, err := auth.Code2SessionContext(t.Context(), issued.Code)
	if err != nil {
		t.Fatal(err)
	}
	if res.OpenID != wechat.OpenIDFor(w.AppID(), "wangwu") || res.OpenID != issued.OpenID || res.UnionID != issued.UnionID {
		t.Fatalf("logged in as %s, issued for %s", res.OpenID, issued.OpenID)
	}
	_, err = auth.Code2SessionContext(t.Context(), issued.Code)
	if got := errcode(t, err); got != wechat.ErrCodeCodeUsed {
		t.Fatalf("reused code: errcode %d, want 40163", got)
	}
	if s := w.control("/sandbox/wechat/codes", map[string]string{"name": " "}, nil); s != 400 {
		t.Fatalf("code for no name: HTTP %d", s)
	}
}

func TestLoginErrors(t *testing.T) {
	tests := map[string]struct {
		code    func(w *wx) string
		config  func(*miniConfig.Config)
		errcode int
	}{
		"code never issued":        {code: func(*wx) string { return "0a3XyZ4Ga1VZmH0Kb62Ga0Ji1I1XyZ4q" }, errcode: wechat.ErrCodeInvalidCode},
		"test code without a name": {code: func(*wx) string { return "test:" }, errcode: wechat.ErrCodeInvalidCode},
		"code older than 5 minutes": {code: func(w *wx) string {
			c := w.IssueCode("zhaoliu")
			w.clock.Advance(5*time.Minute + time.Second)
			return c
		}, errcode: wechat.ErrCodeInvalidCode},
		"wrong secret": {
			config: func(c *miniConfig.Config) { c.AppSecret = strings.Repeat("0", 32) }, errcode: wechat.ErrCodeInvalidSecret,
		},
		"wrong appid": {
			config: func(c *miniConfig.Config) { c.AppID = "wx0000000000000000" }, errcode: wechat.ErrCodeInvalidAppID,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWeChat(t)
			code := "test:zhangsan"
			if tc.code != nil {
				code = tc.code(w)
			}
			cfg := func(*miniConfig.Config) {}
			if tc.config != nil {
				cfg = tc.config
			}
			res, err := w.sdk(cfg).GetAuth().Code2SessionContext(t.Context(), code)
			if got := errcode(t, err); got != tc.errcode {
				t.Fatalf("errcode %d, want %d (%v)", got, tc.errcode, err)
			}
			if res.OpenID != "" || res.SessionKey != "" {
				t.Fatalf("an error answer carried a session: %+v", res)
			}
		})
	}
}

const tmplAppointment = "x3VAOe8jDbCmFRIwcsb6SXm_ZzHQSkSmtc6d0Fh0Ysw"

func appointmentMessage(openID string) *subscribe.Message {
	return &subscribe.Message{
		ToUser: openID, TemplateID: tmplAppointment, Page: "pages/booking/detail?id=b_1",
		MiniprogramState: "formal", Lang: "zh_CN",
		Data: map[string]*subscribe.DataItem{
			"thing1":            {Value: "户籍迁移（市内）"},
			"time2":             {Value: "2026年3月2日 10:00~10:30"},
			"thing3":            {Value: "市民中心二楼B区"},
			"character_string4": {Value: "YY20260302-0001"},
			"phrase5":           {Value: "待办理"},
		},
	}
}

func TestSubscribeMessageNeedsOneConsentPerMessage(t *testing.T) {
	w := newWeChat(t)
	sub := w.sdk().GetSubscribe()
	openID := wechat.OpenIDFor(w.AppID(), "zhangsan")

	if got := errcode(t, sub.Send(appointmentMessage(openID))); got != wechat.ErrCodeNoConsent {
		t.Fatalf("without consent: errcode %d, want 43101", got)
	}

	var consent wechat.Consent
	if s := w.control("/sandbox/wechat/consents", map[string]any{"name": "zhangsan", "template_id": tmplAppointment}, &consent); s != 200 || consent.Remaining != 1 || consent.OpenID != openID {
		t.Fatalf("consent: HTTP %d %+v", s, consent)
	}
	msgID, err := sub.SendGetMsgID(appointmentMessage(openID))
	if err != nil {
		t.Fatal(err)
	}
	if got := errcode(t, sub.Send(appointmentMessage(openID))); got != wechat.ErrCodeNoConsent {
		t.Fatalf("second message on one consent: errcode %d, want 43101", got)
	}

	var delivered []wechat.Message
	w.get("/sandbox/wechat/messages?touser="+openID, &delivered)
	if len(delivered) != 1 {
		t.Fatalf("delivered %+v", delivered)
	}
	m := delivered[0]
	if m.MsgID != msgID || msgID <= 0 || m.TemplateID != tmplAppointment || m.Data["phrase5"] != "待办理" ||
		m.Page != "pages/booking/detail?id=b_1" || !m.Time.Equal(w.clock.Now()) {
		t.Fatalf("delivered %+v (msgid %d)", m, msgID)
	}

	// Accepting "always allow" several times banks several messages.
	w.control("/sandbox/wechat/consents", map[string]any{"openid": openID, "template_id": tmplAppointment, "count": 2}, nil)
	for i := range 2 {
		if err := sub.Send(appointmentMessage(openID)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if got := errcode(t, sub.Send(appointmentMessage(openID))); got != wechat.ErrCodeNoConsent {
		t.Fatalf("after the banked consents: errcode %d", got)
	}
}

func TestSubscribeMessageFieldRules(t *testing.T) {
	tests := map[string]struct {
		key   string
		value any
	}{
		"thing over 20 characters":      {"thing1", strings.Repeat("办", 21)},
		"phrase with a digit":           {"phrase5", "第1次"},
		"phrase over 5 characters":      {"phrase5", "正在审核材料中"},
		"time without time of day":      {"time2", "2026年3月2日"},
		"time in RFC 3339":              {"time2", "2026-03-02T10:00:00+08:00"},
		"character_string with Chinese": {"character_string4", "YY号0001"},
		"character_string over 32":      {"character_string4", strings.Repeat("A", 33)},
		"number with letters":           {"number6", "12a"},
		"amount without digits":         {"amount7", "¥"},
		"phone_number with letters":     {"phone_number8", "call 12345"},
		"car_number too long":           {"car_number9", "粤A8Z888888挂"},
		"name with digits":              {"name10", "张3"},
		"name over 10 Chinese":          {"name10", "欧阳张三李四王五赵六孙"},
		"empty thing":                   {"thing3", ""},
		"keyword without a type":        {"remark", "备注"},
		"object as value":               {"thing1", map[string]string{"a": "b"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWeChat(t)
			openID := wechat.OpenIDFor(w.AppID(), "zhangsan")
			w.GrantConsent(openID, tmplAppointment, 1)
			msg := appointmentMessage(openID)
			msg.Data[tc.key] = &subscribe.DataItem{Value: tc.value}
			err := w.sdk().GetSubscribe().Send(msg)
			if got := errcode(t, err); got != wechat.ErrCodeArgumentInvalid || !strings.Contains(err.Error(), "data."+tc.key+".value invalid") {
				t.Fatalf("errcode %d, want 47003 naming data.%s: %v", got, tc.key, err)
			}
			if c := w.Consents(openID); len(c) != 1 || c[0].Remaining != 1 {
				t.Fatalf("a refused message used the consent: %+v", c)
			}
		})
	}
}

func TestAccessTokens(t *testing.T) {
	t.Run("revoked token answers 40001", func(t *testing.T) {
		w := newWeChat(t)
		openID := wechat.OpenIDFor(w.AppID(), "zhangsan")
		w.GrantConsent(openID, tmplAppointment, 2)
		sub := w.sdk().GetSubscribe()
		if err := sub.Send(appointmentMessage(openID)); err != nil {
			t.Fatal(err)
		}
		if s := w.control("/sandbox/wechat/tokens/revoke", nil, nil); s != 204 {
			t.Fatalf("revoke: HTTP %d", s)
		}
		// The SDK keeps using its cached token: WeChat's 40001 reaches the caller.
		if got := errcode(t, sub.Send(appointmentMessage(openID))); got != wechat.ErrCodeInvalidToken {
			t.Fatalf("errcode %d, want 40001", got)
		}
	})

	t.Run("token past expires_in answers 42001", func(t *testing.T) {
		w := newWeChat(t)
		openID := wechat.OpenIDFor(w.AppID(), "zhangsan")
		w.GrantConsent(openID, tmplAppointment, 2)
		sub := w.sdk().GetSubscribe()
		if err := sub.Send(appointmentMessage(openID)); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(wechat.DefaultTokenTTL)
		if got := errcode(t, sub.Send(appointmentMessage(openID))); got != wechat.ErrCodeTokenExpired {
			t.Fatalf("errcode %d, want 42001", got)
		}
	})

	t.Run("a newer token supersedes after 5 minutes", func(t *testing.T) {
		w := newWeChat(t)
		openID := wechat.OpenIDFor(w.AppID(), "zhangsan")
		w.GrantConsent(openID, tmplAppointment, 4)
		replicaA, replicaB := w.sdk().GetSubscribe(), w.sdk().GetSubscribe() // separate caches
		if err := replicaA.Send(appointmentMessage(openID)); err != nil {
			t.Fatal(err)
		}
		if err := replicaB.Send(appointmentMessage(openID)); err != nil { // fetches a second token
			t.Fatal(err)
		}
		if err := replicaA.Send(appointmentMessage(openID)); err != nil {
			t.Fatalf("old token within the grace period: %v", err)
		}
		w.clock.Advance(wechat.TokenGrace)
		if got := errcode(t, replicaA.Send(appointmentMessage(openID))); got != wechat.ErrCodeInvalidToken {
			t.Fatalf("old token after the grace period: errcode %d, want 40001", got)
		}
		if err := replicaB.Send(appointmentMessage(openID)); err != nil {
			t.Fatalf("newest token: %v", err)
		}
	})

	t.Run("stable token is shared and isolated from cgi-bin/token", func(t *testing.T) {
		w := newWeChat(t)
		stable := func(c *miniConfig.Config) { c.UseStableAK = true }
		a, b := w.sdk(stable), w.sdk(stable)
		tokA, err := a.GetContext().GetAccessTokenContext(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.sdk().GetContext().GetAccessTokenContext(t.Context()); err != nil { // a cgi-bin/token fetch
			t.Fatal(err)
		}
		tokB, err := b.GetContext().GetAccessTokenContext(t.Context())
		if err != nil || tokB != tokA {
			t.Fatalf("second replica got %q (%v), first %q", tokB, err, tokA)
		}
		openID := wechat.OpenIDFor(w.AppID(), "zhangsan")
		w.GrantConsent(openID, tmplAppointment, 1)
		if err := a.GetSubscribe().Send(appointmentMessage(openID)); err != nil {
			t.Fatalf("send with the stable token: %v", err)
		}
	})

	t.Run("wrong secret gets no token", func(t *testing.T) {
		for _, stable := range []bool{false, true} {
			w := newWeChat(t)
			mp := w.sdk(func(c *miniConfig.Config) { c.AppSecret = strings.Repeat("f", 32); c.UseStableAK = stable })
			_, err := mp.GetContext().GetAccessTokenContext(t.Context())
			if got := errcode(t, err); got != wechat.ErrCodeInvalidSecret {
				t.Fatalf("stable=%v: errcode %d, want 40125", stable, got)
			}
		}
	})
}

// What the SDK never sends but other clients might: checked at the wire.
func TestSubscribeSendWireErrors(t *testing.T) {
	w := newWeChat(t)
	post := func(query, body string) (status, code int) {
		res, err := http.Post(w.url+"/cgi-bin/message/subscribe/send"+query, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			ErrCode int    `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.ErrMsg, " rid: ") {
			t.Errorf("errmsg %q has no rid", out.ErrMsg)
		}
		return res.StatusCode, out.ErrCode
	}
	tok, err := w.sdk().GetContext().GetAccessTokenContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	valid := `{"touser":"` + wechat.OpenIDFor(w.AppID(), "a") + `","template_id":"t","data":{"thing1":{"value":"x"}}}`
	tests := []struct {
		name, query, body string
		code              int
	}{
		{"no token", "", valid, wechat.ErrCodeTokenMissing},
		{"unknown token", "?access_token=nope", valid, wechat.ErrCodeInvalidToken},
		{"not JSON", "?access_token=" + tok, "touser=x", wechat.ErrCodeDataFormat},
		{"bad openid", "?access_token=" + tok, `{"touser":"zhangsan","template_id":"t","data":{"thing1":{"value":"x"}}}`, wechat.ErrCodeInvalidOpenID},
		{"no template", "?access_token=" + tok, `{"touser":"` + wechat.OpenIDFor(w.AppID(), "a") + `","data":{"thing1":{"value":"x"}}}`, wechat.ErrCodeInvalidTmplID},
		{"no data", "?access_token=" + tok, `{"touser":"` + wechat.OpenIDFor(w.AppID(), "a") + `","template_id":"t"}`, wechat.ErrCodeArgumentInvalid},
		{"bad miniprogram_state", "?access_token=" + tok, strings.Replace(valid, `"data"`, `"miniprogram_state":"beta","data"`, 1), wechat.ErrCodeArgumentInvalid},
		{"number value is taken", "?access_token=" + tok, strings.Replace(valid, `"thing1":{"value":"x"}`, `"number1":{"value":42}`, 1), wechat.ErrCodeNoConsent},
	}
	for _, tc := range tests {
		if status, code := post(tc.query, tc.body); status != 200 || code != tc.code {
			t.Errorf("%s: HTTP %d errcode %d, want HTTP 200 errcode %d", tc.name, status, code, tc.code)
		}
	}
}

func TestConsentControlValidates(t *testing.T) {
	w := newWeChat(t)
	for _, body := range []map[string]any{
		{"openid": "zhangsan", "template_id": "t"},
		{"name": "zhangsan"},
		{"name": "zhangsan", "template_id": "t", "count": 0},
	} {
		if s := w.control("/sandbox/wechat/consents", body, nil); s != 400 {
			t.Errorf("%v: HTTP %d, want 400", body, s)
		}
	}
	w.GrantConsent(wechat.OpenIDFor(w.AppID(), "b"), "t2", 1)
	w.GrantConsent(wechat.OpenIDFor(w.AppID(), "a"), "t1", 3)
	var list []wechat.Consent
	w.get("/sandbox/wechat/consents?name=a", &list)
	if len(list) != 1 || list[0].Remaining != 3 || list[0].TemplateID != "t1" {
		t.Fatalf("consents of a: %+v", list)
	}
}

// A one-time code redeemed by several requests at once logs in exactly once.
func TestIssuedCodeIsOneTimeUnderConcurrency(t *testing.T) {
	w := newWeChat(t)
	code := w.IssueCode("zhangsan")
	results := make(chan int, 8)
	var wg sync.WaitGroup
	for range cap(results) {
		wg.Go(func() {
			res, err := http.Get(w.url + "/sns/jscode2session?appid=" + w.AppID() + "&secret=" + w.AppSecret() + "&js_code=" + code + "&grant_type=authorization_code")
			if err != nil {
				results <- -1
				return
			}
			defer res.Body.Close()
			var out struct {
				ErrCode int    `json:"errcode"`
				OpenID  string `json:"openid"`
			}
			_ = json.NewDecoder(res.Body).Decode(&out)
			results <- out.ErrCode
		})
	}
	wg.Wait()
	close(results)
	count := map[int]int{}
	for c := range results {
		count[c]++
	}
	if count[0] != 1 || count[wechat.ErrCodeCodeUsed] != cap(results)-1 {
		t.Fatalf("errcodes %v", count)
	}
}
