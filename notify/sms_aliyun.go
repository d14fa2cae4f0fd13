package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Aliyun SMS defaults.
const (
	DefaultSMSEndpoint = "https://dysmsapi.aliyuncs.com"
	DefaultSMSRegionID = "cn-hangzhou"
)

// SMS gateway codes callers act on.
const (
	// SMSCodeFlowControl: the phone hit the gateway's per-minute/hour/day limit.
	SMSCodeFlowControl = "isv.BUSINESS_LIMIT_CONTROL"
	// SMSCodeDayLimit: the account's daily sending quota is used up.
	SMSCodeDayLimit = "isv.DAY_LIMIT_CONTROL"
)

// AliyunSMSConfig configures AliyunSMS.
type AliyunSMSConfig struct {
	Endpoint        string // default DefaultSMSEndpoint; the sandbox's URL in the sandbox
	AccessKeyID     string
	AccessKeySecret string
	SignName        string // the approved signature shown as 【SignName】
	RegionID        string // default DefaultSMSRegionID
	HTTPClient      *http.Client
}

// AliyunSMS sends SMS through Aliyun's Dysmsapi SendSms (RPC style,
// Version 2017-05-25, HMAC-SHA1 signature). Safe for concurrent use.
type AliyunSMS struct {
	cfg      AliyunSMSConfig
	endpoint string
	client   *http.Client
	now      func() time.Time
}

// NewAliyunSMS builds the client. Without an HTTPClient it uses one with a
// 10-second timeout (never http.DefaultClient, which has none).
func NewAliyunSMS(cfg AliyunSMSConfig) *AliyunSMS {
	endpoint := strings.TrimRight(cfg.Endpoint, "/")
	if endpoint == "" {
		endpoint = DefaultSMSEndpoint
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	if cfg.RegionID == "" {
		cfg.RegionID = DefaultSMSRegionID
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &AliyunSMS{cfg: cfg, endpoint: endpoint + "/", client: client, now: time.Now}
}

// SMSError is an answer of the gateway other than OK: Code is Aliyun's
// (e.g. "isv.BUSINESS_LIMIT_CONTROL", "SignatureDoesNotMatch").
type SMSError struct {
	Code       string
	Message    string
	RequestID  string
	HTTPStatus int
}

func (e *SMSError) Error() string {
	return fmt.Sprintf("sms gateway: %s: %s (HTTP %d, request %s)", e.Code, e.Message, e.HTTPStatus, e.RequestID)
}

// FlowControlled reports whether the phone (or the account) is over its
// sending limit: try later, and do not count it as an outage.
func (e *SMSError) FlowControlled() bool {
	return e.Code == SMSCodeFlowControl || e.Code == SMSCodeDayLimit
}

// Temporary reports whether the same request may succeed later (the
// gateway is overloaded or failing); other codes need a fix, not a retry.
func (e *SMSError) Temporary() bool {
	return e.HTTPStatus >= 500 || e.Code == "ServiceUnavailable" || e.Code == "InternalError" ||
		strings.HasPrefix(e.Code, "Throttling")
}

// Send sends the template to phone with params (the template's ${var}
// values) and returns the gateway's BizId. Gateway refusals are *SMSError;
// network failures are returned wrapped (errors.Is works on context errors).
func (c *AliyunSMS) Send(ctx context.Context, phone, templateCode string, params map[string]string) (string, error) {
	phone, templateCode = strings.TrimSpace(phone), strings.TrimSpace(templateCode)
	if phone == "" || templateCode == "" {
		return "", errors.New("notify: sms send: phone and template code are required")
	}
	q := map[string]string{
		"Action":           "SendSms",
		"Version":          "2017-05-25",
		"Format":           "JSON",
		"RegionId":         c.cfg.RegionID,
		"AccessKeyId":      c.cfg.AccessKeyID,
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureVersion": "1.0",
		"SignatureNonce":   uuid.NewString(),
		"Timestamp":        c.now().UTC().Format("2006-01-02T15:04:05Z"),
		"PhoneNumbers":     phone,
		"SignName":         c.cfg.SignName,
		"TemplateCode":     templateCode,
	}
	if len(params) > 0 {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // keep <, >, & readable in the SMS text
		if err := enc.Encode(params); err != nil {
			return "", fmt.Errorf("notify: sms template params: %w", err)
		}
		q["TemplateParam"] = strings.TrimSpace(buf.String())
	}
	q["Signature"] = rpcSignature(http.MethodPost, q, c.cfg.AccessKeySecret)

	form := url.Values{}
	for k, v := range q {
		form.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("notify: sms send: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := c.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("notify: sms send: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("notify: sms send: reading answer: %w", err)
	}
	var out struct {
		Code      string `json:"Code"`
		Message   string `json:"Message"`
		RequestID string `json:"RequestId"`
		BizID     string `json:"BizId"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Code == "" {
		// Not the gateway talking (a proxy, a load balancer): no code to act on.
		return "", fmt.Errorf("notify: sms send: HTTP %d without a gateway answer: %.200q", res.StatusCode, body)
	}
	if out.Code != "OK" {
		return "", &SMSError{Code: out.Code, Message: out.Message, RequestID: out.RequestID, HTTPStatus: res.StatusCode}
	}
	return out.BizID, nil
}

// rpcSignature signs params (Signature excluded) the way Aliyun's RPC
// gateways verify them:
//
//	base64(hmac-sha1(secret+"&", method+"&%2F&"+escape(sorted "k=v" joined by "&")))
//
// with keys and values escaped by popEscape. Written independently of the
// sandbox's verifier so that each catches the other's bugs.
func rpcSignature(method string, params map[string]string, secret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var canon strings.Builder
	for i, k := range keys {
		if i > 0 {
			canon.WriteByte('&')
		}
		canon.WriteString(popEscape(k))
		canon.WriteByte('=')
		canon.WriteString(popEscape(params[k]))
	}
	stringToSign := method + "&" + popEscape("/") + "&" + popEscape(canon.String())
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// popEscape percent-encodes every byte except RFC 3986's unreserved
// characters (A-Z a-z 0-9 - _ . ~), with upper-case hex: so space is %20,
// "*" is %2A and "~" stays, as POP requires.
func popEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
