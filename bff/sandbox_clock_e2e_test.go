package bff_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"zwfw/platform/testenv"
	"zwfw/sandbox/alipay"
	"zwfw/sandbox/wechatpay"
)

// sandboxControl calls one of the sandbox's HTTP controls, as a tester does with curl.
func (s *server) sandboxControl(method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, s.app.Sandbox().URL()+path, rd)
	req.Header.Set("Content-Type", "application/json")
	res, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// Today's payments are reconciled over HTTP alone: the sandbox's clock
// control closes the day (the channels publish its bills), and the admin
// runs the reconciliation of today.
func TestReconcileTodayThroughTheSandboxClock(t *testing.T) {
	s := start(t, fastCallbacks)
	me, zhang := s.verifiedCitizen("payer")
	admin := s.admin()
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")

	wx := s.issueNotice(zhang.IDNumber, zhang.Name)
	wxPay := s.payOrder(me.Access, wx, "wechat_app", "wx")
	s.userPays("wechat_app", wxPay, wechatpay.PayOptions{}, alipay.PayOptions{})
	ali := s.issueNotice(zhang.IDNumber, zhang.Name)
	aliPay := s.payOrder(me.Access, ali, "alipay_app", "ali")
	s.userPays("alipay_app", aliPay, wechatpay.PayOptions{}, alipay.PayOptions{})
	lost := s.issueNotice(zhang.IDNumber, zhang.Name)
	lostPay := s.payOrder(me.Access, lost, "wechat_jsapi", "lost")
	s.userPays("wechat_jsapi", lostPay, wechatpay.PayOptions{Notify: wechatpay.NotifyDrop}, alipay.PayOptions{})
	testenv.WaitFor(t, "the notified payments confirmed with the non-tax platform", func() bool {
		return s.payment(me.Access, wx)["receipt"] != nil && s.payment(me.Access, ali)["receipt"] != nil
	})

	// The day has not ended: no bill yet.
	wantError(t, s.request("POST", "/api/v1/admin/reconciliation/run?date="+today, admin, nil), 409, "RECONCILIATION_BILL_NOT_READY")

	if code, _ := s.sandboxControl("POST", "/sandbox/clock", map[string]string{"close_day": "tomorrow"}); code != 400 {
		t.Fatalf("a bad close_day: %d", code)
	}
	code, clock := s.sandboxControl("POST", "/sandbox/clock", map[string]string{"close_day": today})
	if code != 200 || clock["offset_seconds"].(float64) <= 0 {
		t.Fatalf("close the day: %d %v", code, clock)
	}
	r := s.request("POST", "/api/v1/admin/reconciliation/run?date="+today, admin, nil)
	if r.Status != 200 {
		t.Fatalf("run: %d %s", r.Status, r.Body)
	}
	var rep struct {
		Complete bool `json:"complete"`
		Lines    []struct {
			Kind       string `json:"kind"`
			OutTradeNo string `json:"out_trade_no"`
			Action     string `json:"action"`
		} `json:"lines"`
	}
	r.JSON(t, &rep)
	got := map[string]string{}
	for _, l := range rep.Lines {
		got[l.OutTradeNo] = l.Kind + "/" + l.Action
	}
	want := map[string]string{wxPay.OrderID: "matched/none", aliPay.OrderID: "matched/none", lostPay.OrderID: "matched/auto_fixed"}
	for order, w := range want {
		if got[order] != w {
			t.Errorf("%s: %q, want %q", order, got[order], w)
		}
	}
	if !rep.Complete || len(rep.Lines) != len(want) {
		t.Fatalf("report %s", r.Body)
	}
	if got := s.payment(me.Access, lost)["status"]; got != "paid" {
		t.Fatalf("the lost notify's payment is %v after reconciliation", got)
	}

	// Back to the real time.
	if code, clock := s.sandboxControl("DELETE", "/sandbox/clock", nil); code != 200 || clock["offset_seconds"].(float64) != 0 {
		t.Fatalf("reset: %d %v", code, clock)
	}
}
