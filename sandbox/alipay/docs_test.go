package alipay_test

import (
	"os"
	"strings"
	"testing"

	"zwfw/sandbox/alipay"
)

// docs/sandbox.md documents every route the fake serves.
func TestDocsListEveryRoute(t *testing.T) {
	doc, err := os.ReadFile("../../docs/sandbox.md")
	if err != nil {
		t.Fatal("docs not found:", err)
	}
	text := string(doc)
	d := alipay.New(alipay.Options{}).Describe()
	for _, ep := range append(d.API, d.Controls...) {
		path, _, _ := strings.Cut(ep.Path, "?")
		if !strings.Contains(text, path) {
			t.Errorf("docs/sandbox.md lacks %s %s", ep.Method, path)
		}
	}
}
