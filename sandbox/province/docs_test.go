package province

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

const sandboxDoc = "../../docs/sandbox.md"

// docs/sandbox.md shows the demo data and item codes as they are.
func TestDocsShowTheDemoData(t *testing.T) {
	doc, err := os.ReadFile(sandboxDoc)
	if err != nil {
		t.Fatal("docs not found:", err)
	}
	text := string(doc)
	for _, p := range DemoPeople {
		if !strings.Contains(text, "| "+p.Name+" | `"+p.IDNumber+"`") {
			t.Errorf("docs/sandbox.md lacks %s %s", p.Name, p.IDNumber)
		}
	}
	for _, c := range DemoCompanies {
		if !strings.Contains(text, "`"+c.USCC+"`") {
			t.Errorf("docs/sandbox.md lacks %s %s", c.Name, c.USCC)
		}
	}
	s := New(Options{})
	for _, code := range regexp.MustCompile(`1135[0-9A-Z]{19}`).FindAllString(text, -1) {
		if _, ok := s.Item(code); !ok {
			t.Errorf("docs/sandbox.md names item %s, which does not exist", code)
		}
	}
}

// The doc's pcurl shell function signs requests the gateway accepts.
func TestDocsShellSignerWorks(t *testing.T) {
	doc, err := os.ReadFile(sandboxDoc)
	if err != nil {
		t.Fatal("docs not found:", err)
	}
	fn := regexp.MustCompile(`(?s)pcurl\(\) \{.*?\n\}`).FindString(string(doc))
	if fn == "" {
		t.Fatal("no pcurl function in docs/sandbox.md")
	}
	if err := exec.Command("bash", "-c", "printf x | openssl dgst -sm3 -hmac k && command -v curl").Run(); err != nil {
		t.Skip("bash, curl or OpenSSL with SM3 not available")
	}
	// The shell signs with the wall clock, so this gateway runs on it too.
	s := New(Options{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	script := fn + `
pcurl GET '/api/catalog/items?page_size=5&q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7'; echo
pcurl POST /api/identity/realname/verify '{"name":"张三","id_number":"` + zhangSan.IDNumber + `"}'; echo
`
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "PROVINCE_BASE_URL="+srv.URL+BasePath, "PROVINCE_APP_KEY="+s.AppKey(), "PROVINCE_APP_SECRET="+s.AppSecret())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	lines := strings.Fields(string(out)) // one JSON answer per line, without spaces
	if len(lines) != 2 || !strings.Contains(lines[0], `"code":"0"`) || !strings.Contains(lines[0], "个体工商户设立登记") || !strings.Contains(lines[1], `"match":true`) {
		t.Fatalf("pcurl output:\n%s", out)
	}
}

// The doc's case submission is a valid one.
func TestDocsCaseExampleIsValid(t *testing.T) {
	doc, err := os.ReadFile(sandboxDoc)
	if err != nil {
		t.Fatal("docs not found:", err)
	}
	m := regexp.MustCompile(`(?s)pcurl POST /api/cases '(\{.*?\})'`).FindStringSubmatch(string(doc))
	if m == nil {
		t.Fatal("no case example in docs/sandbox.md")
	}
	e := newEnv(t, Options{})
	e.post("/api/cases", "doc", []byte(m[1])).ok(t)
}
