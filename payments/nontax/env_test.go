package nontax

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"zwfw/payments"
	"zwfw/sandbox/fake"
	fakent "zwfw/sandbox/nontax"
	"zwfw/sandbox/province"
)

// start is 10:00 in China on a Monday.
var start = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

var (
	zhangSan = province.DemoPeople[0]
	company  = province.DemoCompanies[0]
)

// env is the sandbox's non-tax platform on a real HTTP server and a client
// of it, on one clock the test steps.
type env struct {
	t     testing.TB
	fake  *fakent.Server
	clock *fake.ManualClock
	srv   *httptest.Server
	c     *Client
}

// newEnv starts the fake and a client; edit adjusts the client's Config
// (and may set a transport) before New.
func newEnv(t testing.TB, edit func(*Config, **http.Client)) *env {
	t.Helper()
	clock := fake.NewManualClock(start)
	f := fakent.New(fakent.Options{Now: clock.Now})
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	cfg := Config{
		BaseURL: srv.URL + fakent.BasePath, AppKey: f.AppKey(), AppSecret: f.AppSecret(),
		Now: clock.Now, RetryBackoff: time.Millisecond, Timeout: 2 * time.Second,
	}
	var hc *http.Client
	if edit != nil {
		edit(&cfg, &hc)
	}
	c, err := New(cfg, hc)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, fake: f, clock: clock, srv: srv, c: c}
}

// issue has the agency issue a notice to 张三.
func (e *env) issue(codes ...string) fakent.Notice {
	e.t.Helper()
	var items []fakent.IssueItem
	for _, c := range codes {
		items = append(items, fakent.IssueItem{Code: c})
	}
	n, err := e.fake.Issue(fakent.IssueRequest{PayerID: zhangSan.IDNumber, PayerName: zhangSan.Name, Items: items})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// confirmation of n paid now through WeChat with transaction txid.
func (e *env) confirmation(n fakent.Notice, txid string) payments.Confirmation {
	return payments.Confirmation{
		PaymentCode: n.PaymentCode, Channel: payments.WeChatJSAPI, TransactionID: txid,
		OutTradeNo: "ZW" + txid, Amount: payments.Fen(n.Amount), PaidAt: e.clock.Now().Add(-time.Minute),
	}
}

// calls is how many requests reached endpoint at the fake.
func (e *env) calls(endpoint string) int { return e.fake.Calls(endpoint) }

const (
	epNotice  = "GET /api/v1/notices/{payment_code}"
	epConfirm = "POST /api/v1/notices/{payment_code}/payments"
)
