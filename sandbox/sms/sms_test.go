package sms

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"zwfw/sandbox/fake"
)

// env is one gateway on a real HTTP server, with a clock the test steps.
type env struct {
	t     *testing.T
	g     *Gateway
	clock *fake.ManualClock
	srv   *httptest.Server
	seq   int
}

// start is 10:00 in China, so a day boundary is 14 hours away.
var start = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	clock := fake.NewManualClock(start)
	opts.Now = clock.Now
	if opts.AccessKeyID == "" {
		opts.AccessKeyID, opts.AccessKeySecret = "LTAI5tTestKeyID0000000000", "test-secret-0000000000000000000"
	}
	g := New(opts)
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, g: g, clock: clock, srv: srv}
}

// request is a complete SendSms parameter set stamped with the gateway's
// clock and a fresh nonce, not yet signed.
func (e *env) request(phone, template string, vars map[string]string) url.Values {
	e.seq++
	v := url.Values{
		"Action": {Action}, "Version": {Version}, "Format": {"JSON"}, "RegionId": {"cn-hangzhou"},
		"AccessKeyId": {e.g.AccessKeyID()}, "SignatureMethod": {"HMAC-SHA1"}, "SignatureVersion": {"1.0"},
		"SignatureNonce": {fmt.Sprintf("test-nonce-%d", e.seq)},
		"Timestamp":      {e.clock.Now().UTC().Format(TimestampLayout)},
		"PhoneNumbers":   {phone}, "SignName": {DefaultSignName}, "TemplateCode": {template},
	}
	if vars != nil {
		b, _ := json.Marshal(vars)
		v.Set("TemplateParam", string(b))
	}
	return v
}

func signed(method string, v url.Values, secret string) url.Values {
	v.Set("Signature", Sign(StringToSign(method, v), secret))
	return v
}

type answer struct {
	Status    int
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	RequestID string `json:"RequestId"`
	BizID     string `json:"BizId"`
	HostID    string `json:"HostId"`
	Raw       string
}

func (e *env) post(v url.Values) answer {
	e.t.Helper()
	res, err := http.PostForm(e.srv.URL+"/", v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.read(res)
}

func (e *env) read(res *http.Response) answer {
	e.t.Helper()
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	a := answer{Status: res.StatusCode, Raw: string(body)}
	if strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(body, &a); err != nil {
			e.t.Fatalf("answer is not JSON: %s", body)
		}
	}
	return a
}

// send signs and posts a login-code SMS to phone.
func (e *env) send(phone string) answer {
	e.t.Helper()
	return e.post(signed("POST", e.request(phone, LoginTemplateCode, map[string]string{"code": "123456"}), e.g.AccessKeySecret()))
}

func (a answer) want(t *testing.T, status int, code string) {
	t.Helper()
	if a.Status != status || a.Code != code {
		t.Fatalf("answer HTTP %d %s, want HTTP %d %s: %s", a.Status, a.Code, status, code, a.Raw)
	}
}

// The verifier reproduces Aliyun's published examples.
func TestVerifierMatchesAliyunExamples(t *testing.T) {
	sendSms := url.Values{
		"AccessKeyId": {"testId"}, "Action": {"SendSms"}, "Format": {"XML"}, "OutId": {"123"},
		"PhoneNumbers": {"15300000001"}, "RegionId": {"cn-hangzhou"}, "SignName": {"阿里云短信测试专用"},
		"SignatureMethod": {"HMAC-SHA1"}, "SignatureNonce": {"45e25e9b-0a6f-4070-8c85-2956eda1b466"},
		"SignatureVersion": {"1.0"}, "TemplateCode": {"SMS_71390007"}, "TemplateParam": {`{"customer":"test"}`},
		"Timestamp": {"2017-07-12T02:42:19Z"}, "Version": {"2017-05-25"},
	}
	wantSTS := "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
	if sts := StringToSign("GET", sendSms); sts != wantSTS {
		t.Fatalf("string to sign:\n got %s\nwant %s", sts, wantSTS)
	}
	if sig := Sign(wantSTS, "testSecret"); sig != "zJDF+Lrzhj/ThnlvIToysFRq6t4=" {
		t.Fatalf("SendSms example signature = %s", sig)
	}
	describeRegions := url.Values{
		"AccessKeyId": {"testid"}, "Action": {"DescribeRegions"}, "Format": {"XML"},
		"SignatureMethod": {"HMAC-SHA1"}, "SignatureNonce": {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"SignatureVersion": {"1.0"}, "Timestamp": {"2016-02-23T12:46:24Z"}, "Version": {"2014-05-26"},
	}
	if sig := Sign(StringToSign("GET", describeRegions), "testsecret"); sig != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Fatalf("RPC example signature = %s", sig)
	}
}

func TestSendSmsRecordsTheMessage(t *testing.T) {
	e := newEnv(t, Options{})
	req := e.request("+8613800138000", LoginTemplateCode, map[string]string{"code": "493817"})
	req.Set("OutId", "job-42")
	a := e.post(signed("POST", req, e.g.AccessKeySecret()))
	a.want(t, 200, CodeOK)
	if a.Message != "OK" || !regexp.MustCompile(`^[1-9][0-9]{17}\^0$`).MatchString(a.BizID) || a.RequestID == "" {
		t.Fatalf("success answer = %+v", a)
	}

	msgs := e.g.Messages("13800138000")
	if len(msgs) != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	m := msgs[0]
	want := "【政务服务】您的验证码为：493817，5分钟内有效，请勿泄露于他人。"
	if m.Content != want || m.Params["code"] != "493817" || m.BizID != a.BizID || m.OutID != "job-42" ||
		m.Phone != "13800138000" || m.TemplateCode != LoginTemplateCode || !m.Time.Equal(start) {
		t.Fatalf("recorded %+v", m)
	}
}

func TestSendSmsByGETQuery(t *testing.T) {
	e := newEnv(t, Options{})
	v := signed("GET", e.request("13800138000", LoginTemplateCode, map[string]string{"code": "1234"}), e.g.AccessKeySecret())
	res, err := http.Get(e.srv.URL + "/?" + v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	e.read(res).want(t, 200, CodeOK)
}

// Format defaults to XML on Aliyun's RPC gateways.
func TestAnswersInXMLUnlessJSONAsked(t *testing.T) {
	e := newEnv(t, Options{})
	v := e.request("13800138000", LoginTemplateCode, map[string]string{"code": "1234"})
	v.Del("Format")
	a := e.post(signed("POST", v, e.g.AccessKeySecret()))
	if a.Status != 200 || !strings.Contains(a.Raw, "<SendSmsResponse>") || !strings.Contains(a.Raw, "<Code>OK</Code>") {
		t.Fatalf("XML answer: %d %s", a.Status, a.Raw)
	}
	v = e.request("13800138000", LoginTemplateCode, map[string]string{"code": "1234"})
	v.Set("Format", "XML")
	v.Set("AccessKeyId", "LTAI-unknown")
	a = e.post(signed("POST", v, e.g.AccessKeySecret()))
	if a.Status != 404 || !strings.Contains(a.Raw, "<Error>") || !strings.Contains(a.Raw, "<Code>InvalidAccessKeyId.NotFound</Code>") {
		t.Fatalf("XML error: %d %s", a.Status, a.Raw)
	}
}

// Gateway errors come with HTTP 400/404 and the POP error body.
func TestGatewayRefusesBadRequests(t *testing.T) {
	tests := map[string]struct {
		change     func(e *env, v url.Values) url.Values // returns the values to post
		status     int
		code       string
		msgContain string
	}{
		"unknown access key": {
			change: func(e *env, v url.Values) url.Values {
				v.Set("AccessKeyId", "LTAI5tSomeoneElse000000")
				return signed("POST", v, e.g.AccessKeySecret())
			},
			status: 404, code: CodeAccessKeyNotFound,
		},
		"wrong secret": {
			change: func(e *env, v url.Values) url.Values { return signed("POST", v, "not-the-secret") },
			status: 400, code: CodeSignatureMismatch, msgContain: "server string to sign is:POST&%2F&AccessKeyId",
		},
		"parameter changed after signing": {
			change: func(e *env, v url.Values) url.Values {
				v = signed("POST", v, e.g.AccessKeySecret())
				v.Set("PhoneNumbers", "13900139000")
				return v
			},
			status: 400, code: CodeSignatureMismatch,
		},
		"signed for GET, sent by POST": {
			change: func(e *env, v url.Values) url.Values { return signed("GET", v, e.g.AccessKeySecret()) },
			status: 400, code: CodeSignatureMismatch,
		},
		"no signature": {
			change: func(e *env, v url.Values) url.Values { return v },
			status: 400, code: "MissingSignature",
		},
		"timestamp 16 minutes old": {
			change: func(e *env, v url.Values) url.Values {
				v.Set("Timestamp", start.Add(-16*time.Minute).Format(TimestampLayout))
				return signed("POST", v, e.g.AccessKeySecret())
			},
			status: 400, code: CodeTimestampExpired,
		},
		"timestamp 16 minutes ahead": {
			change: func(e *env, v url.Values) url.Values {
				v.Set("Timestamp", start.Add(16*time.Minute).Format(TimestampLayout))
				return signed("POST", v, e.g.AccessKeySecret())
			},
			status: 400, code: CodeTimestampExpired,
		},
		"timestamp not ISO 8601 UTC": {
			change: func(e *env, v url.Values) url.Values {
				v.Set("Timestamp", start.In(chinaTime).Format(time.RFC3339))
				return signed("POST", v, e.g.AccessKeySecret())
			},
			status: 400, code: CodeTimestampFormat,
		},
		"other action": {
			change: func(e *env, v url.Values) url.Values {
				v.Set("Action", "SendBatchSms")
				return signed("POST", v, e.g.AccessKeySecret())
			},
			status: 404, code: CodeActionNotFound,
		},
		"other version": {
			change: func(e *env, v url.Values) url.Values {
				v.Set("Version", "2017-05-26")
				return signed("POST", v, e.g.AccessKeySecret())
			},
			status: 400, code: CodeInvalidVersion,
		},
		"HMAC-SHA256": {
			change: func(e *env, v url.Values) url.Values {
				v.Set("SignatureMethod", "HMAC-SHA256")
				return signed("POST", v, e.g.AccessKeySecret())
			},
			status: 400, code: CodeSignatureMethod,
		},
		"no phone numbers": {
			change: func(e *env, v url.Values) url.Values {
				v.Del("PhoneNumbers")
				return signed("POST", v, e.g.AccessKeySecret())
			},
			status: 400, code: "MissingPhoneNumbers",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, Options{})
			v := e.request("13800138000", LoginTemplateCode, map[string]string{"code": "123456"})
			a := e.post(tc.change(e, v))
			a.want(t, tc.status, tc.code)
			if a.HostID != HostID || a.RequestID == "" || !strings.Contains(a.Message, tc.msgContain) {
				t.Fatalf("error body %s", a.Raw)
			}
			if n := len(e.g.Messages("")); n != 0 {
				t.Fatalf("%d messages recorded for a refused request", n)
			}
		})
	}
}

// Business errors come with HTTP 200 and Code != OK, as on Aliyun.
func TestServiceRefusesBadMessages(t *testing.T) {
	tests := map[string]struct {
		phone, sign, template, params string
		code                          string
	}{
		"landline":                   {phone: "02188886666", code: CodeMobileIllegal},
		"short number":               {phone: "1380013800", code: CodeMobileIllegal},
		"one bad number in a batch":  {phone: "13800138000,123", code: CodeMobileIllegal},
		"unknown signature":          {sign: "某公司", code: CodeSignatureIllegal},
		"unknown template":           {template: "SMS_000000000", code: CodeTemplateIllegal},
		"params not JSON":            {params: `code=123456`, code: CodeInvalidJSONParam},
		"number instead of string":   {params: `{"code":123456}`, code: CodeInvalidJSONParam},
		"variable missing":           {params: `{"otp":"123456"}`, code: CodeMissingParameters},
		"no params at all":           {params: "-", code: CodeMissingParameters},
		"empty variable":             {params: `{"code":""}`, code: CodeMissingParameters},
		"verification code too long": {params: `{"code":"1234567"}`, code: CodeParamLengthLimit},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, Options{})
			phone, template := "13800138000", LoginTemplateCode
			if tc.phone != "" {
				phone = tc.phone
			}
			if tc.template != "" {
				template = tc.template
			}
			v := e.request(phone, template, nil)
			switch tc.params {
			case "":
				v.Set("TemplateParam", `{"code":"123456"}`)
			case "-":
			default:
				v.Set("TemplateParam", tc.params)
			}
			if tc.sign != "" {
				v.Set("SignName", tc.sign)
			}
			a := e.post(signed("POST", v, e.g.AccessKeySecret()))
			a.want(t, 200, tc.code)
			if a.Message == "" || a.BizID != "" {
				t.Fatalf("answer %s", a.Raw)
			}
		})
	}
}

func TestBatchSendRecordsEachPhone(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.send("13800138000,+8613900139000")
	a.want(t, 200, CodeOK)
	if len(e.g.Messages("13800138000")) != 1 || len(e.g.Messages("13900139000")) != 1 {
		t.Fatalf("messages %+v", e.g.Messages(""))
	}
}

// A signed request can be used once: the same nonce within 15 minutes is a replay.
func TestNonceCannotBeReplayed(t *testing.T) {
	e := newEnv(t, Options{FlowControl: &FlowControl{}})
	v := signed("POST", e.request("13800138000", LoginTemplateCode, map[string]string{"code": "123456"}), e.g.AccessKeySecret())
	e.post(v).want(t, 200, CodeOK)
	e.post(v).want(t, 400, CodeNonceUsed)

	// A request that fails verification does not burn its nonce.
	fresh := e.request("13800138000", LoginTemplateCode, map[string]string{"code": "123456"})
	e.post(signed("POST", fresh, "wrong")).want(t, 400, CodeSignatureMismatch)
	e.post(signed("POST", fresh, e.g.AccessKeySecret())).want(t, 200, CodeOK)

	// After the window the nonce is forgotten (a new timestamp is needed anyway).
	e.clock.Advance(Window + time.Second)
	v.Set("Timestamp", e.clock.Now().Format(TimestampLayout))
	e.post(signed("POST", v, e.g.AccessKeySecret())).want(t, 200, CodeOK)
}

func TestFlowControl(t *testing.T) {
	const limited = CodeBusinessLimit
	type step struct {
		after time.Duration // clock advance before the send
		phone string        // default 13800138000
		code  string
	}
	repeat := func(n int, s step) []step {
		out := make([]step, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	concat := func(parts ...[]step) []step {
		var out []step
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := map[string]struct {
		flow  *FlowControl
		steps []step
	}{
		"one a minute per phone": {steps: []step{
			{code: CodeOK}, {after: 30 * time.Second, code: limited},
			{phone: "13900139000", code: CodeOK}, // another phone is not limited
			{after: 31 * time.Second, code: CodeOK},
		}},
		"five an hour": {steps: concat(
			repeat(5, step{after: 61 * time.Second, code: CodeOK}),
			[]step{{after: 61 * time.Second, code: limited}},
			[]step{{after: time.Hour - 5*61*time.Second, code: CodeOK}}, // the first send left the window
		)},
		"ten a calendar day in China": {flow: &FlowControl{PerDay: 10}, steps: concat(
			repeat(10, step{after: time.Minute, code: CodeOK}),
			[]step{{code: limited}},
			[]step{{after: 14*time.Hour - 10*time.Minute, code: CodeOK}}, // 00:00 in China
		)},
		"off": {flow: &FlowControl{}, steps: repeat(20, step{code: CodeOK})},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, Options{FlowControl: tc.flow})
			for i, s := range tc.steps {
				e.clock.Advance(s.after)
				phone := s.phone
				if phone == "" {
					phone = "13800138000"
				}
				if a := e.send(phone); a.Status != 200 || a.Code != s.code {
					t.Fatalf("send %d at %s: %s %s, want %s", i, e.clock.Now().In(chinaTime).Format("15:04:05"), a.Code, a.Message, s.code)
				}
			}
		})
	}
}

func TestFlowControlMessageNamesTheWindow(t *testing.T) {
	e := newEnv(t, Options{})
	e.send("13800138000").want(t, 200, CodeOK)
	a := e.send("13800138000")
	a.want(t, 200, CodeBusinessLimit)
	if a.Message != "触发分钟级流控Permits:1" {
		t.Fatalf("message %q", a.Message)
	}
	// A refused send is not counted: once the minute passes, one more goes.
	e.clock.Advance(time.Minute)
	e.send("13800138000").want(t, 200, CodeOK)
}

func TestInjectedFailures(t *testing.T) {
	e := newEnv(t, Options{FlowControl: &FlowControl{}})
	inject := func(body string) int {
		res, err := http.Post(e.srv.URL+"/sandbox/sms/failures", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := inject(`{"phone":"13800138000","code":"isv.BUSINESS_LIMIT_CONTROL"}`); s != 201 {
		t.Fatalf("inject: HTTP %d", s)
	}
	// A request that does not authenticate leaves the failure pending.
	e.post(signed("POST", e.request("13800138000", LoginTemplateCode, map[string]string{"code": "1234"}), "wrong")).want(t, 400, CodeSignatureMismatch)
	e.send("13900139000").want(t, 200, CodeOK) // another phone
	a := e.send("13800138000")
	a.want(t, 200, CodeBusinessLimit)
	if a.Message != "触发分钟级流控Permits:1" {
		t.Fatalf("default message %q", a.Message)
	}
	e.send("13800138000").want(t, 200, CodeOK) // used up

	// Any phone, twice, a gateway-level failure.
	inject(`{"code":"ServiceUnavailable","count":2}`)
	e.send("13800138000").want(t, 503, CodeServiceUnavailable)
	e.send("13900139000").want(t, 503, CodeServiceUnavailable)
	e.send("13800138000").want(t, 200, CodeOK)

	// A dropped connection: no answer at all.
	inject(`{"code":"` + FailDropConnection + `"}`)
	_, err := http.PostForm(e.srv.URL+"/", signed("POST", e.request("13800138000", LoginTemplateCode, map[string]string{"code": "1234"}), e.g.AccessKeySecret()))
	if err == nil {
		t.Fatal("dropped connection answered")
	}

	for _, bad := range []string{`{}`, `{"code":"OK"}`, `{"code":"x","status":42}`, `not json`} {
		if s := inject(bad); s != 400 {
			t.Errorf("inject %s: HTTP %d, want 400", bad, s)
		}
	}
	if n := len(e.g.Failures()); n != 0 {
		t.Fatalf("%d failures left pending", n)
	}
}

func TestMessagesEndpointFiltersByPhone(t *testing.T) {
	e := newEnv(t, Options{FlowControl: &FlowControl{}})
	e.send("13800138000").want(t, 200, CodeOK)
	e.send("13900139000").want(t, 200, CodeOK)
	e.clock.Advance(time.Second)
	e.post(signed("POST", e.request("13800138000", LoginTemplateCode, map[string]string{"code": "777777"}), e.g.AccessKeySecret())).want(t, 200, CodeOK)

	get := func(query string) []map[string]any {
		res, err := http.Get(e.srv.URL + "/sandbox/sms/messages" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out []map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	mine := get("?phone=13800138000")
	if len(mine) != 2 || mine[1]["params"].(map[string]any)["code"] != "777777" {
		t.Fatalf("messages for 13800138000 (newest last): %v", mine)
	}
	if len(get("?phone=%2B8613800138000")) != 2 || len(get("")) != 3 || len(get("?phone=13700137000")) != 0 {
		t.Fatal("phone filter")
	}
}

func TestTemplates(t *testing.T) {
	tmpl := Template{Code: "SMS_1", Kind: KindNotification, Content: "您预约的${item}将于${time}办理，请携带${item}材料。"}
	if got := tmpl.Params(); len(got) != 2 || got[0] != "item" || got[1] != "time" {
		t.Fatalf("params %v", got)
	}
	got := tmpl.Render("政务服务", map[string]string{"item": "户籍迁移", "time": "3月2日 10:00"})
	if got != "【政务服务】您预约的户籍迁移将于3月2日 10:00办理，请携带户籍迁移材料。" {
		t.Fatalf("render %q", got)
	}

	// A template added later (e.g. a reminder) is sendable, with the notification length rule.
	e := newEnv(t, Options{})
	e.g.AddTemplate(tmpl)
	send := func(vars map[string]string) answer {
		return e.post(signed("POST", e.request("13800138000", "SMS_1", vars), e.g.AccessKeySecret()))
	}
	send(map[string]string{"item": strings.Repeat("长", 36), "time": "10:00"}).want(t, 200, CodeParamLengthLimit)
	send(map[string]string{"item": "A&B *~ 测试+%", "time": "10:00"}).want(t, 200, CodeOK)
	if m := e.g.Messages("13800138000"); len(m) != 1 || !strings.Contains(m[0].Content, "A&B *~ 测试+%") {
		t.Fatalf("messages %+v", m)
	}
}

// Flow control is checked and counted atomically: of many concurrent sends
// to one phone, exactly as many as the limit go through.
func TestFlowControlHoldsUnderConcurrency(t *testing.T) {
	e := newEnv(t, Options{})
	reqs := make([]url.Values, 16)
	for i := range reqs {
		reqs[i] = signed("POST", e.request("13800138000", LoginTemplateCode, map[string]string{"code": "123456"}), e.g.AccessKeySecret())
	}
	codes := make(chan string, len(reqs))
	var wg sync.WaitGroup
	for _, v := range reqs {
		wg.Go(func() {
			res, err := http.PostForm(e.srv.URL+"/", v)
			if err != nil {
				codes <- err.Error()
				return
			}
			defer res.Body.Close()
			var a answer
			_ = json.NewDecoder(res.Body).Decode(&a)
			codes <- a.Code
		})
	}
	wg.Wait()
	close(codes)
	count := map[string]int{}
	for c := range codes {
		count[c]++
	}
	if count[CodeOK] != 1 || count[CodeBusinessLimit] != len(reqs)-1 {
		t.Fatalf("answers %v", count)
	}
}
