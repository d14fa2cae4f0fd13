package wechatpay

import (
	"bytes"
	"crypto/aes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"time"

	"zwfw/sandbox/fake"
)

// NotifyMode says what happens to a notify.
type NotifyMode string

// Notify modes.
const (
	NotifySend  NotifyMode = "send"  // deliver, retrying until zwfw answers SUCCESS
	NotifyDrop  NotifyMode = "drop"  // lose it (zwfw must find out by querying)
	NotifyTwice NotifyMode = "twice" // deliver two copies independently (a duplicate)
)

// valid reports whether m is one of the modes ("" is not).
func (m NotifyMode) valid() bool { return m == NotifySend || m == NotifyDrop || m == NotifyTwice }

// Notify kinds.
const (
	KindPaid   = "paid"
	KindRefund = "refund"
)

// Notify is one notify the fake sent (or dropped), for the controls.
type Notify struct {
	ID          int        `json:"id"`
	Kind        string     `json:"kind"` // "paid" or "refund"
	OutTradeNo  string     `json:"out_trade_no"`
	OutRefundNo string     `json:"out_refund_no,omitempty"`
	URL         string     `json:"url"`
	Mode        NotifyMode `json:"mode"`
	Body        string     `json:"body"` // the XML as sent
	Created     time.Time  `json:"created"`
	Attempts    int        `json:"attempts"`
	LastStatus  int        `json:"last_status,omitempty"`
	LastAnswer  string     `json:"last_answer,omitempty"` // zwfw's reply body (truncated)
	LastError   string     `json:"last_error,omitempty"`
	Delivered   bool       `json:"delivered"` // zwfw answered return_code SUCCESS
	Dropped     bool       `json:"dropped,omitempty"`
	GaveUp      bool       `json:"gave_up,omitempty"`
}

// pendingNotify is a notify to deliver once the lock is released.
type pendingNotify struct {
	n    *Notify
	url  string
	body []byte
}

// queueNotify records a notify (two for NotifyTwice) and returns the
// deliveries to start. Callers hold s.mu.
func (s *Server) queueNotify(kind, outTradeNo, outRefundNo, target string, body []byte, mode NotifyMode, now time.Time) []pendingNotify {
	copies := 1
	if mode == NotifyTwice {
		copies = 2
	}
	var out []pendingNotify
	for range copies {
		n := &Notify{
			ID: len(s.notifies) + 1, Kind: kind, OutTradeNo: outTradeNo, OutRefundNo: outRefundNo,
			URL: target, Mode: mode, Body: string(body), Created: now, Dropped: mode == NotifyDrop,
		}
		s.notifies = append(s.notifies, n)
		if !n.Dropped {
			out = append(out, pendingNotify{n, target, body})
		}
	}
	return out
}

// deliverAll starts the deliveries (unless the fake is closed).
func (s *Server) deliverAll(sends []pendingNotify) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for _, p := range sends {
		s.wg.Add(1)
		go s.deliver(p)
	}
}

// deliver POSTs a notify, retrying after each of s.retryDelays until zwfw
// answers return_code SUCCESS, as WeChat Pay does (on its slower schedule).
func (s *Server) deliver(p pendingNotify) {
	defer s.wg.Done()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > len(s.retryDelays) {
				s.mu.Lock()
				p.n.GaveUp = true
				s.mu.Unlock()
				s.log.Warn("wechatpay notify given up", "id", p.n.ID, "url", p.url)
				return
			}
			t := time.NewTimer(s.retryDelays[attempt-1])
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return
			}
		}
		status, answer, err := s.post(p.url, p.body)
		ok := err == nil && status == http.StatusOK && acknowledged(answer)
		s.mu.Lock()
		p.n.Attempts++
		p.n.LastStatus, p.n.LastAnswer, p.n.LastError = status, truncate(string(answer), 512), ""
		if err != nil {
			p.n.LastError = err.Error()
		}
		p.n.Delivered = ok
		s.mu.Unlock()
		if ok {
			return
		}
		s.log.Warn("wechatpay notify not acknowledged", "id", p.n.ID, "attempt", attempt+1, "status", status, "err", err)
	}
}

// post makes one delivery attempt.
func (s *Server) post(target string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "text/xml")
	res, err := s.httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, answer, err
}

// acknowledged: the merchant answered <return_code>SUCCESS</return_code>.
func acknowledged(answer []byte) bool {
	msg, err := ParseMessage(answer)
	return err == nil && msg.Get("return_code") == "SUCCESS"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// paidNotify is the signed paid notify of an order, with WeChat's field
// set. It is signed with the order's sign type; an HMAC-SHA256 notify says
// so in sign_type (absent = MD5), as verifiers expect.
func (s *Server) paidNotify(o *order) []byte {
	msg := Message{
		{"return_code", "SUCCESS"},
		{"return_msg", "OK"},
		{"appid", o.AppID},
		{"mch_id", s.mchID},
		{"nonce_str", fake.RandomString(fake.Alphanumeric, 32)},
		{"result_code", "SUCCESS"},
	}
	if o.SignType == SignHMACSHA256 {
		msg = append(msg, Field{"sign_type", SignHMACSHA256})
	}
	msg = append(msg, paidFields(o)...)
	msg = append(msg, Field{"sign", Sign(msg.Map(), s.apiKey, o.SignType)})
	return msg.Encode()
}

// refundNotify is a refund's notify: not signed; the refund's details are
// in req_info, AES-256-ECB (PKCS#7) encrypted with the lower-case hex
// md5 of the API key, base64-encoded.
func (s *Server) refundNotify(r *refund) []byte {
	o := r.order
	info := Message{
		{"out_refund_no", r.OutRefundNo},
		{"out_trade_no", o.OutTradeNo},
		{"refund_account", "REFUND_SOURCE_UNSETTLED_FUNDS"},
		{"refund_fee", strconv.FormatInt(r.RefundFee, 10)},
		{"refund_id", r.RefundID},
		{"refund_recv_accout", "支付用户的零钱"},
		{"refund_request_source", "API"},
		{"refund_status", r.Status},
		{"settlement_refund_fee", strconv.FormatInt(r.RefundFee, 10)},
		{"settlement_total_fee", strconv.FormatInt(o.PaidFee, 10)},
		{"success_time", r.SuccessAt.In(shanghai).Format(refundTimeLayout)},
		{"total_fee", strconv.FormatInt(o.PaidFee, 10)},
		{"transaction_id", o.TransactionID},
	}
	// WeChat's plaintext root is <root>, not <xml>.
	plain := bytes.Replace(info.Encode(), []byte("<xml>"), []byte("<root>"), 1)
	plain = bytes.Replace(plain, []byte("</xml>"), []byte("</root>"), 1)
	return Message{
		{"return_code", "SUCCESS"},
		{"appid", o.AppID},
		{"mch_id", s.mchID},
		{"nonce_str", fake.RandomString(fake.Alphanumeric, 32)},
		{"req_info", EncryptReqInfo(plain, s.apiKey)},
	}.Encode()
}

// EncryptReqInfo encrypts a refund notify's req_info as WeChat Pay does:
// AES-256-ECB with PKCS#7 padding under the lower-case hex md5 of the API
// key (32 ASCII bytes), base64 (standard) encoded.
func EncryptReqInfo(plain []byte, apiKey string) string {
	sum := md5.Sum([]byte(apiKey))
	block, err := aes.NewCipher([]byte(hex.EncodeToString(sum[:])))
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	for i := 0; i < len(buf); i += aes.BlockSize {
		block.Encrypt(buf[i:i+aes.BlockSize], buf[i:i+aes.BlockSize])
	}
	return base64.StdEncoding.EncodeToString(buf)
}
