package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/pay/order"

	"zwfw/payments"
)

// Prepay implements payments.Gateway: unifiedorder under the channel's app
// id (JSAPI with the payer's openid, or APP) and the client parameters,
// both by the SDK's BridgeConfig / BridgeAppConfig (which place the order
// themselves, so the order is placed once). Repeating an out_trade_no with
// the same parameters returns the same prepay_id. Returns
// payments.ErrTradePaid, payments.ErrTradeClosed, ErrOutTradeNoUsed (with
// other parameters), an *APIError, or a temporary error.
func (c *Client) Prepay(ctx context.Context, req payments.PrepayRequest) (payments.Prepay, error) {
	a, ok := c.byChannel[req.Channel]
	if !ok {
		return payments.Prepay{}, fmt.Errorf("wechatpay: channel %q is not configured", req.Channel)
	}
	switch {
	case req.Amount <= 0 || req.Amount > payments.MaxFen:
		return payments.Prepay{}, fmt.Errorf("wechatpay: amount %d fen out of range", req.Amount)
	case req.OutTradeNo == "" || len(req.OutTradeNo) > 32:
		return payments.Prepay{}, errors.New("wechatpay: out_trade_no must be 1 to 32 characters")
	case req.Subject == "":
		return payments.Prepay{}, errors.New("wechatpay: subject (body) is required")
	case req.Channel == payments.WeChatJSAPI && req.OpenID == "":
		return payments.Prepay{}, errors.New("wechatpay: JSAPI needs the payer's openid")
	}
	p := &order.Params{
		TotalFee:   strconv.FormatInt(int64(req.Amount), 10),
		CreateIP:   req.ClientIP,
		Body:       truncateBytes(req.Subject, 128),
		OutTradeNo: req.OutTradeNo,
		Attach:     truncateBytes(req.Attach, 127),
		NotifyURL:  req.NotifyURL,
		SignType:   c.cfg.SignType,
	}
	if p.CreateIP == "" {
		p.CreateIP = "127.0.0.1" // required by WeChat, used only for its risk checks
	}
	if !req.ExpiresAt.IsZero() {
		p.TimeExpire = req.ExpiresAt.In(shanghai).Format("20060102150405")
	}
	o := a.pay.GetOrder()
	if req.Channel == payments.WeChatJSAPI {
		p.TradeType, p.OpenID = "JSAPI", req.OpenID
		cfg, err := call(ctx, c.cfg.Timeout, func() (order.Config, error) { return o.BridgeConfig(p) })
		if err != nil {
			return payments.Prepay{}, prepayError(err)
		}
		return payments.Prepay{Params: map[string]string{
			"appId": a.id, "timeStamp": cfg.Timestamp, "nonceStr": cfg.NonceStr,
			"package": cfg.Package, "signType": cfg.SignType, "paySign": cfg.PaySign,
		}}, nil
	}
	p.TradeType = "APP"
	cfg, err := call(ctx, c.cfg.Timeout, func() (order.ConfigForApp, error) { return o.BridgeAppConfig(p) })
	if err != nil {
		return payments.Prepay{}, prepayError(err)
	}
	return payments.Prepay{Params: map[string]string{
		"appid": cfg.AppID, "partnerid": cfg.MchID, "prepayid": cfg.PrePayID,
		"package": cfg.Package, "noncestr": cfg.NonceStr, "timestamp": cfg.Timestamp, "sign": cfg.Sign,
	}}, nil
}

// prepayError maps unifiedorder's business errors.
func prepayError(err error) error {
	e := sdkAPIError("unifiedorder", err)
	if e == nil {
		return fmt.Errorf("wechatpay unifiedorder: %w", err)
	}
	switch {
	case e.Code == "ORDERPAID":
		return fmt.Errorf("%w: %w", payments.ErrTradePaid, e)
	case e.Code == "ORDERCLOSED":
		return fmt.Errorf("%w: %w", payments.ErrTradeClosed, e)
	case e.Code == "OUT_TRADE_NO_USED", e.Code == "INVALID_REQUEST" && containsAny(e.Message, "201", "订单号重复"):
		return fmt.Errorf("%w: %w", ErrOutTradeNoUsed, e)
	}
	return e
}

// truncateBytes cuts s to at most n bytes without splitting a character.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
