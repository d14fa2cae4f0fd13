package bff_test

import (
	"regexp"
	"strings"
	"testing"
)

var fiberParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// Every route the app serves is in openapi.yaml, and every path there is
// served. The staff console's HTML pages (/console/) are not API: package
// console tests them.
func TestEveryRouteIsDocumented(t *testing.T) {
	s := start(t)
	served := map[string]bool{}
	for _, r := range s.app.Handler().GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "USE" || r.Method == "OPTIONS" || strings.HasSuffix(r.Path, "*") ||
			strings.HasPrefix(r.Path, "/console/") {
			continue
		}
		path := fiberParam.ReplaceAllString(r.Path, "{$1}")
		key := r.Method + " " + path
		served[key] = true
		item := s.spec.Paths.Find(path)
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("%s is served but not in openapi.yaml", key)
		}
	}
	for path, item := range s.spec.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("%s %s is in openapi.yaml but not served", method, path)
			}
		}
	}
}
