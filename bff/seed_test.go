package bff_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"zwfw/bff"
	"zwfw/cases"
	"zwfw/rectify"
)

// The demo data is seeded once: staff accounts whose generated passwords are
// written to the data dir, and which log in.
func TestDemoSeed(t *testing.T) {
	dir := t.TempDir()
	s := start(t, func(c *bff.Config) { c.SeedDemo, c.DataDir = true, dir })
	f, err := os.Open(filepath.Join(dir, "demo-accounts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("demo-accounts.txt mode %v", st.Mode())
	}
	accounts := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "#") {
			parts := strings.Split(line, "\t")
			accounts[parts[0]] = parts[1]
		}
	}
	for _, u := range []string{"admin", "hotline01", "hall01"} {
		if accounts[u] == "" {
			t.Fatalf("no password for %s in %v", u, accounts)
		}
		s.loginStaff(u, accounts[u])
	}
	if !strings.Contains(s.app.Banner(), "hotline01") {
		t.Fatal("the banner does not list the demo staff")
	}
}

// The demo 差评: after the first start the demo supervisor jiancha01 finds
// a rectification on the console's 好差评 page, opened by the evaluation
// consumer from the demo citizen's rating of a case the sandbox province
// approved; a restart on the same database files and rates nothing more.
func TestDemoSeedRectification(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, func(c *bff.Config) { c.SeedDemo, c.DataDir = true, dir })
	s := launch(t, cfg)
	ctx := context.Background()
	store := rectify.NewMongoStore(s.app.DB())
	var list []*rectify.Rectification
	deadline := time.Now().Add(2 * time.Minute) // a case's whole way, on a starved machine
	for len(list) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no rectification after the demo seeding")
		}
		time.Sleep(100 * time.Millisecond)
		var err error
		if list, err = store.List(ctx, rectify.Filter{}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := store.Get(ctx, list[0].ID) // the list holds what its rows show
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || r.State != rectify.StateOpen || r.Evaluation.Level > rectify.DefaultMaxLevel ||
		len(r.History) != 1 || r.History[0].Action != rectify.ActionOpen || r.History[0].By.ID != "system" {
		t.Fatalf("the demo rectifications: %d, the first %+v", len(list), r)
	}
	c, err := cases.NewMongoStore(s.app.DB()).Get(ctx, r.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != cases.StatusCompletedApproved || c.Evaluation == nil || c.Evaluation.Level != r.Evaluation.Level ||
		c.CaseNumber == "" || c.CaseNumber != r.CaseNumber {
		t.Fatalf("the demo case: %s %q %+v", c.Status, c.CaseNumber, c.Evaluation)
	}

	// jiancha01 signs in to the console and finds it on the 好差评 page.
	page := consolePage(t, s, demoAccounts(t, dir), "jiancha01", "/console/evaluations")
	if !strings.Contains(page, r.CaseNumber) || !strings.Contains(page, "待整改") {
		t.Fatalf("the 好差评 page does not list the demo rectification %s:\n%s", r.CaseNumber, page)
	}

	// A restart seeds nothing more (its seeding is run here to its end).
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.app.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	s = launch(t, cfg)
	if err := s.app.SeedDemoEvaluation(ctx); err != nil {
		t.Fatal(err)
	}
	owned, err := cases.NewMongoStore(s.app.DB()).ListByOwner(ctx, c.OwnerID, "", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if list, err = rectify.NewMongoStore(s.app.DB()).List(ctx, rectify.Filter{}); err != nil {
		t.Fatal(err)
	}
	if len(owned) != 1 || len(list) != 1 {
		t.Fatalf("after a restart: %d demo cases, %d rectifications", len(owned), len(list))
	}
}

// demoAccounts reads the generated demo passwords by username.
func demoAccounts(t *testing.T, dir string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "demo-accounts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	accounts := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if parts := strings.Split(line, "\t"); !strings.HasPrefix(line, "#") && len(parts) == 3 {
			accounts[parts[0]] = parts[1]
		}
	}
	return accounts
}

var consoleCSRF = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// consolePage signs username in through the console's login form and
// returns the page at path.
func consolePage(t *testing.T, s *server, accounts map[string]string, username, path string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	read := func(res *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", res.Request.URL.Path, res.StatusCode)
		}
		return string(raw)
	}
	m := consoleCSRF.FindStringSubmatch(read(cl.Get(s.base + "/console/login")))
	if m == nil {
		t.Fatal("no CSRF token on the login form")
	}
	read(cl.PostForm(s.base+"/console/login", url.Values{"_csrf": {m[1]}, "username": {username}, "password": {accounts[username]}}))
	return read(cl.Get(s.base + path))
}
