package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Setting is one environment variable of a zwfw deployment.
type Setting struct {
	Name, Value string
}

// DeploymentEnv is what a zwfw in another process needs to use this
// sandbox the way a deployment uses the real systems: ZWFW_SANDBOX=off and
// every outside system's endpoint and credentials. Key material (the
// merchant's PKCS#12, the CA of the WeChat Pay /secapi/ listener, the
// Alipay keys) is written to files in dir, readable by the owner only, and
// named by the *_FILE variables. zwfw's own settings (MONGODB_URI, keys,
// ZWFW_PUBLIC_BASE_URL, ZWFW_HALL_MAIL_PHONE) are the deployment's to add.
// Call after Start.
func (s *Sandbox) DeploymentEnv(dir string) ([]Setting, error) {
	url := s.URL()
	if url == "" {
		return nil, fmt.Errorf("sandbox: DeploymentEnv before Start")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	file := func(name string, b []byte) (string, error) {
		path := filepath.Join(dir, name)
		return path, os.WriteFile(path, b, 0o600)
	}
	wx, sm, pv, nt, wp, pu, cr, ap := s.WeChat(), s.SMS(), s.Province(), s.NonTax(), s.WeChatPay(), s.Push(), s.Courier(), s.Alipay()
	files := map[string][]byte{
		"WECHATPAY_CERT_P12_FILE":     wp.CertP12,
		"WECHATPAY_ROOT_CA_FILE":      s.wxpay.RootCAPEM(),
		"ALIPAY_APP_PRIVATE_KEY_FILE": []byte(ap.AppPrivateKeyPEM),
		"ALIPAY_PUBLIC_KEY_FILE":      []byte(ap.AlipayPublicKeyPEM),
	}
	names := map[string]string{
		"WECHATPAY_CERT_P12_FILE": "apiclient_cert.p12", "WECHATPAY_ROOT_CA_FILE": "wechatpay_root_ca.pem",
		"ALIPAY_APP_PRIVATE_KEY_FILE": "alipay_app_private_key.pem", "ALIPAY_PUBLIC_KEY_FILE": "alipay_public_key.pem",
	}
	paths := map[string]string{}
	for k, b := range files {
		p, err := file(names[k], b)
		if err != nil {
			return nil, err
		}
		paths[k] = p
	}
	return []Setting{
		{"ZWFW_SANDBOX", "off"}, // this sandbox stands in for the real systems
		{"WECHAT_API_BASE", url},
		{"WECHAT_MINIPROGRAM_APPID", wx.AppID},
		{"WECHAT_MINIPROGRAM_SECRET", wx.AppSecret},
		{"SMS_ENDPOINT", url},
		{"SMS_ACCESS_KEY_ID", sm.AccessKeyID},
		{"SMS_ACCESS_KEY_SECRET", sm.AccessKeySecret},
		{"SMS_SIGN_NAME", sm.SignName},
		{"SMS_TEMPLATE_LOGIN", sm.LoginTemplateCode},
		{"PROVINCE_BASE_URL", pv.BaseURL},
		{"PROVINCE_APP_KEY", pv.AppKey},
		{"PROVINCE_APP_SECRET", pv.AppSecret},
		{"NONTAX_BASE_URL", nt.BaseURL},
		{"NONTAX_APP_KEY", nt.AppKey},
		{"NONTAX_APP_SECRET", nt.AppSecret},
		{"WECHATPAY_API_BASE", url},
		{"WECHATPAY_SECURE_API_BASE", wp.SecureBaseURL},
		{"WECHATPAY_MCH_ID", wp.MchID},
		{"WECHATPAY_API_KEY", wp.APIKey},
		{"WECHATPAY_APP_APPID", wp.AppAppID},
		{"WECHATPAY_CERT_P12_FILE", paths["WECHATPAY_CERT_P12_FILE"]},
		{"WECHATPAY_ROOT_CA_FILE", paths["WECHATPAY_ROOT_CA_FILE"]},
		{"JPUSH_BASE_URL", pu.BaseURL},
		{"JPUSH_APP_KEY", pu.AppKey},
		{"JPUSH_MASTER_SECRET", pu.MasterSecret},
		{"COURIER_BASE_URL", cr.BaseURL},
		{"KUAIDI100_CUSTOMER", cr.Customer},
		{"KUAIDI100_KEY", cr.Key},
		{"KUAIDI100_SECRET", cr.Secret},
		{"ALIPAY_APP_ID", ap.AppID},
		{"ALIPAY_GATEWAY", ap.GatewayURL},
		{"ALIPAY_APP_PRIVATE_KEY_FILE", paths["ALIPAY_APP_PRIVATE_KEY_FILE"]},
		{"ALIPAY_PUBLIC_KEY_FILE", paths["ALIPAY_PUBLIC_KEY_FILE"]},
	}, nil
}

// EnvFile renders settings as a KEY=VALUE file (zwfw's ZWFW_CONFIG_FILE
// format; values are single-line).
func EnvFile(settings []Setting) string {
	var b strings.Builder
	b.WriteString("# zwfw settings for the standalone sandbox (credentials change at every start)\n")
	for _, s := range settings {
		fmt.Fprintf(&b, "%s=%s\n", s.Name, s.Value)
	}
	return b.String()
}
