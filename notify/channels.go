package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/silenceper/wechat/v2/miniprogram/subscribe"
	"github.com/silenceper/wechat/v2/util"

	"zwfw/notify/push"
	"zwfw/wxapi"
)

// WeChatSender sends one mini-program subscribe message. data maps template
// keywords (thing1, time2, ...) to values already fitted to their limits.
// Errors: ErrNoConsent (43101), ErrTemporary (WeChat down or busy); any
// other error is a refusal of this message (bad template, bad data).
type WeChatSender interface {
	Send(ctx context.Context, openID, templateID, page string, data map[string]string) error
}

// PushSender sends one app notification to one installed app. Errors:
// ErrNoDevice (uninstalled; the registration is forgotten), ErrTemporary;
// anything else is a refusal.
type PushSender interface {
	Send(ctx context.Context, registrationID, title, body string, extras map[string]string) error
}

// SMSSender sends one templated SMS. Errors: ErrRateLimited (the phone or
// account is over its limit), ErrTemporary; anything else is a refusal.
type SMSSender interface {
	Send(ctx context.Context, phone, templateCode string, params map[string]string) error
}

// WeChat error codes the adapter acts on.
const (
	wxNoConsent    = 43101 // user refuse to accept the msg
	wxSystemBusy   = -1
	wxTokenInvalid = 40001
	wxTokenExpired = 42001
	wxAPILimit     = 45009
	wxFreqLimit    = 45011
)

// MiniProgramSender sends subscribe messages with the silenceper SDK through
// a wxapi.MiniProgram (and so to the sandbox when it is routed there).
type MiniProgramSender struct {
	MP *wxapi.MiniProgram
	// State is miniprogram_state: "formal" (default), "trial" or "developer".
	State string
}

// NewWeChatSender adapts the mini-program client.
func NewWeChatSender(mp *wxapi.MiniProgram, state string) *MiniProgramSender {
	if state == "" {
		state = "formal"
	}
	return &MiniProgramSender{MP: mp, State: state}
}

// Send posts cgi-bin/message/subscribe/send. The SDK takes no context: the
// call is bounded by the SDK's HTTP client, and is not abandoned midway on
// purpose (abandoning it would leave unknown whether the consent was used).
func (s *MiniProgramSender) Send(_ context.Context, openID, templateID, page string, data map[string]string) error {
	msg := &subscribe.Message{ToUser: openID, TemplateID: templateID, Page: page,
		MiniprogramState: s.State, Lang: "zh_CN", Data: make(map[string]*subscribe.DataItem, len(data))}
	for k, v := range data {
		msg.Data[k] = &subscribe.DataItem{Value: v}
	}
	err := s.MP.SDK().GetSubscribe().Send(msg)
	if err == nil {
		return nil
	}
	var ce *util.CommonError
	if !errors.As(err, &ce) {
		return fmt.Errorf("%w: wechat: %v", ErrTemporary, err) // network, HTTP status, token fetch
	}
	switch ce.ErrCode {
	case wxNoConsent:
		return fmt.Errorf("%w: %v", ErrNoConsent, ce)
	case wxSystemBusy, wxTokenInvalid, wxTokenExpired, wxAPILimit, wxFreqLimit:
		return fmt.Errorf("%w: %v", ErrTemporary, ce)
	default:
		return fmt.Errorf("notify: wechat refused: %w", ce)
	}
}

// JPushSender sends app notifications through the JPush client.
type JPushSender struct{ Client *push.Client }

// NewPushSender adapts the JPush client.
func NewPushSender(c *push.Client) *JPushSender { return &JPushSender{Client: c} }

// Send pushes title/body to the app with registrationID.
func (s *JPushSender) Send(ctx context.Context, registrationID, title, body string, extras map[string]string) error {
	_, err := s.Client.Send(ctx, push.Message{RegistrationID: registrationID, Title: title, Body: body, Extras: extras})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, push.ErrNotInstalled):
		return fmt.Errorf("%w: %v", ErrNoDevice, err)
	case errors.Is(err, push.ErrRateLimited), errors.Is(err, push.ErrTemporary):
		// JPush's limit is the app key's, not the user's: wait and retry.
		return fmt.Errorf("%w: %v", ErrTemporary, err)
	default:
		return fmt.Errorf("notify: push refused: %w", err)
	}
}

// AliyunSMSSender sends reminders through the Aliyun SMS client.
type AliyunSMSSender struct{ Client *AliyunSMS }

// NewSMSSender adapts the SMS client.
func NewSMSSender(c *AliyunSMS) *AliyunSMSSender { return &AliyunSMSSender{Client: c} }

// Send sends the template to phone.
func (s *AliyunSMSSender) Send(ctx context.Context, phone, templateCode string, params map[string]string) error {
	_, err := s.Client.Send(ctx, phone, templateCode, params)
	if err == nil {
		return nil
	}
	var se *SMSError
	switch {
	case errors.As(err, &se) && se.FlowControlled():
		return fmt.Errorf("%w: %v", ErrRateLimited, err)
	case errors.As(err, &se) && se.Temporary():
		return fmt.Errorf("%w: %v", ErrTemporary, err)
	case errors.As(err, &se):
		return fmt.Errorf("notify: sms refused: %w", err)
	default:
		return fmt.Errorf("%w: %v", ErrTemporary, err) // network: the gateway was not reached
	}
}
