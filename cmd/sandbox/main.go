// Command sandbox runs the fakes of zwfw's outside systems (WeChat API, SMS
// gateway) alone, on one HTTP server, with credentials generated at start-up.
// It prints the environment a zwfw process needs to use it, and stops on
// SIGINT/SIGTERM. zwfw can also embed the same sandbox (ZWFW_SANDBOX=on).
//
//	go run ./cmd/sandbox [-addr 127.0.0.1:8090] [-sms-flow-control=false]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"zwfw/sandbox"
	"zwfw/sandbox/sms"
)

// defaultAddr is where zwfw's README expects the sandbox.
const defaultAddr = "127.0.0.1:8090"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := defaultAddr
	if v := getenv("SANDBOX_ADDR"); v != "" {
		addr = v
	}
	fs.StringVar(&addr, "addr", addr, "listen address (env SANDBOX_ADDR); port 0 picks a free port")
	flowControl := fs.Bool("sms-flow-control", true, "apply Aliyun's per-phone SMS limits (1/minute, 5/hour, 10/day)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := sandbox.Options{Logger: log}
	if !*flowControl {
		opts.SMSFlowControl = &sms.FlowControl{}
	}
	s := sandbox.New(opts)
	if err := s.Start(addr); err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	printBanner(stdout, s)

	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(sctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// printBanner shows where the sandbox is, its (fake, freshly generated)
// credentials and the environment for zwfw.
func printBanner(w io.Writer, s *sandbox.Sandbox) {
	url, wx, sm := s.URL(), s.WeChat(), s.SMS()
	fmt.Fprintf(w, "zwfw sandbox: fakes of the outside systems (state in memory, lost on exit)\n")
	fmt.Fprintf(w, "  URL     %s   (index: %s/sandbox/)\n", url, url)
	fmt.Fprintf(w, "  WeChat  appid %s  secret %s\n", wx.AppID, wx.AppSecret)
	fmt.Fprintf(w, "  SMS     access key %s  secret %s  sign name %s  login template %s\n",
		sm.AccessKeyID, sm.AccessKeySecret, sm.SignName, sm.LoginTemplateCode)
	fmt.Fprintf(w, "\n# Environment for a zwfw process using this sandbox (credentials change at every start):\n")
	for _, kv := range [][2]string{
		{"ZWFW_SANDBOX", "off"}, // this sandbox replaces the embedded one
		{"WECHAT_API_BASE", url},
		{"WECHAT_MINIPROGRAM_APPID", wx.AppID},
		{"WECHAT_MINIPROGRAM_SECRET", wx.AppSecret},
		{"SMS_ENDPOINT", url},
		{"SMS_ACCESS_KEY_ID", sm.AccessKeyID},
		{"SMS_ACCESS_KEY_SECRET", sm.AccessKeySecret},
		{"SMS_SIGN_NAME", sm.SignName},
		{"SMS_TEMPLATE_LOGIN", sm.LoginTemplateCode},
		{"PROVINCE_BASE_URL", s.Province().BaseURL},
		{"PROVINCE_APP_KEY", s.Province().AppKey},
		{"PROVINCE_APP_SECRET", s.Province().AppSecret},
		{"NONTAX_BASE_URL", s.NonTax().BaseURL},
		{"NONTAX_APP_KEY", s.NonTax().AppKey},
		{"NONTAX_APP_SECRET", s.NonTax().AppSecret},
		{"WECHATPAY_API_BASE", url},
		{"WECHATPAY_SECURE_API_BASE", s.WeChatPay().SecureBaseURL},
		{"WECHATPAY_MCH_ID", s.WeChatPay().MchID},
		{"WECHATPAY_API_KEY", s.WeChatPay().APIKey},
		{"WECHATPAY_APP_APPID", s.WeChatPay().AppAppID},
		{"WECHATPAY_CERT_P12_FILE", secretFile("apiclient_cert.p12", s.WeChatPay().CertP12)},
		{"JPUSH_BASE_URL", s.Push().BaseURL},
		{"JPUSH_APP_KEY", s.Push().AppKey},
		{"JPUSH_MASTER_SECRET", s.Push().MasterSecret},
		{"COURIER_BASE_URL", s.Courier().BaseURL},
		{"KUAIDI100_CUSTOMER", s.Courier().Customer},
		{"KUAIDI100_KEY", s.Courier().Key},
		{"KUAIDI100_SECRET", s.Courier().Secret},
		{"ALIPAY_APP_ID", s.Alipay().AppID},
		{"ALIPAY_GATEWAY", s.Alipay().GatewayURL},
		{"ALIPAY_APP_PRIVATE_KEY_FILE", secretFile("alipay_app_private_key.pem", []byte(s.Alipay().AppPrivateKeyPEM))},
		{"ALIPAY_PUBLIC_KEY_FILE", secretFile("alipay_public_key.pem", []byte(s.Alipay().AlipayPublicKeyPEM))},
	} {
		fmt.Fprintf(w, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	fmt.Fprintf(w, "\n# Try:\n")
	fmt.Fprintf(w, "#   curl -s -XPOST %s/sandbox/wechat/codes -d '{\"name\":\"zhangsan\"}'   (or log in with code \"test:zhangsan\")\n", url)
	fmt.Fprintf(w, "#   curl -s '%s/sandbox/sms/messages?phone=13800138000'\n", url)
}

// secretFile writes key material the sandbox generated to a private temp
// file (zwfw reads certificates and keys from files) and returns its path.
// The /secapi/ listener's CA is not trusted by a separate zwfw process, so
// refunds work only with the embedded sandbox.
func secretFile(name string, b []byte) string {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("zwfw-sandbox-%d", os.Getpid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return ""
	}
	return path
}

// shellQuote single-quotes v for a POSIX shell.
func shellQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
