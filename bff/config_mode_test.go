package bff

import (
	"strings"
	"testing"
)

// prodKeys are the keys every replica sharing a real MongoDB must share.
var prodKeys = map[string]string{
	"ZWFW_JWT_SECRET": strings.Repeat("ab", 32), "ZWFW_SM4_KEY": strings.Repeat("cd", 16),
	"ZWFW_BLIND_INDEX_KEY": strings.Repeat("ef", 32),
}

func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// The sandbox and the demo data run only when asked for: the embedded
// default asks; a real MongoDB does not.
func TestConfigSandboxOnlyOnPurpose(t *testing.T) {
	cases := []struct {
		name          string
		env           map[string]string
		sandbox, seed bool
	}{
		{"embedded default", nil, true, true},
		{"embedded default with real wechat credentials", map[string]string{"WECHAT_MINIPROGRAM_APPID": "wx1"}, true, true},
		{"embedded, sandbox off by choice", map[string]string{"ZWFW_SANDBOX": "off"}, false, false},
		{"real mongodb, sandbox asked for", with(prodKeys, "MONGODB_URI", "mongodb://db/", "ZWFW_SANDBOX", "on"), true, false},
		{"real mongodb, sandbox and demo data asked for", with(prodKeys, "MONGODB_URI", "mongodb://db/", "ZWFW_SANDBOX", "on", "ZWFW_SEED_DEMO", "on"), true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := with(c.env)
			if !c.sandbox {
				env = with(fullProductionEnv(), "ZWFW_SANDBOX", env["ZWFW_SANDBOX"])
			}
			cfg, err := LoadConfig(envOf(env))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Sandbox != c.sandbox || cfg.SeedDemo != c.seed {
				t.Fatalf("sandbox=%v seed=%v, want %v %v", cfg.Sandbox, cfg.SeedDemo, c.sandbox, c.seed)
			}
		})
	}
}

// With MONGODB_URI and no ZWFW_SANDBOX, zwfw is in production mode: it
// refuses to start without the real endpoints and names every one missing.
func TestConfigRealMongoWithoutSandboxNeedsTheRealEndpoints(t *testing.T) {
	_, err := LoadConfig(envOf(with(prodKeys, "MONGODB_URI", "mongodb://db/")))
	if err == nil {
		t.Fatal("started in production mode without the outside systems' settings")
	}
	for _, s := range settings {
		if s.need == needSandboxOff && !strings.Contains(err.Error(), s.name) {
			t.Errorf("the error does not name %s: %v", s.name, err)
		}
	}
	cfg, err := LoadConfig(envOf(fullProductionEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sandbox || cfg.SeedDemo {
		t.Fatalf("production settings: sandbox=%v seed=%v", cfg.Sandbox, cfg.SeedDemo)
	}
}

// The push gateway's settings are read (the README documented them; the
// parser once did not).
func TestConfigReadsThePushGateway(t *testing.T) {
	cfg, err := LoadConfig(envOf(fullProductionEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PushBaseURL != "https://push.example" || cfg.PushAppKey != "JPUSH_APP_KEY-value" || cfg.PushMasterSecret != "JPUSH_MASTER_SECRET-value" {
		t.Fatalf("push settings: %q %q %q", cfg.PushBaseURL, cfg.PushAppKey, cfg.PushMasterSecret)
	}
}

// fullProductionEnv sets every variable production requires (to made-up values).
func fullProductionEnv() map[string]string {
	env := with(prodKeys, "MONGODB_URI", "mongodb://db/", "JPUSH_BASE_URL", "https://push.example")
	for _, s := range settings {
		if s.need == needSandboxOff {
			env[s.name] = s.name + "-value"
		}
	}
	return env
}
