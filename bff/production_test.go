package bff_test

import (
	"os"
	"strings"
	"testing"

	"zwfw/bff"
	"zwfw/platform/testenv"
	"zwfw/sandbox"
)

// documentedVariables are the variables README.md's configuration table lists.
func documentedVariables(t *testing.T) map[string]bool {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(readme), "\n") {
		if name, ok := strings.CutPrefix(line, "| `"); ok {
			if name, _, ok := strings.Cut(name, "`"); ok {
				out[name] = true
			}
		}
	}
	return out
}

// productionEnv is a deployment's environment: ZWFW_SANDBOX=off, the
// outside systems at the standalone sandbox (as cmd/sandbox prints them),
// and zwfw's own settings, on the test MongoDB and Redis.
func productionEnv(t *testing.T, sb *sandbox.Sandbox) map[string]string {
	t.Helper()
	redisURL, _ := testenv.RedisURL(t)
	_, keys := testenv.Redis(t)
	db := testenv.DB(t)
	outside, err := sb.DeploymentEnv(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"MONGODB_URI": testenv.MongoURI(t), "MONGODB_DATABASE": db.Name(),
		"REDIS_URL": redisURL, "ZWFW_REDIS_PREFIX": string(keys),
		"ZWFW_DATA_DIR":   t.TempDir(),
		"ZWFW_JWT_SECRET": strings.Repeat("ab", 32), "ZWFW_SM4_KEY": strings.Repeat("cd", 16),
		"ZWFW_BLIND_INDEX_KEY": strings.Repeat("ef", 32),
		"ZWFW_HALL_MAIL_PHONE": "13959100000",
		"ZWFW_PUBLIC_BASE_URL": "http://127.0.0.1:1", // replaced once the port is known
	}
	for _, s := range outside {
		env[s.Name] = s.Value
	}
	return env
}

// ZWFW_SANDBOX=off starts with exactly the documented variables, every
// client pointed at a sandbox that is not embedded: logins reach it as
// they would reach WeChat.
func TestProductionModeStartsWithTheDocumentedVariables(t *testing.T) {
	sb := sandbox.New(sandbox.Options{Logger: testenv.QuietLogger()})
	if err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close(t.Context()) })
	env := productionEnv(t, sb)
	documented := documentedVariables(t)
	for name := range env {
		if !documented[name] {
			t.Errorf("%s is needed to start but README.md does not document it", name)
		}
	}
	cfg, err := bff.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("production settings refused: %v", err)
	}
	if cfg.Sandbox || cfg.SeedDemo {
		t.Fatalf("sandbox=%v seed=%v with ZWFW_SANDBOX=off", cfg.Sandbox, cfg.SeedDemo)
	}
	s := launch(t, cfg)
	if s.app.Sandbox() != nil {
		t.Fatal("an embedded sandbox started in production mode")
	}
	if !strings.Contains(s.app.Banner(), "Mode         production") {
		t.Fatalf("the banner does not state the mode:\n%s", s.app.Banner())
	}
	me := s.loginWeChat("prod")
	if me.UserID == "" {
		t.Fatal("no user from a WeChat login through the standalone sandbox")
	}
	r := s.request("GET", "/readyz", "", nil)
	if r.Status != 200 {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
}
