package courier

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

const sandboxDoc = "../../docs/sandbox.md"

// courierSection is the doc's courier section.
func courierSection(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(sandboxDoc)
	if err != nil {
		t.Fatal("docs not found:", err)
	}
	text := string(doc)
	i := strings.Index(text, "## Courier")
	if i < 0 {
		t.Fatal("docs/sandbox.md has no courier section")
	}
	text = text[i:]
	if j := strings.Index(text[3:], "\n## "); j >= 0 {
		text = text[:j+3]
	}
	return text
}

// Every control the fake describes is documented.
func TestDocsListTheControls(t *testing.T) {
	text := courierSection(t)
	for _, c := range New(Options{TickEvery: -1}).Describe().Controls {
		path := strings.SplitN(c.Path, "?", 2)[0]
		if !strings.Contains(text, "`"+c.Method+" "+path) {
			t.Errorf("docs/sandbox.md lacks %s %s", c.Method, path)
		}
	}
}

// The doc's shell signers make requests the fake accepts, and its
// example order is a valid one.
func TestDocsShellSignersWork(t *testing.T) {
	text := courierSection(t)
	korder := regexp.MustCompile(`(?s)korder\(\) \{.*?\n\}`).FindString(text)
	kquery := regexp.MustCompile(`(?s)kquery\(\) \{.*?\n\}`).FindString(text)
	example := regexp.MustCompile(`korder bOrder '(\{.*?\})'`).FindStringSubmatch(text)
	if korder == "" || kquery == "" || example == nil {
		t.Fatal("docs/sandbox.md lacks korder, kquery or the bOrder example")
	}
	if err := exec.Command("bash", "-c", "command -v curl && command -v md5sum").Run(); err != nil {
		t.Skip("bash, curl or md5sum not available")
	}
	// The shell signs with the wall clock, so this fake runs on it too.
	s := New(Options{TickEvery: -1})
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	script := korder + "\n" + kquery + "\nkorder bOrder '" + example[1] + "'; echo\n"
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "COURIER_BASE_URL="+srv.URL+BasePath, "KUAIDI100_CUSTOMER="+s.Customer(),
		"KUAIDI100_KEY="+s.Key(), "KUAIDI100_SECRET="+s.Secret())
	out, err := cmd.CombinedOutput()
	var r reply
	if err != nil || json.Unmarshal(out, &r) != nil || !r.Result {
		t.Fatalf("korder: %v %s", err, out)
	}
	orders := s.Orders()
	if len(orders) != 1 {
		t.Fatalf("%d orders", len(orders))
	}
	num := orders[0].Kuaidinum
	if _, err := s.Advance(num, 1); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("bash", "-c", kquery+"\nkquery '{\"com\":\"ems\",\"num\":\""+num+"\"}'")
	cmd.Env = append(os.Environ(), "COURIER_BASE_URL="+srv.URL+BasePath, "KUAIDI100_CUSTOMER="+s.Customer(), "KUAIDI100_KEY="+s.Key())
	out, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"state":"1"`) {
		t.Fatalf("kquery: %v %s", err, out)
	}
}
