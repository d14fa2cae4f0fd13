package api

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The service's spec may grow, but every breaking change against the released
// v1 must be declared in CHANGELOG.md under a new version.
func TestTheWorkingSpecKeepsTheReleasedContract(t *testing.T) {
	if err := Check(read(t, "openapi.v1.yaml"), read(t, "../bff/openapi.yaml"), read(t, "../CHANGELOG.md")); err != nil {
		t.Fatal(err)
	}
}

// changed is the released spec with one change made to it.
func changed(t *testing.T, change func(doc *openapi3.T)) []byte {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(read(t, "openapi.v1.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	change(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func schema(t *testing.T, doc *openapi3.T, name string) *openapi3.Schema {
	t.Helper()
	s := doc.Components.Schemas[name]
	if s == nil || s.Value == nil {
		t.Fatalf("no schema %s in the released spec", name)
	}
	return s.Value
}

func requestSchema(t *testing.T, doc *openapi3.T, path, method string) *openapi3.Schema {
	t.Helper()
	item := doc.Paths.Find(path)
	if item == nil || item.GetOperation(method) == nil || item.GetOperation(method).RequestBody == nil {
		t.Fatalf("no request body of %s %s in the released spec", method, path)
	}
	return item.GetOperation(method).RequestBody.Value.Content["application/json"].Schema.Value
}

func without(values []any, drop any) []any {
	var out []any
	for _, v := range values {
		if v != drop {
			out = append(out, v)
		}
	}
	return out
}

var breaking = []struct {
	name   string
	wantID string
	change func(t *testing.T, doc *openapi3.T)
}{
	{"a required response field removed", "response-required-property-removed", func(t *testing.T, doc *openapi3.T) {
		p := schema(t, doc, "Payment")
		delete(p.Properties, "agency")
		p.Required = slices.DeleteFunc(p.Required, func(s string) bool { return s == "agency" })
	}},
	{"an optional response field removed", "response-optional-property-removed", func(t *testing.T, doc *openapi3.T) {
		delete(schema(t, doc, "Case").Properties, "dept")
	}},
	{"a request enum narrowed", "request-property-enum-value-removed", func(t *testing.T, doc *openapi3.T) {
		ch := requestSchema(t, doc, "/api/v1/payments/{id}/pay", "POST").Properties["channel"].Value
		ch.Enum = without(ch.Enum, "alipay_wap")
	}},
	{"a new required request field", "new-required-request-property", func(t *testing.T, doc *openapi3.T) {
		s := requestSchema(t, doc, "/api/v1/auth/wechat", "POST")
		s.Properties["device_id"] = openapi3.NewStringSchema().NewRef()
		s.Required = append(s.Required, "device_id")
	}},
}

func TestABreakingChangeFailsUnlessTheChangelogDeclaresIt(t *testing.T) {
	released := read(t, "openapi.v1.yaml")
	for _, c := range breaking {
		t.Run(c.name, func(t *testing.T) {
			working := changed(t, func(doc *openapi3.T) { c.change(t, doc) })
			changes, err := BreakingChanges(released, working)
			if err != nil {
				t.Fatal(err)
			}
			var entries []string
			for _, ch := range changes {
				if ch.ID == c.wantID {
					entries = append(entries, strings.Replace(ch.Entry(), "<why>", "test", 1))
				}
			}
			if len(entries) == 0 {
				t.Fatalf("%s not reported; got %+v", c.wantID, changes)
			}
			err = Check(released, working, []byte("# Changelog\n\n## [1.0.0]\n\n- first release\n"))
			if err == nil || !strings.Contains(err.Error(), c.wantID) {
				t.Fatalf("an undeclared %s passed: %v", c.wantID, err)
			}
			// Declared under the released version it still fails: it must be a new one.
			underReleased := "# Changelog\n\n## [1.0.0]\n\n" + strings.Join(entries, "\n") + "\n"
			if err := Check(released, working, []byte(underReleased)); err == nil {
				t.Fatal("a change declared under the released version passed")
			}
			declared := "# Changelog\n\n## [2.0.0] — unreleased\n\n" + strings.Join(entries, "\n") + "\n\n## [1.0.0]\n\n- first release\n"
			if err := Check(released, working, []byte(declared)); err == nil || !strings.Contains(err.Error(), "info.version") {
				t.Fatalf("a declared change passed without the new info.version: %v", err)
			}
			bumped := changed(t, func(doc *openapi3.T) { c.change(t, doc); doc.Info.Version = "2.0.0" })
			if err := Check(released, bumped, []byte(declared)); err != nil {
				t.Fatalf("the declared change is still refused: %v", err)
			}
		})
	}
}

func TestAdditiveChangesPass(t *testing.T) {
	released := read(t, "openapi.v1.yaml")
	for name, change := range map[string]func(doc *openapi3.T){
		"nothing changed (a JSON copy of the YAML)": func(*openapi3.T) {},
		"an optional response field added": func(doc *openapi3.T) {
			schema(t, doc, "Payment").Properties["payer_note"] = openapi3.NewStringSchema().NewRef()
		},
		"an optional request field added": func(doc *openapi3.T) {
			requestSchema(t, doc, "/api/v1/auth/wechat", "POST").Properties["device_id"] = openapi3.NewStringSchema().NewRef()
		},
		"a request enum widened": func(doc *openapi3.T) {
			ch := requestSchema(t, doc, "/api/v1/payments/{id}/pay", "POST").Properties["channel"].Value
			ch.Enum = append(ch.Enum, "unionpay_app")
		},
		"a response enum widened (clients show status_label for a value they do not know)": func(doc *openapi3.T) {
			st := schema(t, doc, "Case").Properties["status"].Value
			st.Enum = append(st.Enum, "suspended")
		},
		"a new operation": func(doc *openapi3.T) {
			doc.Paths.Set("/api/v1/me/favourites", &openapi3.PathItem{Get: &openapi3.Operation{
				OperationID: "listFavourites",
				Responses:   openapi3.NewResponses(openapi3.WithStatus(200, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("ok")})),
			}})
		},
	} {
		t.Run(name, func(t *testing.T) {
			if err := Check(released, changed(t, change), []byte("# Changelog\n")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDeclaredReadsOnlyNewerVersions(t *testing.T) {
	log := "## [1.2.0] — 2027-01-10\n- breaking: `a` `GET /x`\n## [1.0.0]\n- breaking: `b` `GET /y`\n## 0.9.0\n- breaking: `c`\n"
	d := Declared([]byte(log), "1.0.0")
	if !d.covers(Change{ID: "a", Operation: "GET /x"}) || d.covers(Change{ID: "b", Operation: "GET /y"}) || d.covers(Change{ID: "c"}) {
		t.Fatalf("declared = %+v", d)
	}
	if d.covers(Change{ID: "a", Operation: "GET /z"}) {
		t.Fatal("an entry covered another operation")
	}
	for _, c := range []struct {
		a, b string
		want bool
	}{{"1.0.0", "1.0.1", true}, {"1.9.0", "1.10.0", true}, {"2.0.0", "1.10.0", false}, {"1.0.0", "1.0.0", false}} {
		if got := semverLess(c.a, c.b); got != c.want {
			t.Errorf("semverLess(%s, %s) = %v", c.a, c.b, got)
		}
	}
}
