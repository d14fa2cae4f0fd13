package bff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaultsAreTheEmbeddedDefault(t *testing.T) {
	c, err := LoadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || !c.EmbeddedMongo() || !c.EmbeddedRedis() || !c.Sandbox || !c.SeedDemo {
		t.Fatalf("defaults: %+v", c)
	}
	if c.ShutdownTimeout != 20*time.Second || c.JSONBodyLimit != 1<<20 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigFileAndEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zwfw.env")
	body := "# comment\nZWFW_ADDR=0.0.0.0:9000\nZWFW_LOG_LEVEL = debug\nZWFW_SHUTDOWN_TIMEOUT=\"5s\"\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(envOf(map[string]string{"ZWFW_CONFIG_FILE": path, "ZWFW_LOG_LEVEL": "warn"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9000" || c.LogLevel != "warn" || c.ShutdownTimeout != 5*time.Second {
		t.Fatalf("file + env: %+v", c)
	}
}

func TestConfigRefusesUnsafeProductionSettings(t *testing.T) {
	cases := map[string]map[string]string{
		"real mongodb without keys":  {"MONGODB_URI": "mongodb://db/"},
		"sandbox off without wechat": {"ZWFW_SANDBOX": "off"},
		"bad number":                 {"ZWFW_RATE_PER_IP": "many"},
		"bad switch":                 {"ZWFW_SANDBOX": "maybe"},
		"bad duration":               {"ZWFW_SHUTDOWN_TIMEOUT": "soon"},
	}
	for name, env := range cases {
		if _, err := LoadConfig(envOf(env)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err := LoadConfig(envOf(map[string]string{"ZWFW_SANDBOX": "off"}))
	if err == nil || !strings.Contains(err.Error(), "WECHAT_MINIPROGRAM_APPID") {
		t.Fatalf("error does not name the missing variable: %v", err)
	}
}

func TestSecretsAreGeneratedOnceForTheEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir}
	a, created, err := loadSecrets(cfg)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	b, created, err := loadSecrets(cfg)
	if err != nil || created {
		t.Fatalf("second load: created=%v err=%v", created, err)
	}
	if string(a.JWT) != string(b.JWT) || string(a.SM4) != string(b.SM4) || len(a.SM4) != 16 {
		t.Fatal("keys changed across restarts")
	}
	st, err := os.Stat(filepath.Join(dir, "secrets.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secrets.json mode: %v %v", st.Mode(), err)
	}
	if _, _, err := loadSecrets(Config{MongoURI: "mongodb://x/", SM4Key: "zz"}); err == nil {
		t.Fatal("bad hex key accepted")
	}
}

func TestRedactURI(t *testing.T) {
	if got := redactURI("redis://user:secret@h:6379/0"); strings.Contains(got, "secret") {
		t.Fatal(got)
	}
	if got := redactURI("mongodb://h1,h2/?replicaSet=rs0"); got != "mongodb://h1,h2/?replicaSet=rs0" {
		t.Fatal(got)
	}
}
