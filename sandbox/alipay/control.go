package alipay

import (
	"net/http"
	"net/url"
	"strings"

	"zwfw/sandbox/fake"
)

// The /sandbox/alipay/ routes stand in for the payer: opening the cashier
// with what zwfw handed the app or the browser, paying (or paying wrongly,
// or too late), and for the tester reading trades and notifies.

// payRequest names a trade by what the client holds, and how to pay it.
type payRequest struct {
	OrderString string `json:"order_string"`
	PayURL      string `json:"pay_url"`
	OutTradeNo  string `json:"out_trade_no"`
	PayOptions
}

// openFrom opens the order string or WAP URL of req, or takes its
// out_trade_no as is.
func (s *Server) openFrom(req payRequest) (string, error) {
	switch {
	case req.OrderString != "":
		return s.Open(req.OrderString)
	case req.PayURL != "":
		u, err := url.Parse(strings.TrimSpace(req.PayURL))
		if err != nil {
			return "", invalidArg(SubInvalidParam, "pay_url 无法解析：%v", err)
		}
		return s.OpenWap(u)
	case req.OutTradeNo != "":
		return req.OutTradeNo, nil
	}
	return "", invalidArg(SubInvalidParam, "需要 order_string、pay_url 或 out_trade_no 之一")
}

// postOpen: POST /sandbox/alipay/open {"order_string"} or {"pay_url"}
func (s *Server) postOpen(w http.ResponseWriter, r *http.Request) {
	var req payRequest
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"order_string"} or {"pay_url"}: %v`, err)
		return
	}
	if req.OrderString == "" && req.PayURL == "" {
		fake.ControlError(w, http.StatusBadRequest, "order_string or pay_url is required")
		return
	}
	no, err := s.openFrom(req)
	if err != nil {
		e := asError(err)
		fake.WriteJSON(w, controlStatus(e), e)
		return
	}
	t, _ := s.TradeByNo(no)
	fake.WriteJSON(w, http.StatusOK, t)
}

// postPay: POST /sandbox/alipay/pay {"order_string"|"pay_url"|"out_trade_no", "amount", "notify", "surplus"}
func (s *Server) postPay(w http.ResponseWriter, r *http.Request) {
	var req payRequest
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"order_string"|"pay_url"|"out_trade_no", "amount", "notify":"send|drop|twice", "surplus"}: %v`, err)
		return
	}
	no, err := s.openFrom(req)
	if e := asErrorOrNil(err); e != nil && e.SubCode == SubTradeHasClose && req.Surplus && no != "" {
		err = nil // the payer was still in the cashier when the merchant closed the trade
	}
	if err == nil {
		var res PayResult
		if res, err = s.Pay(no, req.PayOptions); err == nil {
			fake.WriteJSON(w, http.StatusOK, res)
			return
		}
	}
	e := asError(err)
	fake.WriteJSON(w, controlStatus(e), e)
}

// getTrades: GET /sandbox/alipay/trades?out_trade_no=
func (s *Server) getTrades(w http.ResponseWriter, r *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Trades(r.URL.Query().Get("out_trade_no")))
}

// getNotifies: GET /sandbox/alipay/notifies?out_trade_no=
func (s *Server) getNotifies(w http.ResponseWriter, r *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Notifies(r.URL.Query().Get("out_trade_no")))
}

// asErrorOrNil is err as an Alipay Error, or nil.
func asErrorOrNil(err error) *Error {
	if err == nil {
		return nil
	}
	return asError(err)
}
