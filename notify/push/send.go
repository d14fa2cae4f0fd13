package push

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The push object, as JPush's Push API v3 reads it.
type pushObject struct {
	Platform     string       `json:"platform"`
	Audience     audience     `json:"audience"`
	Notification notification `json:"notification"`
	Options      options      `json:"options"`
}

type audience struct {
	RegistrationID []string `json:"registration_id"`
}

type notification struct {
	Alert   string              `json:"alert"`
	Android androidNotification `json:"android"`
	IOS     iosNotification     `json:"ios"`
}

type androidNotification struct {
	Alert  string            `json:"alert"`
	Title  string            `json:"title,omitempty"`
	Extras map[string]string `json:"extras,omitempty"`
}

type iosNotification struct {
	// Alert is the body alone, or APNs's {"title", "body"} when there is a
	// title: iOS has no separate title field as Android does.
	Alert  any               `json:"alert"`
	Sound  string            `json:"sound"`
	Badge  string            `json:"badge"`
	Extras map[string]string `json:"extras,omitempty"`
}

type iosAlert struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

type options struct {
	SendNo         int64 `json:"sendno"`
	TimeToLive     int64 `json:"time_to_live"`
	APNsProduction bool  `json:"apns_production"`
}

// Send pushes m to the app with m.RegistrationID and returns JPush's msg_id.
//
// Errors (test with errors.Is):
//   - ErrInvalidMessage: no registration id or body (nothing was sent), or
//     the gateway refused the content;
//   - ErrNotInstalled: the app is no longer installed there; do not retry;
//   - ErrRateLimited: retry after RetryAfter(err);
//   - ErrTemporary: 5xx, network failure or timeout; retry with backoff
//     (errors.Is also sees context.Canceled / DeadlineExceeded);
//   - ErrAuth: the app key or master secret is wrong.
//
// Gateway answers are *Error.
func (c *Client) Send(ctx context.Context, m Message) (string, error) {
	m.RegistrationID = strings.TrimSpace(m.RegistrationID)
	if m.RegistrationID == "" || strings.TrimSpace(m.Body) == "" {
		return "", fmt.Errorf("%w: registration id and body are required", ErrInvalidMessage)
	}
	if !utf8.ValidString(m.Title + m.Body) {
		return "", fmt.Errorf("%w: title and body must be UTF-8", ErrInvalidMessage)
	}
	body, err := c.pushBody(m)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("push: send: %w", err)
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("%w: reading the answer: %w", ErrTemporary, err)
	}
	return parseAnswer(res, raw)
}

// pushBody encodes m as a push object with the next sendno.
func (c *Client) pushBody(m Message) ([]byte, error) {
	var iosAlertValue any = m.Body
	if m.Title != "" {
		iosAlertValue = iosAlert{Title: m.Title, Body: m.Body}
	}
	obj := pushObject{
		Platform: "all",
		Audience: audience{RegistrationID: []string{m.RegistrationID}},
		Notification: notification{
			Alert:   m.Body,
			Android: androidNotification{Alert: m.Body, Title: m.Title, Extras: m.Extras},
			IOS:     iosNotification{Alert: iosAlertValue, Sound: "default", Badge: "+1", Extras: m.Extras},
		},
		Options: options{SendNo: c.sendNo.Add(1), TimeToLive: c.ttl, APNsProduction: c.production},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <, >, & as the citizen should read them
	if err := enc.Encode(obj); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// parseAnswer turns the gateway's answer into a msg_id or an *Error.
func parseAnswer(res *http.Response, raw []byte) (string, error) {
	var out struct {
		SendNo string `json:"sendno"`
		MsgID  string `json:"msg_id"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	jsonErr := json.Unmarshal(raw, &out)
	if res.StatusCode/100 == 2 && jsonErr == nil && out.Error == nil && out.MsgID != "" {
		return out.MsgID, nil
	}
	e := &Error{HTTPStatus: res.StatusCode, MsgID: out.MsgID, RetryAfter: retryAfter(res.Header)}
	switch {
	case jsonErr == nil && out.Error != nil:
		e.Code, e.Message = out.Error.Code, out.Error.Message
	case res.StatusCode/100 == 2:
		// 2xx without a msg_id: not JPush talking. Whether it sent is
		// unknown, so this is neither temporary nor a refusal.
		e.Message = fmt.Sprintf("no msg_id in the answer: %.200q", raw)
	default:
		e.Message = fmt.Sprintf("%.200q", raw) // a proxy's or load balancer's page
	}
	return "", e
}

// retryAfter reads how long the gateway wants the client to wait: JPush's
// X-Rate-Limit-Reset (seconds until the window resets), else Retry-After
// (seconds). Only meaningful on a rate-limited answer.
func retryAfter(h http.Header) time.Duration {
	if h.Get("X-Rate-Limit-Remaining") != "0" && h.Get("Retry-After") == "" {
		return 0 // the window is not used up: whatever failed, it was not the limit
	}
	for _, name := range []string{"X-Rate-Limit-Reset", "Retry-After"} {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Get(name))); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return 0
}
