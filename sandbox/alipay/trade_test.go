package alipay_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	sdk "github.com/smartwalle/alipay/v3"

	"zwfw/sandbox/alipay"
)

func TestAppPayFromOrderStringToNotify(t *testing.T) {
	e := newEnv(t, alipay.Options{})
	order := e.appOrder("P20260302001", "128.50")

	// Before the payer opens the order string, Alipay knows nothing of it.
	if rsp := e.query("P20260302001"); rsp.SubCode != alipay.SubTradeNotExist || rsp.Code != alipay.CodeBusinessFailed {
		t.Fatalf("query before open: %+v", rsp.Error)
	}
	no, err := e.s.Open(order)
	if err != nil || no != "P20260302001" {
		t.Fatalf("open: %q %v", no, err)
	}
	if _, err := e.s.Open(order); err != nil { // the app opening it again is harmless
		t.Fatal("reopen:", err)
	}
	rsp := e.query("P20260302001")
	if rsp.Code != alipay.CodeSuccess || rsp.TradeStatus != sdk.TradeStatusWaitBuyerPay || rsp.TotalAmount != "128.50" || len(rsp.TradeNo) != 28 {
		t.Fatalf("query after open: %+v", rsp)
	}

	e.clock.Advance(time.Minute)
	res, err := e.s.Pay("P20260302001", alipay.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	form := e.merchant.waitForms(t, 1)[0]
	// The SDK verifies the notify exactly as zwfw will.
	n, err := e.sdk.DecodeNotification(context.Background(), form)
	if err != nil {
		t.Fatal("notify does not verify:", err)
	}
	want := map[string]string{
		"app_id": e.s.AppID(), "notify_type": "trade_status_sync", "trade_status": "TRADE_SUCCESS",
		"out_trade_no": "P20260302001", "trade_no": res.Trade.TradeNo, "total_amount": "128.50",
		"receipt_amount": "128.50", "charset": "utf-8", "version": "1.0", "sign_type": "RSA2",
		"gmt_payment": "2026-03-02 10:01:00", "gmt_create": "2026-03-02 10:00:00",
		"passback_params": "pay%3A42", "seller_id": e.s.SellerID(), "subject": "不动产登记费",
	}
	for k, v := range want {
		if form.Get(k) != v {
			t.Errorf("notify %s = %q, want %q", k, form.Get(k), v)
		}
	}
	if n.NotifyId == "" || !strings.HasPrefix(n.BuyerId, "2088") || len(n.BuyerId) != 16 {
		t.Errorf("notify ids: %+v", n)
	}

	rsp = e.query("P20260302001")
	if rsp.TradeStatus != sdk.TradeStatusSuccess || rsp.SendPayDate != "2026-03-02 10:01:00" || rsp.ReceiptAmount != "128.50" || rsp.BuyerUserId != n.BuyerId {
		t.Fatalf("query after pay: %+v", rsp)
	}
	if _, err := e.s.Pay("P20260302001", alipay.PayOptions{}); err == nil {
		t.Fatal("paid twice")
	} else {
		wantSub(t, err, alipay.SubTradeHasSuccess)
	}
	if _, err := e.s.Open(order); err == nil {
		t.Fatal("reopened a paid trade")
	} else {
		wantSub(t, err, alipay.SubTradeHasSuccess)
	}
}

func TestWapCashierPaysAndReturns(t *testing.T) {
	e := newEnv(t, alipay.Options{})
	u, err := e.sdk.TradeWapPay(sdk.TradeWapPay{Trade: sdk.Trade{
		NotifyURL: e.merchant.url, ReturnURL: "https://zwfw.example.cn/pay/done?from=alipay",
		Subject: "营业执照工本费", OutTradeNo: "W1", TotalAmount: "10.00", ProductCode: "QUICK_WAP_WAY",
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The browser opens the URL the SDK built: the cashier page.
	res, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "¥10.00") || !strings.Contains(page, "营业执照工本费") {
		t.Fatalf("cashier page %d:\n%s", res.StatusCode, page)
	}
	if rsp := e.query("W1"); rsp.TradeStatus != sdk.TradeStatusWaitBuyerPay {
		t.Fatalf("after opening the cashier: %+v", rsp)
	}

	// The payer taps the button; the browser is sent back signed.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noRedirect.PostForm(e.url+"/sandbox/alipay/cashier", url.Values{"out_trade_no": {"W1"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || back.Host != "zwfw.example.cn" {
		t.Fatalf("return: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	q := back.Query()
	if q.Get("from") != "alipay" || q.Get("method") != "alipay.trade.wap.pay.return" || q.Get("total_amount") != "10.00" {
		t.Fatalf("return params: %v", q)
	}
	q.Del("from") // the merchant's own parameter is not Alipay's to sign
	if err := e.s.VerifyNotification(q); err != nil {
		t.Fatal("return params do not verify:", err)
	}
	q.Set("total_amount", "0.01")
	if e.s.VerifyNotification(q) == nil {
		t.Fatal("tampered return params verify")
	}
	e.merchant.waitForms(t, 1)

	// A tampered WAP URL shows the error instead of a cashier.
	bad := *u
	bq := bad.Query()
	bq.Set("biz_content", strings.Replace(bq.Get("biz_content"), "10.00", "0.01", 1))
	bad.RawQuery = bq.Encode()
	res, _ = http.Get(bad.String())
	if page := readAll(t, res); !strings.Contains(page, alipay.SubInvalidSignature) {
		t.Fatalf("tampered URL page:\n%s", page)
	}
}

func TestOpenRefusesConflictsAndExpiredOrders(t *testing.T) {
	e := newEnv(t, alipay.Options{})
	if _, err := e.s.Open(e.appOrder("C1", "5.00")); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.Open(e.appOrder("C1", "6.00"))
	wantSub(t, err, alipay.SubContextInconsistent)

	// time_expire in the past (fake clock): the trade is closed on sight.
	_, err = e.s.Open(e.appOrder("C2", "5.00", func(p *sdk.TradeAppPay) { p.TimeExpire = "2026-03-02 09:59:59" }))
	wantSub(t, err, alipay.SubTradeHasClose)

	// An open trade closes itself at time_expire.
	if _, err := e.s.Open(e.appOrder("C3", "5.00", func(p *sdk.TradeAppPay) { p.TimeExpire = "2026-03-02 10:15:00" })); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(16 * time.Minute)
	if rsp := e.query("C3"); rsp.TradeStatus != sdk.TradeStatusClosed {
		t.Fatalf("expired trade: %+v", rsp)
	}
	_, err = e.s.Pay("C3", alipay.PayOptions{})
	wantSub(t, err, alipay.SubTradeHasClose)

	tests := []struct {
		name string
		mod  func(*sdk.TradeAppPay)
	}{
		{"bad amount", func(p *sdk.TradeAppPay) { p.TotalAmount = "1.001" }},
		{"zero amount", func(p *sdk.TradeAppPay) { p.TotalAmount = "0.00" }},
		{"bad out_trade_no", func(p *sdk.TradeAppPay) { p.OutTradeNo = "a-b" }},
		{"no subject", func(p *sdk.TradeAppPay) { p.Subject = "" }},
		{"wrong product", func(p *sdk.TradeAppPay) { p.ProductCode = "FAST_INSTANT_TRADE_PAY" }},
		{"bad time_expire", func(p *sdk.TradeAppPay) { p.TimeExpire = "tomorrow" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.s.Open(e.appOrder("D1", "1.00", tt.mod))
			wantSub(t, err, alipay.SubInvalidParameter)
		})
	}
	// A WAP URL is not an order string.
	u, _ := e.sdk.TradeWapPay(sdk.TradeWapPay{Trade: sdk.Trade{Subject: "x", OutTradeNo: "D2", TotalAmount: "1.00", ProductCode: "QUICK_WAP_WAY"}})
	_, err = e.s.Open(u.RawQuery)
	wantSub(t, err, alipay.SubInvalidMethod)
}

func TestCloseRefundAndRefundQuery(t *testing.T) {
	e := newEnv(t, alipay.Options{})
	ctx := context.Background()

	// Close: unknown, open, paid.
	rsp, err := e.sdk.TradeClose(ctx, sdk.TradeClose{OutTradeNo: "nope"})
	if err != nil || rsp.SubCode != alipay.SubTradeNotExist {
		t.Fatalf("close unknown: %+v %v", rsp, err)
	}
	if _, err := e.s.Open(e.appOrder("K1", "3.00")); err != nil {
		t.Fatal(err)
	}
	if rsp, err = e.sdk.TradeClose(ctx, sdk.TradeClose{OutTradeNo: "K1"}); err != nil || !rsp.IsSuccess() {
		t.Fatalf("close open trade: %+v %v", rsp, err)
	}
	if q := e.query("K1"); q.TradeStatus != sdk.TradeStatusClosed {
		t.Fatalf("closed trade: %+v", q)
	}
	paid := e.paid("R1", "100.00")
	if rsp, _ = e.sdk.TradeClose(ctx, sdk.TradeClose{OutTradeNo: "R1"}); rsp.SubCode != alipay.SubTradeStatusError {
		t.Fatalf("close paid: %+v", rsp)
	}

	refund := func(reqNo, amount string) *sdk.TradeRefundRsp {
		t.Helper()
		rsp, err := e.sdk.TradeRefund(ctx, sdk.TradeRefund{OutTradeNo: "R1", RefundAmount: amount, OutRequestNo: reqNo,
			RefundReason: "多收退费", QueryOptions: []string{"refund_detail_item_list"}})
		if err != nil {
			t.Fatal(err)
		}
		return rsp
	}
	tests := []struct {
		reqNo, amount      string
		sub                string
		fundChange, total  string
		sendBack, tradeSta string
	}{
		{"RF1", "30.00", "", "Y", "30.00", "30.00", "TRADE_SUCCESS"},
		{"RF1", "30.00", "", "N", "30.00", "30.00", "TRADE_SUCCESS"}, // idempotent
		{"RF1", "31.00", alipay.SubDiscordantRepeat, "", "", "", ""},
		{"RF2", "70.01", alipay.SubRefundAmtNotEqual, "", "", "", ""},
		{"RF2", "-1", alipay.SubRefundFeeError, "", "", "", ""},
		{"RF2", "70.00", "", "Y", "100.00", "70.00", "TRADE_CLOSED"},
		{"RF3", "0.01", alipay.SubTradeHasClose, "", "", "", ""},
		{"RF2", "70.00", "", "N", "100.00", "70.00", "TRADE_CLOSED"}, // still idempotent after closing
	}
	for _, tt := range tests {
		rsp := refund(tt.reqNo, tt.amount)
		if tt.sub != "" {
			if rsp.SubCode != tt.sub {
				t.Fatalf("refund %s %s: want %s, got %+v", tt.reqNo, tt.amount, tt.sub, rsp.Error)
			}
			continue
		}
		if !rsp.IsSuccess() || rsp.FundChange != tt.fundChange || rsp.RefundFee != tt.total || rsp.SendBackFee != tt.sendBack || rsp.TradeNo != paid.Trade.TradeNo {
			t.Fatalf("refund %s %s: %+v", tt.reqNo, tt.amount, rsp)
		}
		if q := e.query("R1"); string(q.TradeStatus) != tt.tradeSta {
			t.Fatalf("after refund %s: %s", tt.reqNo, q.TradeStatus)
		}
	}
	// Refunding an unpaid trade is refused.
	if _, err := e.s.Open(e.appOrder("R2", "3.00")); err != nil {
		t.Fatal(err)
	}
	if rsp, _ := e.sdk.TradeRefund(ctx, sdk.TradeRefund{OutTradeNo: "R2", RefundAmount: "1.00", OutRequestNo: "x"}); rsp.SubCode != alipay.SubTradeStatusError {
		t.Fatalf("refund unpaid: %+v", rsp.Error)
	}

	// Refund query.
	q, err := e.sdk.TradeFastPayRefundQuery(ctx, sdk.TradeFastPayRefundQuery{OutTradeNo: "R1", OutRequestNo: "RF2", QueryOptions: []string{"gmt_refund_pay"}})
	if err != nil || q.RefundStatus != "REFUND_SUCCESS" || q.RefundAmount != "70.00" || q.TotalAmount != "100.00" || q.GMTRefundPay != "2026-03-02 10:00:00" {
		t.Fatalf("refund query: %+v %v", q, err)
	}
	q, err = e.sdk.TradeFastPayRefundQuery(ctx, sdk.TradeFastPayRefundQuery{OutTradeNo: "R1", OutRequestNo: "RF9"})
	if err != nil || !q.IsSuccess() || q.RefundStatus != "" || q.RefundAmount != "" {
		t.Fatalf("unknown refund: %+v %v", q, err)
	}
	q, _ = e.sdk.TradeFastPayRefundQuery(ctx, sdk.TradeFastPayRefundQuery{OutTradeNo: "nope", OutRequestNo: "RF1"})
	if q.SubCode != alipay.SubTradeNotExist {
		t.Fatalf("refund query of unknown trade: %+v", q.Error)
	}

	// Each refund sent the trade notify with its refund fields.
	forms := e.merchant.waitForms(t, 3)
	var refunds []url.Values
	for _, f := range forms {
		if f.Get("out_biz_no") != "" {
			refunds = append(refunds, f)
		}
	}
	if len(refunds) != 2 || refunds[1].Get("out_biz_no") != "RF2" || refunds[1].Get("refund_fee") != "100.00" ||
		refunds[1].Get("send_back_fee") != "70.00" || refunds[1].Get("trade_status") != "TRADE_CLOSED" ||
		refunds[1].Get("gmt_refund") != "2026-03-02 10:00:00.000" {
		t.Fatalf("refund notifies: %v", refunds)
	}
	for _, f := range refunds {
		if _, err := e.sdk.DecodeNotification(ctx, f); err != nil {
			t.Fatal("refund notify does not verify:", err)
		}
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
