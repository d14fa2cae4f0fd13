package wechatpay

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"zwfw/payments"
	fakepay "zwfw/sandbox/wechatpay"
)

var signTypes = []string{util.SignTypeMD5, util.SignTypeHMACSHA256}

func TestPrepayQueryClose(t *testing.T) {
	ctx := context.Background()
	for _, signType := range signTypes {
		for _, ch := range []payments.Channel{payments.WeChatJSAPI, payments.WeChatApp} {
			t.Run(signType+"/"+string(ch), func(t *testing.T) {
				e := newTestEnv(t, signType)
				pp, err := e.prepay(ch, "T1", 8000)
				if err != nil {
					t.Fatal(err)
				}
				wantKeys := []string{"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
				if ch == payments.WeChatApp {
					wantKeys = []string{"appid", "partnerid", "prepayid", "package", "noncestr", "timestamp", "sign"}
				}
				for _, k := range wantKeys {
					if pp.Params[k] == "" {
						t.Errorf("params lack %s: %v", k, pp.Params)
					}
				}
				again, err := e.prepay(ch, "T1", 8000)
				if err != nil || (again.Params["package"] != pp.Params["package"] || again.Params["prepayid"] != pp.Params["prepayid"]) {
					t.Errorf("same order again: %v %v", err, again.Params)
				}
				if _, err := e.prepay(ch, "T1", 8001); !errors.Is(err, ErrOutTradeNoUsed) {
					t.Errorf("other amount: %v", err)
				}
				tr, err := e.c.Query(ctx, "T1")
				if err != nil || tr.State != payments.TradeNotPaid || tr.Amount != 8000 {
					t.Fatalf("query unpaid: %+v %v", tr, err)
				}
				// The payer pays with exactly what Prepay returned (the fake
				// checks the client signature as WeChat's client does).
				if _, err := e.fake.PayParams(pp.Params, fakepay.PayOptions{}); err != nil {
					t.Fatalf("the client parameters do not verify: %v", err)
				}
				r := e.waitNotify()
				if r.err != nil || r.n.Kind != payments.NotifyPaid || r.n.Trade.Amount != 8000 || r.n.Trade.Attach != "payment-T1" {
					t.Fatalf("notify: %+v %v", r.n, r.err)
				}
				tr, err = e.c.Query(ctx, "T1")
				wantPaidAt := time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai)
				if err != nil || tr.State != payments.TradePaid || tr.TransactionID != r.n.ID || !tr.PaidAt.Equal(wantPaidAt) || tr.Currency != "CNY" {
					t.Errorf("query paid: %+v %v", tr, err)
				}
				if _, err := e.prepay(ch, "T1", 8000); !errors.Is(err, payments.ErrTradePaid) {
					t.Errorf("prepay of a paid order: %v", err)
				}
				if err := e.c.Close(ctx, "T1"); !errors.Is(err, payments.ErrTradePaid) {
					t.Errorf("close a paid order: %v", err)
				}

				if _, err := e.prepay(ch, "T2", 100); err != nil {
					t.Fatal(err)
				}
				for i := range 2 {
					if err := e.c.Close(ctx, "T2"); err != nil {
						t.Errorf("close #%d: %v", i+1, err)
					}
				}
				if tr, err := e.c.Query(ctx, "T2"); err != nil || tr.State != payments.TradeClosed {
					t.Errorf("query closed: %+v %v", tr, err)
				}
				if _, err := e.prepay(ch, "T2", 100); !errors.Is(err, payments.ErrTradeClosed) {
					t.Errorf("prepay of a closed order: %v", err)
				}
				if err := e.c.Close(ctx, "NEVER"); err != nil {
					t.Errorf("close an unknown order: %v", err)
				}
				if _, err := e.c.Query(ctx, "NEVER"); !errors.Is(err, payments.ErrTradeNotFound) {
					t.Errorf("query an unknown order: %v", err)
				}
			})
		}
	}
}

func TestPrepayValidation(t *testing.T) {
	e := newTestEnv(t, "")
	ctx := context.Background()
	for name, req := range map[string]payments.PrepayRequest{
		"alipay channel":     {Channel: payments.AlipayApp, OutTradeNo: "X", Amount: 1},
		"jsapi no openid":    {Channel: payments.WeChatJSAPI, OutTradeNo: "X", Amount: 1},
		"zero amount":        {Channel: payments.WeChatApp, OutTradeNo: "X"},
		"long out_trade_no":  {Channel: payments.WeChatApp, OutTradeNo: "123456789012345678901234567890123", Amount: 1},
		"no subject":         {Channel: payments.WeChatApp, OutTradeNo: "X", Amount: 1},
		"rejected by wechat": {Channel: payments.WeChatApp, OutTradeNo: "X", Amount: 1, Subject: "s", ExpiresAt: t0.Add(10 * time.Second)},
	} {
		if _, err := e.c.Prepay(ctx, req); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var apiErr *APIError
	_, err := e.c.Prepay(ctx, payments.PrepayRequest{Channel: payments.WeChatApp, OutTradeNo: "X", Amount: 1, Subject: "s", ExpiresAt: t0.Add(10 * time.Second)})
	if !errors.As(err, &apiErr) || apiErr.Code != "PARAM_ERROR" || apiErr.Temporary() {
		t.Errorf("WeChat's refusal: %v", err)
	}
	if got := truncateBytes("不动产登记费", 7); got != "不动" {
		t.Errorf("truncateBytes %q", got)
	}
}

func TestParseNotifyRefusesForgedAndForeign(t *testing.T) {
	for _, signType := range signTypes {
		t.Run(signType, func(t *testing.T) {
			e := newTestEnv(t, signType)
			ctx := context.Background()
			e.paid(payments.WeChatJSAPI, "N1", 500)
			body := []byte(e.fake.Notifies()[0].Body)
			msg, err := fakepay.ParseMessage(body)
			if err != nil {
				t.Fatal(err)
			}
			resign := func(m fakepay.Message, key string) []byte {
				var out fakepay.Message
				for _, f := range m {
					if f.Name != "sign" {
						out = append(out, f)
					}
				}
				st := m.Get("sign_type")
				if st == "" {
					st = fakepay.SignMD5
				}
				out = append(out, fakepay.Field{Name: "sign", Value: fakepay.Sign(out.Map(), key, st)})
				return out.Encode()
			}
			with := func(name, value string) fakepay.Message {
				m := append(fakepay.Message(nil), msg...)
				m.Set(name, value)
				return m
			}
			foreignKey := "0123456789abcdef0123456789abcdef"
			for _, tc := range []struct {
				name string
				body []byte
				want error
			}{
				{"amount changed after signing", with("total_fee", "1").Encode(), payments.ErrForgedNotify},
				{"signed with another key", resign(with("total_fee", "1"), foreignKey), payments.ErrForgedNotify},
				{"empty body", nil, payments.ErrForgedNotify},
				{"not xml", []byte("total_fee=1"), payments.ErrForgedNotify},
				{"repeated field", []byte(string(body[:len(body)-6]) + "<total_fee>1</total_fee></xml>"), payments.ErrForgedNotify},
				{"foreign merchant, our key", resign(with("mch_id", "1999999999"), e.fake.APIKey()), payments.ErrForeignNotify},
				{"foreign app id, our key", resign(with("appid", "wx0000000000000000"), e.fake.APIKey()), payments.ErrForeignNotify},
				{"genuine", body, nil},
			} {
				n, err := e.c.ParseNotify(ctx, payments.InboundNotify{Body: tc.body})
				if !errors.Is(err, tc.want) || (tc.want == nil && (n.Kind != payments.NotifyPaid || n.Trade.Amount != 500)) {
					t.Errorf("%s: %+v %v", tc.name, n, err)
				}
			}
			// A genuine notify with a field the SDK's PaidResult does not
			// know still verifies (notify.PaidVerifySign would refuse it).
			extra := append(append(fakepay.Message(nil), msg...), fakepay.Field{Name: "promotion_detail", Value: "[]"})
			if _, err := e.c.ParseNotify(ctx, payments.InboundNotify{Body: resign(extra, e.fake.APIKey())}); err != nil {
				t.Errorf("notify with an extra field: %v", err)
			}
			if n, err := e.c.ParseNotify(ctx, payments.InboundNotify{Body: resign(with("result_code", "FAIL"), e.fake.APIKey())}); err != nil || n.Kind != payments.NotifyOther {
				t.Errorf("result_code FAIL: %+v %v", n, err)
			}
		})
	}
}

func TestRefund(t *testing.T) {
	for _, signType := range signTypes {
		t.Run(signType, func(t *testing.T) {
			e := newTestEnv(t, signType)
			ctx := context.Background()
			e.paid(payments.WeChatApp, "R1", 10000)
			req := payments.RefundRequest{OutTradeNo: "R1", OutRefundNo: "RF1", Total: 10000, Amount: 3000, Reason: "多缴退费"}
			res, err := e.c.Refund(ctx, req)
			if err != nil || res.State != payments.RefundPending || res.Amount != 3000 || res.RefundID == "" {
				t.Fatalf("refund: %+v %v", res, err)
			}
			again, err := e.c.Refund(ctx, req)
			if err != nil || again.RefundID != res.RefundID {
				t.Errorf("repeat: %+v %v", again, err)
			}
			n := e.waitNotify()
			if n.err != nil || n.n.Kind != payments.NotifyRefunded || n.n.Refund.OutRefundNo != "RF1" || n.n.Refund.State != payments.RefundSuccess ||
				n.n.Refund.Amount != 3000 || n.n.ID != res.RefundID || n.n.Refund.SettledAt.IsZero() {
				t.Fatalf("refund notify: %+v %v", n.n, n.err)
			}
			q, err := e.c.QueryRefund(ctx, "R1", "RF1")
			if err != nil || q.State != payments.RefundSuccess || q.Amount != 3000 || !q.SettledAt.Equal(n.n.Refund.SettledAt) {
				t.Errorf("query refund: %+v %v", q, err)
			}
			if _, err := e.c.QueryRefund(ctx, "OTHER", "RF1"); !errors.Is(err, payments.ErrRefundNotFound) {
				t.Errorf("refund of another order: %v", err)
			}
			if _, err := e.c.QueryRefund(ctx, "R1", "NONE"); !errors.Is(err, payments.ErrRefundNotFound) {
				t.Errorf("unknown refund: %v", err)
			}
			if _, err := e.c.Refund(ctx, payments.RefundRequest{OutTradeNo: "R1", OutRefundNo: "RF2", Total: 10000, Amount: 7001}); !errors.Is(err, payments.ErrRefundRefused) {
				t.Errorf("more than refundable: %v", err)
			}
			if _, err := e.c.Refund(ctx, payments.RefundRequest{OutTradeNo: "NONE", OutRefundNo: "RF3", Total: 1, Amount: 1}); !errors.Is(err, payments.ErrTradeNotFound) {
				t.Errorf("unknown order: %v", err)
			}
		})
	}
}

func TestRefundNeedsTheMerchantCertificate(t *testing.T) {
	e := newTestEnv(t, "")
	e.paid(payments.WeChatJSAPI, "R1", 100)
	// Another merchant certificate (another fake's CA) is refused at the handshake.
	other := fakepay.New(fakepay.Options{MchID: e.fake.MchID()})
	defer other.Close()
	c, err := New(Config{MiniProgramAppID: e.fake.MiniProgramAppID(), MchID: e.fake.MchID(), Key: e.fake.APIKey(),
		CertP12: other.MerchantP12(), RootCAs: e.fake.RootCAs(), SecureAPIBase: e.tlsURL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refund(context.Background(), payments.RefundRequest{OutTradeNo: "R1", OutRefundNo: "F", Total: 100, Amount: 1}); err == nil {
		t.Error("refund with a foreign certificate succeeded")
	}
	// Without the server's CA the client refuses the server.
	c, _ = New(Config{MiniProgramAppID: e.fake.MiniProgramAppID(), MchID: e.fake.MchID(), Key: e.fake.APIKey(),
		CertP12: e.fake.MerchantP12(), SecureAPIBase: e.tlsURL, Timeout: 5 * time.Second})
	if _, err := c.Refund(context.Background(), payments.RefundRequest{OutTradeNo: "R1", OutRefundNo: "F", Total: 100, Amount: 1}); err == nil {
		t.Error("refund trusted an unknown server")
	}
	if _, err := New(Config{MiniProgramAppID: "wx1", MchID: "1", Key: e.fake.APIKey(), CertP12: e.fake.MerchantP12()}); err == nil {
		t.Error("a p12 that does not open with the mch_id password was accepted")
	}
	if _, err := New(Config{MiniProgramAppID: "wx1", MchID: e.fake.MchID(), Key: e.fake.APIKey()}); err == nil {
		t.Error("New without CertP12")
	}
}

func TestRefundNotifyForged(t *testing.T) {
	e := newTestEnv(t, "")
	ctx := context.Background()
	otherKey := "0123456789abcdef0123456789abcdef"
	plain := []byte("<root><out_refund_no>F</out_refund_no><out_trade_no>R</out_trade_no><refund_status>SUCCESS</refund_status><refund_fee>1</refund_fee><success_time>2026-03-02 10:00:00</success_time></root>")
	notify := func(appID, mchID, reqInfo string) []byte {
		return fakepay.Message{{Name: "return_code", Value: "SUCCESS"}, {Name: "appid", Value: appID}, {Name: "mch_id", Value: mchID},
			{Name: "nonce_str", Value: "n"}, {Name: "req_info", Value: reqInfo}}.Encode()
	}
	for _, tc := range []struct {
		name string
		body []byte
		want error
	}{
		{"another key", notify(e.fake.MiniProgramAppID(), e.fake.MchID(), fakepay.EncryptReqInfo(plain, otherKey)), payments.ErrForgedNotify},
		{"random bytes", notify(e.fake.MiniProgramAppID(), e.fake.MchID(), "AAECAwQFBgcICQoLDA0OD/8AAQIDBAUGBwgJCgsMDQ4P"), payments.ErrForgedNotify},
		{"not base64", notify(e.fake.MiniProgramAppID(), e.fake.MchID(), "%%%"), payments.ErrForgedNotify},
		{"empty", notify(e.fake.MiniProgramAppID(), e.fake.MchID(), ""), payments.ErrForgedNotify},
		{"our key, other merchant", notify(e.fake.MiniProgramAppID(), "1999999999", fakepay.EncryptReqInfo(plain, e.fake.APIKey())), payments.ErrForeignNotify},
		{"genuine", notify(e.fake.AppAppID(), e.fake.MchID(), fakepay.EncryptReqInfo(plain, e.fake.APIKey())), nil},
	} {
		if _, err := e.c.ParseNotify(ctx, payments.InboundNotify{Body: tc.body}); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestAck(t *testing.T) {
	e := newTestEnv(t, "")
	body, ct := e.c.Ack(true)
	if string(body) != "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>" || ct == "" {
		t.Errorf("%s %s", body, ct)
	}
	if body, _ := e.c.Ack(false); string(body) == "" || string(body) == string(ackSuccess) {
		t.Errorf("fail ack %s", body)
	}
}
