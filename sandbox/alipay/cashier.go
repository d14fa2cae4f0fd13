package alipay

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
)

// The WAP cashier: the page a browser lands on when it opens the URL
// TradeWapPay built. Opening it creates the trade (as Alipay's cashier
// does); its button is the payer paying, after which the browser goes to
// the order's return_url with Alipay's signed sync-return parameters.

var cashierPage = template.Must(template.New("cashier").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>支付宝收银台（沙箱）</title>
<style>body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}.amount{font-size:2em;margin:.5em 0}
button{width:100%;padding:.8em;font-size:1.1em;background:#1677ff;color:#fff;border:0;border-radius:6px}.err{color:#c00}</style></head>
<body><h1>支付宝收银台（沙箱）</h1>
{{if .Error}}<p class="err">{{.Error.SubCode}}：{{.Error.SubMsg}}</p>
{{else if .Paid}}<p>支付成功。</p>{{if .ReturnURL}}<p><a href="{{.ReturnURL}}">返回商户</a></p>{{end}}
{{else}}<p>{{.Trade.Subject}}</p><p class="amount">¥{{.Trade.TotalAmount}}</p><p>商户订单号 {{.Trade.OutTradeNo}}</p>
<form method="post" action="/sandbox/alipay/cashier"><input type="hidden" name="out_trade_no" value="{{.Trade.OutTradeNo}}">
<button type="submit">确认付款</button></form>{{end}}
</body></html>
`))

type cashierView struct {
	Trade     Trade
	Error     *Error
	Paid      bool
	ReturnURL string
}

// cashier: GET|POST /alipay/gateway.do?method=alipay.trade.wap.pay&...
func (s *Server) cashier(w http.ResponseWriter, values url.Values) {
	no, err := s.open(values, methodWapPay)
	if err != nil {
		s.renderCashier(w, http.StatusOK, cashierView{Error: asError(err)}) // Alipay shows its error page with 200
		return
	}
	t, _ := s.TradeByNo(no)
	s.renderCashier(w, http.StatusOK, cashierView{Trade: t})
}

// postCashier: POST /sandbox/alipay/cashier out_trade_no=... (the cashier
// page's pay button).
func (s *Server) postCashier(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表单无法解析", http.StatusBadRequest)
		return
	}
	res, err := s.Pay(r.PostForm.Get("out_trade_no"), PayOptions{})
	if err != nil {
		e := asError(err)
		s.renderCashier(w, controlStatus(e), cashierView{Error: e})
		return
	}
	if res.ReturnURL != "" {
		http.Redirect(w, r, res.ReturnURL, http.StatusFound)
		return
	}
	s.renderCashier(w, http.StatusOK, cashierView{Trade: res.Trade, Paid: true})
}

func (s *Server) renderCashier(w http.ResponseWriter, status int, v cashierView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := cashierPage.Execute(w, v); err != nil {
		s.log.Warn("alipay cashier page", "err", err)
	}
}

// asError is err as an Alipay Error (every error the fake's methods return is one).
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeUnavailable, Msg: msgServiceUnavailable, SubCode: "isp.unknow-error", SubMsg: err.Error()}
}
