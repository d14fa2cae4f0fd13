package alipay_test

import (
	"net/http"
	"testing"

	sdk "github.com/smartwalle/alipay/v3"

	"zwfw/sandbox/alipay"
)

func TestControls(t *testing.T) {
	e := newEnv(t, alipay.Options{})

	// Pay straight from the order string, with a wrong amount.
	var res alipay.PayResult
	if st := e.control("POST", "/sandbox/alipay/pay", map[string]any{"order_string": e.appOrder("A1", "50.00"), "amount": "5.00"}, &res); st != 200 {
		t.Fatalf("pay: %d", st)
	}
	if res.Trade.TotalAmount != "5.00" || res.Trade.OrderedAmount != "50.00" || res.NotifyID == "" {
		t.Fatalf("pay: %+v", res)
	}
	// Open a WAP URL, then pay it by out_trade_no without a notify.
	u, _ := e.sdk.TradeWapPay(sdk.TradeWapPay{Trade: sdk.Trade{NotifyURL: e.merchant.url, Subject: "x", OutTradeNo: "A2", TotalAmount: "1.00", ProductCode: "QUICK_WAP_WAY"}})
	var tr alipay.Trade
	if st := e.control("POST", "/sandbox/alipay/open", map[string]string{"pay_url": u.String()}, &tr); st != 200 || tr.Status != alipay.StatusWaitBuyerPay || tr.Method != "alipay.trade.wap.pay" {
		t.Fatalf("open: %d %+v", st, tr)
	}
	if st := e.control("POST", "/sandbox/alipay/pay", map[string]string{"out_trade_no": "A2", "notify": "drop"}, &res); st != 200 {
		t.Fatalf("pay A2: %d", st)
	}

	// Surplus from the order string of a trade the merchant closed.
	order := e.appOrder("A3", "2.00")
	if _, err := e.s.Open(order); err != nil {
		t.Fatal(err)
	}
	if rsp, _ := e.sdk.TradeClose(t.Context(), sdk.TradeClose{OutTradeNo: "A3"}); !rsp.IsSuccess() {
		t.Fatal("close")
	}
	var ae alipay.Error
	if st := e.control("POST", "/sandbox/alipay/pay", map[string]any{"order_string": order}, &ae); st != http.StatusConflict || ae.SubCode != alipay.SubTradeHasClose {
		t.Fatalf("pay closed: %d %+v", st, ae)
	}
	if st := e.control("POST", "/sandbox/alipay/pay", map[string]any{"order_string": order, "surplus": true}, &res); st != 200 || !res.Trade.Surplus {
		t.Fatalf("surplus: %d %+v", st, res)
	}

	tests := []struct {
		body any
		code int
	}{
		{map[string]string{"out_trade_no": "nope"}, http.StatusNotFound},
		{map[string]string{"order_string": "app_id=1&sign=x"}, http.StatusBadRequest},
		{map[string]string{}, http.StatusBadRequest},
		{map[string]string{"out_trade_no": "A1"}, http.StatusConflict},
	}
	for _, tt := range tests {
		if st := e.control("POST", "/sandbox/alipay/pay", tt.body, nil); st != tt.code {
			t.Errorf("pay %v: %d, want %d", tt.body, st, tt.code)
		}
	}

	var trades []alipay.Trade
	e.control("GET", "/sandbox/alipay/trades", nil, &trades)
	if len(trades) != 3 || trades[0].OutTradeNo != "A1" {
		t.Fatalf("trades: %+v", trades)
	}
	var notifies []alipay.Notify
	e.control("GET", "/sandbox/alipay/notifies?out_trade_no=A2", nil, &notifies)
	if len(notifies) != 1 || notifies[0].Mode != alipay.NotifyDrop || notifies[0].Form["sign"] == "" {
		t.Fatalf("notifies: %+v", notifies)
	}
}
