// Command sandbox runs the fakes of zwfw's outside systems alone, on one
// HTTP server, with credentials generated at start-up. It prints the
// environment a zwfw process needs to use it as a deployment uses the real
// systems (ZWFW_SANDBOX=off), writes the key material that environment
// names (the WeChat Pay merchant's p12 and the CA of its /secapi/ listener,
// the Alipay keys) into -out, together with zwfw.env (a ZWFW_CONFIG_FILE),
// and stops on SIGINT/SIGTERM. zwfw can also embed the same sandbox
// (ZWFW_SANDBOX=on).
//
//	go run ./cmd/sandbox [-addr 127.0.0.1:8090] [-out DIR] [-sms-flow-control=false]
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

	"zwfw/notify"
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
	outDir := fs.String("out", "", "where to write the key files and zwfw.env (default a private directory under the temp dir)")
	courierStep := fs.Duration("courier-step", 0, "move every parcel one step this often (0: only the controls move them)")
	h5Base := fs.String("h5-base", "http://localhost:5173", "zwfw's ZWFW_H5_BASE_URL: the reminder SMS templates end with links under it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *outDir == "" {
		*outDir = filepath.Join(os.TempDir(), fmt.Sprintf("zwfw-sandbox-%d", os.Getpid()))
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := sandbox.Options{Logger: log, CourierAutoAdvance: *courierStep}
	if !*flowControl {
		opts.SMSFlowControl = &sms.FlowControl{}
	}
	s := sandbox.New(opts)
	if err := s.Start(addr); err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	// The SMS account's approved templates: zwfw's reminders, as a
	// deployment has them approved at Aliyun.
	for _, t := range notify.SMSTemplateSpecs(*h5Base) {
		s.SMSGateway().AddTemplate(sms.Template{Code: t.Code, Name: t.Name, Kind: sms.KindNotification, Content: t.Content})
	}
	env, err := s.DeploymentEnv(*outDir)
	if err != nil {
		_ = s.Close(context.Background())
		return fmt.Errorf("write the deployment's files: %w", err)
	}
	envFile := filepath.Join(*outDir, "zwfw.env")
	if err := os.WriteFile(envFile, []byte(sandbox.EnvFile(env)), 0o600); err != nil {
		_ = s.Close(context.Background())
		return err
	}
	printBanner(stdout, s, env, envFile)

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
func printBanner(w io.Writer, s *sandbox.Sandbox, env []sandbox.Setting, envFile string) {
	url, wx, sm := s.URL(), s.WeChat(), s.SMS()
	fmt.Fprintf(w, "zwfw sandbox: fakes of the outside systems (state in memory, lost on exit)\n")
	fmt.Fprintf(w, "  URL     %s   (index: %s/sandbox/)\n", url, url)
	fmt.Fprintf(w, "  WeChat  appid %s  secret %s\n", wx.AppID, wx.AppSecret)
	fmt.Fprintf(w, "  SMS     access key %s  secret %s  sign name %s  login template %s\n",
		sm.AccessKeyID, sm.AccessKeySecret, sm.SignName, sm.LoginTemplateCode)
	fmt.Fprintf(w, "\n# Environment for a zwfw process using this sandbox (credentials change at every start);\n")
	fmt.Fprintf(w, "# also written to %s (ZWFW_CONFIG_FILE=%s). Add zwfw's own settings:\n", envFile, envFile)
	fmt.Fprintf(w, "# MONGODB_URI and the three keys, ZWFW_PUBLIC_BASE_URL, ZWFW_HALL_MAIL_PHONE.\n")
	for _, kv := range env {
		fmt.Fprintf(w, "export %s=%s\n", kv.Name, shellQuote(kv.Value))
	}
	fmt.Fprintf(w, "\n# Try:\n")
	fmt.Fprintf(w, "#   curl -s -XPOST %s/sandbox/wechat/codes -d '{\"name\":\"zhangsan\"}'   (or log in with code \"test:zhangsan\")\n", url)
	fmt.Fprintf(w, "#   curl -s '%s/sandbox/sms/messages?phone=13800138000'\n", url)
	fmt.Fprintf(w, "#   curl -s -XPOST %s/sandbox/province/callback -d '{\"url\":\"http://127.0.0.1:8080/api/v1/callbacks/province\"}'   (where the province calls zwfw back)\n", url)
}

// shellQuote single-quotes v for a POSIX shell.
func shellQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
