package notify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"zwfw/notify"
	"zwfw/sandbox/fake"
	"zwfw/sandbox/sms"
)

// The client against the sandbox's SMS gateway: two independent
// implementations of the POP signature have to agree.

type gateway struct {
	*sms.Gateway
	clock *fake.ManualClock
	url   string
}

func newGateway(t *testing.T, opts sms.Options) *gateway {
	t.Helper()
	// The client stamps requests with the wall clock; the gateway's clock
	// starts there and is stepped by the tests.
	clock := fake.NewManualClock(time.Now())
	opts.Now = clock.Now
	g := sms.New(opts)
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return &gateway{Gateway: g, clock: clock, url: srv.URL}
}

func (g *gateway) client(mod func(*notify.AliyunSMSConfig)) *notify.AliyunSMS {
	cfg := notify.AliyunSMSConfig{
		Endpoint: g.url, AccessKeyID: g.AccessKeyID(), AccessKeySecret: g.AccessKeySecret(),
		SignName: g.SignName(), HTTPClient: &http.Client{Timeout: 5 * time.Second},
	}
	if mod != nil {
		mod(&cfg)
	}
	return notify.NewAliyunSMS(cfg)
}

func loginCode(code string) map[string]string { return map[string]string{"code": code} }

func wantSMSError(t *testing.T, err error, code string) *notify.SMSError {
	t.Helper()
	var se *notify.SMSError
	if !errors.As(err, &se) || se.Code != code {
		t.Fatalf("error = %v, want *SMSError %s", err, code)
	}
	return se
}

func TestSendDeliversThroughTheGateway(t *testing.T) {
	g := newGateway(t, sms.Options{})
	bizID, err := g.client(nil).Send(t.Context(), "13800138000", sms.LoginTemplateCode, loginCode("204816"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := g.Messages("13800138000")
	if len(msgs) != 1 {
		t.Fatalf("gateway recorded %d messages", len(msgs))
	}
	m := msgs[0]
	if m.BizID != bizID || m.Params["code"] != "204816" || m.SignName != sms.DefaultSignName ||
		m.Content != "【政务服务】您的验证码为：204816，5分钟内有效，请勿泄露于他人。" {
		t.Fatalf("recorded %+v (biz id %s)", m, bizID)
	}
}

// Characters that percent-encoding implementations disagree on.
func TestSignaturesAgreeOnAwkwardCharacters(t *testing.T) {
	g := newGateway(t, sms.Options{FlowControl: &sms.FlowControl{}})
	g.AddTemplate(sms.Template{Code: "SMS_REMIND", Name: "预约提醒", Kind: sms.KindNotification, Content: "${who}，您预约的${item}即将开始。"})
	c := g.client(nil)
	for _, v := range []string{"a b", "a+b", "a*b", "a~b", "a&b=c", "50%", `"quoted"`, "<tag>", "张三·李", "😀", "/path?x"} {
		if _, err := c.Send(t.Context(), "13800138000", "SMS_REMIND", map[string]string{"who": v, "item": "社保卡补办"}); err != nil {
			t.Errorf("param %q: %v", v, err)
		}
	}
	if got := len(g.Messages("13800138000")); got != 11 {
		t.Fatalf("%d messages delivered", got)
	}
}

func TestGatewayRefusalsAreSMSErrors(t *testing.T) {
	tests := map[string]struct {
		mod    func(*notify.AliyunSMSConfig)
		phone  string
		tmpl   string
		params map[string]string
		code   string
		status int
	}{
		"wrong secret": {
			mod:  func(c *notify.AliyunSMSConfig) { c.AccessKeySecret = "not-the-secret" },
			code: "SignatureDoesNotMatch", status: 400,
		},
		"unknown access key": {
			mod:  func(c *notify.AliyunSMSConfig) { c.AccessKeyID = "LTAI5tNobody000000000000" },
			code: "InvalidAccessKeyId.NotFound", status: 404,
		},
		"unknown signature": {
			mod:  func(c *notify.AliyunSMSConfig) { c.SignName = "某公司" },
			code: "isv.SMS_SIGNATURE_ILLEGAL", status: 200,
		},
		"bad phone":        {phone: "12345", code: "isv.MOBILE_NUMBER_ILLEGAL", status: 200},
		"unknown template": {tmpl: "SMS_404", code: "isv.SMS_TEMPLATE_ILLEGAL", status: 200},
		"missing variable": {params: map[string]string{}, code: "isv.TEMPLATE_MISSING_PARAMETERS", status: 200},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := newGateway(t, sms.Options{})
			phone, tmpl, params := "13800138000", sms.LoginTemplateCode, loginCode("123456")
			if tc.phone != "" {
				phone = tc.phone
			}
			if tc.tmpl != "" {
				tmpl = tc.tmpl
			}
			if tc.params != nil {
				params = tc.params
			}
			_, err := g.client(tc.mod).Send(t.Context(), phone, tmpl, params)
			se := wantSMSError(t, err, tc.code)
			if se.HTTPStatus != tc.status || se.RequestID == "" || se.Message == "" || se.FlowControlled() || se.Temporary() {
				t.Fatalf("error %+v", se)
			}
		})
	}
}

func TestFlowControlIsTellable(t *testing.T) {
	g := newGateway(t, sms.Options{})
	c := g.client(nil)
	if _, err := c.Send(t.Context(), "13800138000", sms.LoginTemplateCode, loginCode("111111")); err != nil {
		t.Fatal(err)
	}
	_, err := c.Send(t.Context(), "13800138000", sms.LoginTemplateCode, loginCode("222222"))
	if se := wantSMSError(t, err, notify.SMSCodeFlowControl); !se.FlowControlled() {
		t.Fatalf("%+v not flow controlled", se)
	}
	g.clock.Advance(time.Minute)
	if _, err := c.Send(t.Context(), "13800138000", sms.LoginTemplateCode, loginCode("333333")); err != nil {
		t.Fatalf("after a minute: %v", err)
	}
}

func TestExpiredTimestampIsRefused(t *testing.T) {
	g := newGateway(t, sms.Options{})
	g.clock.Advance(16 * time.Minute) // the client's clock is 16 minutes slow
	_, err := g.client(nil).Send(t.Context(), "13800138000", sms.LoginTemplateCode, loginCode("123456"))
	wantSMSError(t, err, "InvalidTimeStamp.Expired")
}

// recorder keeps the bodies a client sent.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, body)
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(req)
}

// The same signed request sent twice is a replay; the client itself never
// repeats a nonce.
func TestReplayedRequestIsRefused(t *testing.T) {
	g := newGateway(t, sms.Options{FlowControl: &sms.FlowControl{}})
	rec := &recorder{}
	c := g.client(func(cfg *notify.AliyunSMSConfig) { cfg.HTTPClient = &http.Client{Transport: rec} })
	for range 2 {
		if _, err := c.Send(t.Context(), "13800138000", sms.LoginTemplateCode, loginCode("123456")); err != nil {
			t.Fatal(err)
		}
	}
	res, err := http.Post(g.url+"/", "application/x-www-form-urlencoded", bytes.NewReader(rec.bodies[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 400 || !strings.Contains(string(body), `"Code":"SignatureNonceUsed"`) {
		t.Fatalf("replay answered %d %s", res.StatusCode, body)
	}
	if n := len(g.Messages("")); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
}

func TestInjectedFailuresReachTheCaller(t *testing.T) {
	g := newGateway(t, sms.Options{FlowControl: &sms.FlowControl{}})
	c := g.client(nil)
	send := func() error {
		_, err := c.Send(t.Context(), "13800138000", sms.LoginTemplateCode, loginCode("123456"))
		return err
	}

	g.InjectFailure(sms.Failure{Phone: "13800138000", Code: "isv.BUSINESS_LIMIT_CONTROL"})
	if se := wantSMSError(t, send(), "isv.BUSINESS_LIMIT_CONTROL"); !se.FlowControlled() {
		t.Fatal("injected flow control not tellable")
	}
	g.InjectFailure(sms.Failure{Code: "isv.AMOUNT_NOT_ENOUGH"})
	if se := wantSMSError(t, send(), "isv.AMOUNT_NOT_ENOUGH"); se.FlowControlled() || se.Temporary() {
		t.Fatalf("%+v", se)
	}
	g.InjectFailure(sms.Failure{Code: "ServiceUnavailable"})
	if se := wantSMSError(t, send(), "ServiceUnavailable"); !se.Temporary() || se.HTTPStatus != 503 {
		t.Fatalf("%+v", se)
	}

	// A dropped connection is a network error, not a gateway answer.
	g.InjectFailure(sms.Failure{Code: sms.FailDropConnection})
	err := send()
	var se *notify.SMSError
	if err == nil || errors.As(err, &se) {
		t.Fatalf("dropped connection gave %v", err)
	}
	if err := send(); err != nil {
		t.Fatalf("after the failures: %v", err)
	}
}

func TestNonGatewayAnswersAndNetworkErrors(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
	}))
	defer proxy.Close()
	c := notify.NewAliyunSMS(notify.AliyunSMSConfig{Endpoint: proxy.URL, AccessKeyID: "id", AccessKeySecret: "secret", SignName: "政务服务"})
	_, err := c.Send(t.Context(), "13800138000", "SMS_1", nil)
	var se *notify.SMSError
	if err == nil || errors.As(err, &se) || !strings.Contains(err.Error(), "502") {
		t.Fatalf("502 page gave %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Send(ctx, "13800138000", "SMS_1", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled send gave %v", err)
	}
	if _, err := c.Send(t.Context(), " ", "SMS_1", nil); err == nil {
		t.Fatal("empty phone accepted")
	}
}
