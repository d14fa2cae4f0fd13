package wechatpay

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/silenceper/wechat/v2/pay/refund"
	"github.com/silenceper/wechat/v2/util"

	"zwfw/payments"
)

// Official request URLs; util.HTTPPostContext routes them (wxapi.Route).
const (
	refundQueryURL  = "https://api.mch.weixin.qq.com/pay/refundquery"
	downloadBillURL = "https://api.mch.weixin.qq.com/pay/downloadbill"
	refundPath      = "/secapi/pay/refund"
)

// maxAnswer bounds what is read from WeChat Pay (bills included).
const maxAnswer = 64 << 20

// Refund implements payments.Gateway: /secapi/pay/refund with the
// merchant's certificate.
//
// The SDK's refund.Refund cannot be used: it loads the certificate from a
// file path and trusts only the system roots (util.httpWithTLS), so it
// reaches neither the sandbox nor a private CA. The request is built and
// signed by the SDK (refund.GetSignParam, util.ParamSign) and posted over
// this client's own mutual-TLS client to Config.SecureAPIBase; the answer
// is parsed into the SDK's refund.Response and its signature checked.
// GetSignParam writes sign_type only for MD5, so it is set here for
// HMAC-SHA256 (otherwise the request would be signed as MD5 and say so).
//
// The result is pending: WeChat settles refunds asynchronously. Repeating
// an OutRefundNo returns the same refund. Returns payments.ErrTradeNotFound
// (no bound app id knows the order), payments.ErrRefundRefused (wrapping an
// *APIError: more than refundable, amounts differ from an earlier request
// with the same OutRefundNo, trade too old ...), a temporary *APIError, or
// a temporary error.
func (c *Client) Refund(ctx context.Context, req payments.RefundRequest) (payments.RefundResult, error) {
	if req.OutRefundNo == "" || (req.OutTradeNo == "" && req.TransactionID == "") {
		return payments.RefundResult{}, errors.New("wechatpay: refund needs out_refund_no and out_trade_no or transaction_id")
	}
	if req.Amount <= 0 || req.Amount > req.Total {
		return payments.RefundResult{}, fmt.Errorf("%w: amount %d of total %d", payments.ErrRefundRefused, req.Amount, req.Total)
	}
	notifyURL := req.NotifyURL
	if notifyURL == "" {
		notifyURL = c.cfg.RefundNotifyURL
	}
	for _, a := range c.apps {
		params := a.pay.GetRefund().GetSignParam(&refund.Params{
			TransactionID: req.TransactionID,
			OutTradeNo:    req.OutTradeNo,
			OutRefundNo:   req.OutRefundNo,
			TotalFee:      strconv.FormatInt(int64(req.Total), 10),
			RefundFee:     strconv.FormatInt(int64(req.Amount), 10),
			RefundDesc:    truncateRunes(req.Reason, 80),
			NotifyURL:     notifyURL,
			SignType:      c.cfg.SignType,
		})
		params["sign_type"] = c.cfg.SignType
		sign, err := util.ParamSign(params, c.cfg.Key)
		if err != nil {
			return payments.RefundResult{}, err
		}
		body, err := c.postSecure(ctx, refundPath, encodeRequest(params, sign))
		if err != nil {
			return payments.RefundResult{}, err
		}
		var res refund.Response
		if err := c.checkAnswer("refund", body, &res); err != nil {
			return payments.RefundResult{}, err
		}
		if res.ResultCode != "SUCCESS" {
			e := &APIError{Op: "refund", Code: res.ErrCode, Message: res.ErrCodeDes}
			switch {
			case e.Code == "ORDERNOTEXIST":
				continue
			case e.Temporary():
				return payments.RefundResult{}, e
			}
			return payments.RefundResult{}, fmt.Errorf("%w: %w", payments.ErrRefundRefused, e)
		}
		amount, _ := strconv.ParseInt(res.RefundFee, 10, 64)
		return payments.RefundResult{
			OutTradeNo: res.OutTradeNo, OutRefundNo: res.OutRefundNo, RefundID: res.RefundID,
			Amount: payments.Fen(amount), State: payments.RefundPending,
		}, nil
	}
	return payments.RefundResult{}, fmt.Errorf("%w: %s", payments.ErrTradeNotFound, req.OutTradeNo)
}

// postSecure POSTs a request over mutual TLS to SecureAPIBase + path.
func (c *Client) postSecure(ctx context.Context, path string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.SecureAPIBase+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/xml;charset=utf-8")
	res, err := c.secure.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("wechatpay %s: %w", path, err)
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("wechatpay %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("wechatpay %s: HTTP %d", path, res.StatusCode)
	}
	return answer, nil
}

// post POSTs a signed request with the SDK's HTTP helper, which follows
// the SDK's URI hook (wxapi.Route) like the SDK's own calls.
func (c *Client) post(ctx context.Context, url string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	answer, err := util.HTTPPostContext(ctx, url, body, map[string]string{"Content-Type": "application/xml;charset=utf-8"})
	if err != nil {
		return nil, fmt.Errorf("wechatpay: %w", err)
	}
	return answer, nil
}

// checkAnswer parses an API answer: return_code FAIL is a (temporary)
// error; otherwise the signature must verify (over every field, with the
// merchant key) and the answer is unmarshalled into out.
func (c *Client) checkAnswer(op string, body []byte, out any) error {
	fields, err := parseFields(body)
	if err != nil {
		return fmt.Errorf("wechatpay %s: unreadable answer: %w", op, err)
	}
	if fields["return_code"] != "SUCCESS" {
		return fmt.Errorf("wechatpay %s: return_code %s: %s", op, fields["return_code"], fields["return_msg"])
	}
	if !verifySign(fields, c.cfg.Key, c.cfg.SignType, util.SignTypeMD5, util.SignTypeHMACSHA256) {
		return fmt.Errorf("wechatpay %s: the answer's signature does not verify", op)
	}
	if out != nil {
		if err := xml.Unmarshal(body, out); err != nil {
			return fmt.Errorf("wechatpay %s: %w", op, err)
		}
	}
	return nil
}

// QueryRefund implements payments.Gateway with /pay/refundquery by
// out_refund_no (signed with util.ParamSign, sent by util.HTTPPostContext),
// under each bound app id until one knows the refund. Returns
// payments.ErrRefundNotFound (also when the refund belongs to another
// order), an *APIError, or a temporary error.
func (c *Client) QueryRefund(ctx context.Context, outTradeNo, outRefundNo string) (payments.RefundResult, error) {
	for _, a := range c.apps {
		params := map[string]string{
			"appid": a.id, "mch_id": c.cfg.MchID, "nonce_str": util.RandomStr(32),
			"sign_type": c.cfg.SignType, "out_refund_no": outRefundNo,
		}
		sign, err := util.ParamSign(params, c.cfg.Key)
		if err != nil {
			return payments.RefundResult{}, err
		}
		body, err := c.post(ctx, refundQueryURL, encodeRequest(params, sign))
		if err != nil {
			return payments.RefundResult{}, err
		}
		if err := c.checkAnswer("refundquery", body, nil); err != nil {
			return payments.RefundResult{}, err
		}
		fields, _ := parseFields(body) // parsed fine in checkAnswer
		if fields["result_code"] != "SUCCESS" {
			e := &APIError{Op: "refundquery", Code: fields["err_code"], Message: fields["err_code_des"]}
			if e.Code == "REFUNDNOTEXIST" {
				continue
			}
			return payments.RefundResult{}, e
		}
		return refundOf(fields, outTradeNo, outRefundNo)
	}
	return payments.RefundResult{}, fmt.Errorf("%w: %s", payments.ErrRefundNotFound, outRefundNo)
}

// refundOf finds outRefundNo among a refundquery answer's refunds
// (refund_count, out_refund_no_$n, refund_status_$n, ...).
func refundOf(f map[string]string, outTradeNo, outRefundNo string) (payments.RefundResult, error) {
	if outTradeNo != "" && f["out_trade_no"] != outTradeNo {
		return payments.RefundResult{}, fmt.Errorf("%w: %s belongs to another order", payments.ErrRefundNotFound, outRefundNo)
	}
	count, err := strconv.Atoi(f["refund_count"])
	if err != nil {
		return payments.RefundResult{}, fmt.Errorf("wechatpay refundquery: refund_count %q", f["refund_count"])
	}
	for n := range count {
		i := "_" + strconv.Itoa(n)
		if f["out_refund_no"+i] != outRefundNo {
			continue
		}
		amount, err := strconv.ParseInt(f["refund_fee"+i], 10, 64)
		if err != nil {
			return payments.RefundResult{}, fmt.Errorf("wechatpay refundquery: refund_fee%s %q", i, f["refund_fee"+i])
		}
		r := payments.RefundResult{
			OutTradeNo: f["out_trade_no"], OutRefundNo: outRefundNo, RefundID: f["refund_id"+i],
			Amount: payments.Fen(amount),
		}
		if r.State, err = refundState(f["refund_status"+i]); err != nil {
			return r, err
		}
		if r.State == payments.RefundSuccess {
			if r.SettledAt, err = time.ParseInLocation("2006-01-02 15:04:05", f["refund_success_time"+i], shanghai); err != nil {
				return r, fmt.Errorf("wechatpay refundquery: refund_success_time%s: %w", i, err)
			}
		}
		return r, nil
	}
	return payments.RefundResult{}, fmt.Errorf("%w: %s", payments.ErrRefundNotFound, outRefundNo)
}

// refundState maps WeChat's refund_status.
func refundState(s string) (payments.RefundState, error) {
	switch s {
	case "SUCCESS":
		return payments.RefundSuccess, nil
	case "PROCESSING":
		return payments.RefundPending, nil
	case "CHANGE", "REFUNDCLOSE":
		return payments.RefundFailed, nil
	}
	return "", fmt.Errorf("wechatpay: unknown refund_status %q", s)
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
