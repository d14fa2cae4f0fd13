package wechatpay

import (
	"errors"
	"net/http"

	"zwfw/sandbox/fake"
)

// The /sandbox/wechatpay/ routes stand in for the payer and WeChat's side.

// payRequest is the body of POST /sandbox/wechatpay/pay and /surplus.
type payRequest struct {
	OutTradeNo string            `json:"out_trade_no"`
	Params     map[string]string `json:"params"`
	PayOptions
}

// postPay: POST /sandbox/wechatpay/pay.
func (s *Server) postPay(w http.ResponseWriter, r *http.Request) {
	var req payRequest
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"out_trade_no" or "params", "amount_fen", "notify"}: %v`, err)
		return
	}
	outTradeNo := req.OutTradeNo
	var err error
	switch {
	case len(req.Params) > 0:
		outTradeNo, err = s.PayParams(req.Params, req.PayOptions)
	case outTradeNo != "":
		err = s.Pay(outTradeNo, req.PayOptions)
	default:
		fake.ControlError(w, http.StatusBadRequest, "out_trade_no or params is required")
		return
	}
	s.answerPaid(w, outTradeNo, err)
}

// postSurplus: POST /sandbox/wechatpay/surplus.
func (s *Server) postSurplus(w http.ResponseWriter, r *http.Request) {
	var req payRequest
	if err := fake.ReadJSON(w, r, &req); err != nil || req.OutTradeNo == "" {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"out_trade_no", "amount_fen", "notify"}`)
		return
	}
	s.answerPaid(w, req.OutTradeNo, s.Surplus(req.OutTradeNo, req.PayOptions))
}

func (s *Server) answerPaid(w http.ResponseWriter, outTradeNo string, err error) {
	switch {
	case errors.Is(err, ErrOrderNotFound):
		fake.ControlError(w, http.StatusNotFound, "%v", err)
	case errors.Is(err, ErrNotPayable), errors.Is(err, ErrOrderExpired), errors.Is(err, ErrNotClosed):
		fake.ControlError(w, http.StatusConflict, "%v", err)
	case err != nil:
		fake.ControlError(w, http.StatusBadRequest, "%v", err)
	default:
		o, _ := s.Order(outTradeNo)
		fake.WriteJSON(w, http.StatusOK, o)
	}
}

// getOrders: GET /sandbox/wechatpay/orders.
func (s *Server) getOrders(w http.ResponseWriter, r *http.Request) {
	s.Advance()
	fake.WriteJSON(w, http.StatusOK, s.Orders())
}

// getOrder: GET /sandbox/wechatpay/orders/{out_trade_no}.
func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	s.Advance()
	o, ok := s.Order(r.PathValue("out_trade_no"))
	if !ok {
		fake.ControlError(w, http.StatusNotFound, "%v", ErrOrderNotFound)
		return
	}
	fake.WriteJSON(w, http.StatusOK, o)
}

// getNotifies: GET /sandbox/wechatpay/notifies.
func (s *Server) getNotifies(w http.ResponseWriter, r *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Notifies())
}

// getNotifyMode: GET /sandbox/wechatpay/notify-mode.
func (s *Server) getNotifyMode(w http.ResponseWriter, r *http.Request) {
	fake.WriteJSON(w, http.StatusOK, map[string]NotifyMode{"notify": s.NotifyMode()})
}

// postNotifyMode: POST /sandbox/wechatpay/notify-mode {"notify"}.
func (s *Server) postNotifyMode(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Notify NotifyMode `json:"notify"`
	}
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"notify": "send|drop|twice"}`)
		return
	}
	if err := s.SetNotifyMode(req.Notify); err != nil {
		fake.ControlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	fake.WriteJSON(w, http.StatusOK, map[string]NotifyMode{"notify": req.Notify})
}

// postAdvance: POST /sandbox/wechatpay/advance.
func (s *Server) postAdvance(w http.ResponseWriter, r *http.Request) {
	s.Advance()
	w.WriteHeader(http.StatusNoContent)
}
