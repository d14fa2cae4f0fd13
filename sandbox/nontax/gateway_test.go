package nontax

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"zwfw/sandbox/province"
)

func TestGatewayRefusesBadRequests(t *testing.T) {
	e := newEnv(t, Options{})
	code := e.s.Notices("", "")[0].PaymentCode
	path := apiNotices + code
	cases := []struct {
		name   string
		rq     request
		status int
		code   string
	}{
		{"valid HMAC-SM3", request{}, 200, CodeOK},
		{"valid HMAC-SHA256", request{signMethod: province.MethodSHA256}, 200, CodeOK},
		{"no sign method means SM3", request{mutate: func(r *http.Request) { r.Header.Del(province.HeaderSignMethod) }}, 200, CodeOK},
		{"no signature", request{mutate: func(r *http.Request) { r.Header.Del(province.HeaderSignature) }}, 401, province.CodeSignatureMissing},
		{"no nonce", request{mutate: func(r *http.Request) { r.Header.Del(province.HeaderNonce) }}, 401, province.CodeSignatureMissing},
		{"unknown app key", request{appKey: "someone-else"}, 401, province.CodeAppKeyUnknown},
		{"wrong secret", request{secret: "not-the-secret"}, 401, province.CodeSignatureInvalid},
		{"unknown sign method", request{mutate: func(r *http.Request) { r.Header.Set(province.HeaderSignMethod, "HMAC-MD5") }}, 401, province.CodeSignatureInvalid},
		{"timestamp in seconds", request{mutate: func(r *http.Request) {
			r.Header.Set(province.HeaderTimestamp, r.Header.Get(province.HeaderTimestamp)[:10])
		}}, 401, province.CodeTimestampSkew},
		{"6 minutes old", request{at: start.Add(-6 * time.Minute)}, 401, province.CodeTimestampSkew},
		{"6 minutes ahead", request{at: start.Add(6 * time.Minute)}, 401, province.CodeTimestampSkew},
		{"4 minutes old", request{at: start.Add(-4 * time.Minute)}, 200, CodeOK},
		{"upper-case nonce", request{nonce: strings.Repeat("AB", 16)}, 401, province.CodeSignatureInvalid},
		{"path altered", request{mutate: func(r *http.Request) { r.URL.Path += "0" }}, 401, province.CodeSignatureInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rq := c.rq
			rq.method, rq.path = "GET", path
			e.do(rq).want(t, c.status, c.code)
		})
	}
}

func TestGatewayRefusesReplayedNonce(t *testing.T) {
	e := newEnv(t, Options{})
	code := e.s.Notices("", "")[0].PaymentCode
	nonce := province.NewNonce()
	rq := request{method: "GET", path: apiNotices + code, nonce: nonce}
	e.do(rq).ok(t)
	e.do(rq).want(t, 401, province.CodeNonceReplayed)
	// A forgery with a fresh nonce does not burn it.
	fresh := province.NewNonce()
	e.do(request{method: "GET", path: apiNotices + code, nonce: fresh, secret: "forged"}).want(t, 401, province.CodeSignatureInvalid)
	e.do(request{method: "GET", path: apiNotices + code, nonce: fresh}).ok(t)
	// After the window the nonce may come again (with a fresh timestamp).
	e.clock.Advance(NonceWindow + time.Second)
	e.do(rq).ok(t)
}

func TestGatewayShowsStringToSign(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.do(request{method: "GET", path: APIPrefix + "/confirmations?date=2026-03-02", secret: "wrong"}).want(t, 401, province.CodeSignatureInvalid)
	var d struct {
		StringToSign string `json:"string_to_sign"`
	}
	a.into(t, &d)
	if !strings.HasPrefix(d.StringToSign, "GET\n/api/v1/confirmations\ndate=2026-03-02\n") {
		t.Fatalf("string to sign %q", d.StringToSign)
	}
}

func TestUnknownAPIIsASigned404(t *testing.T) {
	e := newEnv(t, Options{})
	e.get(APIPrefix+"/nothing-here").want(t, 404, province.CodeAPINotFound)
	e.do(request{method: "DELETE", path: apiNotices + "x"}).want(t, 404, province.CodeAPINotFound)
}

func TestIdempotencyKeys(t *testing.T) {
	e := newEnv(t, Options{NoDemoData: true})
	n := e.issue(itemsOf("103045500101")...)
	path := apiNotices + n.PaymentCode + "/payments"
	body := payment("4200000001202603020000000001", n.Amount, start)
	e.post(path, "", body).want(t, 400, CodeIdempotencyKeyRequired)
	first := e.post(path, "k1", body).ok(t)
	again := e.post(path, "k1", body).ok(t)
	if string(first.Raw) != string(again.Raw) {
		t.Fatalf("repeat is not the first answer byte for byte:\n%s\n%s", first.Raw, again.Raw)
	}
	body["out_trade_no"] = "OTHER"
	e.post(path, "k1", body).want(t, 409, CodeIdempotencyKeyConflict)
	e.post(path, strings.Repeat("k", 129), body).want(t, 400, CodeParamInvalid)

	// A refusal is not remembered: the same request under the same key is
	// served afresh once the state allows it.
	m := e.issue(itemsOf("103040100101")...)
	rf := refund("R1", 100, start)
	e.post(apiNotices+m.PaymentCode+"/refunds", "r", rf).want(t, 409, CodeNoticeNotPaid)
	e.post(apiNotices+m.PaymentCode+"/payments", "p", payment("T2", m.Amount, start)).ok(t)
	e.post(apiNotices+m.PaymentCode+"/refunds", "r", rf).ok(t)
}

// itemsOf makes one-each items of schedule codes.
func itemsOf(codes ...string) []IssueItem {
	out := make([]IssueItem, len(codes))
	for i, c := range codes {
		out[i] = IssueItem{Code: c}
	}
	return out
}

func TestDescribeListsEveryRoute(t *testing.T) {
	e := newEnv(t, Options{})
	d := e.s.Describe()
	if d.Name != "nontax" || len(d.API) != len(e.s.routes())+1 || d.Info["app_key"] != e.s.AppKey() {
		t.Fatalf("description %+v", d)
	}
	b, _ := json.Marshal(d)
	if strings.Contains(string(b), e.s.AppSecret()) {
		t.Fatal("the description shows the secret")
	}
}
