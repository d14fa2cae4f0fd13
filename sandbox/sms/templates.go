package sms

import (
	"regexp"
	"strings"
)

// Kind is an Aliyun template type; it decides the variable rules.
type Kind string

// Template kinds.
const (
	KindVerification Kind = "verification" // 验证码: variables up to 6 characters
	KindNotification Kind = "notification" // 短信通知: variables up to 35 characters
)

// Variable length limits per template kind (Aliyun's 变量规范, simplified).
const (
	maxVerificationParam = 6
	maxNotificationParam = 35
)

// Template is an approved SMS template of the account.
type Template struct {
	Code    string `json:"code"` // e.g. SMS_465900001
	Name    string `json:"name"`
	Kind    Kind   `json:"kind"`
	Content string `json:"content"` // with ${var} placeholders
}

// The sandbox account's built-in templates. Codes are fixed (they are not
// secrets) so that a configuration written once keeps working.
const (
	// LoginTemplateCode is the login verification-code template; its one variable is "code".
	LoginTemplateCode = "SMS_465900001"
	// DefaultSignName is the account's approved signature.
	DefaultSignName = "政务服务"
)

// DefaultTemplates are the templates the sandbox account starts with.
// Reminder templates are added with Options.Templates or AddTemplate.
func DefaultTemplates() []Template {
	return []Template{{
		Code:    LoginTemplateCode,
		Name:    "登录验证码",
		Kind:    KindVerification,
		Content: "您的验证码为：${code}，5分钟内有效，请勿泄露于他人。",
	}}
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// Params returns the template's variable names in order of first use.
func (t Template) Params() []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(t.Content, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// Render returns the text the phone shows: 【signName】 and the content with
// its variables filled in.
func (t Template) Render(signName string, params map[string]string) string {
	body := placeholder.ReplaceAllStringFunc(t.Content, func(m string) string {
		return params[strings.TrimSuffix(strings.TrimPrefix(m, "${"), "}")]
	})
	return "【" + signName + "】" + body
}

func (t Template) maxParamLen() int {
	if t.Kind == KindVerification {
		return maxVerificationParam
	}
	return maxNotificationParam
}
