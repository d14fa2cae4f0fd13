package nontax

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"zwfw/sandbox/province"
)

const (
	sandboxDoc  = "../../docs/sandbox.md"
	contractDoc = "../../docs/nontax-gateway.md"
)

// nontaxSection is the non-tax part of docs/sandbox.md.
func nontaxSection(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(sandboxDoc)
	if err != nil {
		t.Fatal("docs not found:", err)
	}
	_, section, ok := strings.Cut(string(doc), "## Non-tax payment platform")
	if !ok {
		t.Fatal("docs/sandbox.md has no non-tax section")
	}
	return section
}

// docs/sandbox.md lists every control and every demo payer with the
// amounts of their notices.
func TestSandboxDocShowsControlsAndDemoData(t *testing.T) {
	text := nontaxSection(t)
	s := New(Options{})
	for _, c := range s.Describe().Controls {
		path, _, _ := strings.Cut(c.Path, "?")
		if !strings.Contains(text, c.Method+" "+path) {
			t.Errorf("docs/sandbox.md lacks control %s %s", c.Method, path)
		}
	}
	rows := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if m := regexp.MustCompile("^\\| \\S+ `([0-9A-Z]{18})` \\| (.*) \\|$").FindStringSubmatch(line); m != nil {
			rows[m[1]] = m[2]
		}
	}
	check := func(id string) {
		row, ok := rows[id]
		if !ok {
			t.Errorf("docs/sandbox.md lacks demo payer %s", id)
			return
		}
		for _, n := range s.Notices(id, "") {
			for _, it := range n.Items {
				if !strings.Contains(row, it.Name) || !strings.Contains(row, strconv.FormatInt(it.UnitPrice, 10)) {
					t.Errorf("docs row of %s lacks %s %d: %s", id, it.Name, it.UnitPrice, row)
				}
			}
		}
	}
	for _, p := range province.DemoPeople {
		check(p.IDNumber)
	}
	for _, c := range province.DemoCompanies {
		check(c.USCC)
	}
}

// docs/nontax-gateway.md names every API route and every service code, and
// its check digit example is right.
func TestContractDocIsComplete(t *testing.T) {
	doc, err := os.ReadFile(contractDoc)
	if err != nil {
		t.Fatal("docs not found:", err)
	}
	text := string(doc)
	for _, rt := range New(Options{NoDemoData: true}).routes() {
		if !strings.Contains(text, "`"+rt.method+" "+APIPrefix+rt.path) {
			t.Errorf("docs/nontax-gateway.md lacks %s %s", rt.method, APIPrefix+rt.path)
		}
	}
	for _, code := range []string{CodePaymentCodeInvalid, CodePayerIDInvalid, CodeNoticeNotFound, CodeReceiptNotFound,
		CodeNoticeCancelled, CodeNoticeAlreadyPaid, CodeNoticeExpired, CodeAmountMismatch, CodeTransactionDuplicate,
		CodeNoticeNotPaid, CodeRefundExceedsPaid, CodeRefundNoConflict, CodeIdempotencyKeyRequired, CodeIdempotencyKeyConflict} {
		if !strings.Contains(text, "`"+code+"`") {
			t.Errorf("docs/nontax-gateway.md lacks code %s", code)
		}
	}
	m := regexp.MustCompile("the 19 digits\\s+`(\\d{19})` take check digit `(\\d)`").FindStringSubmatch(text)
	if m == nil || PaymentCodeCheckDigit(m[1]) != m[2][0] {
		t.Fatalf("check digit example %v", m)
	}
}

// The doc's ncurl shell function signs requests the platform accepts, and
// its payment example books a payment.
func TestDocsShellSignerWorks(t *testing.T) {
	fn := regexp.MustCompile(`(?s)ncurl\(\) \{.*?\n\}`).FindString(nontaxSection(t))
	if fn == "" {
		t.Fatal("no ncurl function in docs/sandbox.md")
	}
	if err := exec.Command("bash", "-c", "printf x | openssl dgst -sm3 -hmac k && command -v curl").Run(); err != nil {
		t.Skip("bash, curl or OpenSSL with SM3 not available")
	}
	// The shell signs with the wall clock, so this platform runs on it too.
	s := New(Options{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	n := s.Notices(province.DemoPeople[0].IDNumber, "")[0]
	script := fn + `
ncurl GET '/api/v1/notices?payer_id=` + n.PayerID + `'; echo
ncurl POST /api/v1/notices/` + n.PaymentCode + `/payments "{\"channel\":\"wechat_jsapi\",\"transaction_id\":\"4200000001202603021000000001\",\"out_trade_no\":\"ZW0001\",\"amount\":9000,\"paid_at\":\"$(date -Iseconds)\"}"; echo
`
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "NONTAX_BASE_URL="+srv.URL+BasePath, "NONTAX_APP_KEY="+s.AppKey(), "NONTAX_APP_SECRET="+s.AppSecret())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 || !strings.Contains(lines[0], `"code":"0"`) || !strings.Contains(lines[0], n.PaymentCode) || !strings.Contains(lines[1], `"status":"paid"`) {
		t.Fatalf("ncurl output:\n%s", out)
	}
}
