package bff_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"zwfw/bff"
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
