package bff_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"zwfw/apperr"
	"zwfw/bff"
)

// The spec as plain JSON values, for walking every schema wherever it sits.
func specJSON(t *testing.T) (*openapi3.T, map[string]any) {
	t.Helper()
	doc, err := bff.LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return doc, m
}

// Every enumeration a client branches on says what each value means, in
// Chinese: x-enum-descriptions, one entry per value in the enum's order (the
// convention openapi-typescript reads).
func TestEveryEnumValueIsDescribedInChinese(t *testing.T) {
	_, spec := specJSON(t)
	enums := 0
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch n := v.(type) {
		case map[string]any:
			if values, ok := n["enum"].([]any); ok {
				enums++
				descs, _ := n["x-enum-descriptions"].([]any)
				switch {
				case descs == nil:
					t.Errorf("%s: enum %v has no x-enum-descriptions list", at, values)
				case len(descs) != len(values):
					t.Errorf("%s: %d enum values but %d descriptions", at, len(values), len(descs))
				default:
					for i, d := range descs {
						if s, _ := d.(string); !hasHan(s) {
							t.Errorf("%s: the description of %v is %q, not Chinese", at, values[i], d)
						}
					}
				}
			}
			for k, c := range n {
				walk(c, at+"/"+k)
			}
		case []any:
			for i, c := range n {
				walk(c, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(spec, "#")
	if enums < 50 {
		t.Fatalf("only %d enums found: the walk missed the schemas", enums)
	}
}

// The ErrorCode schema lists exactly the codes the service declares, each
// with its HTTP status and Chinese message (make api-spec writes it).
func TestErrorCodesAreTheDeclaredOnes(t *testing.T) {
	doc, _ := specJSON(t)
	ref := doc.Components.Schemas["ErrorCode"]
	if ref == nil || ref.Value == nil {
		t.Fatal("components.schemas.ErrorCode is missing: run make api-spec")
	}
	if code := doc.Components.Schemas["Error"].Value.Properties["code"]; code == nil || code.Ref != "#/components/schemas/ErrorCode" {
		t.Error("Error.code does not refer to ErrorCode")
	}
	documented := map[string]string{}
	descs, _ := ref.Value.Extensions["x-enum-descriptions"].([]any)
	for i, v := range ref.Value.Enum {
		if i < len(descs) {
			documented[fmt.Sprint(v)], _ = descs[i].(string)
		}
	}
	var stale []string
	for _, e := range apperr.Codes() {
		want := fmt.Sprintf("HTTP %d：%s", e.Kind.HTTPStatus(), e.Message)
		if got, ok := documented[e.Code]; !ok || got != want {
			stale = append(stale, fmt.Sprintf("%s: documented %q, declared %q", e.Code, got, want))
		}
		delete(documented, e.Code)
	}
	for code := range documented {
		stale = append(stale, code+": documented but declared nowhere")
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		t.Errorf("ErrorCode is stale (run make api-spec):\n%s", strings.Join(stale, "\n"))
	}
}

// The probes and every other route check X-Client first: a malformed one is
// the documented 400 (the harness validates the answer against the spec).
func TestAMalformedClientHeaderIsRefusedOnEveryRoute(t *testing.T) {
	s := start(t)
	for _, path := range []string{"/livez", "/readyz", "/metrics", "/api/v1/openapi.json"} {
		r := s.request("GET", path, "", nil, "X-Client", "wechat-devtools")
		wantError(t, r, 400, "REQUEST_INVALID")
	}
}
