package bff_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"zwfw/identity"
)

// PUT replaces the settings, so it takes all of them: a partial PUT is
// refused and changes nothing (it used to save quiet hours as off). PATCH
// changes the parts it names.
func TestNotificationSettingsPutReplacesPatchChangesPart(t *testing.T) {
	s := start(t)
	me := s.loginWeChat("settings01")
	get := func() map[string]any {
		r := s.request("GET", "/api/v1/me/notification-settings", me.Access, nil)
		if r.Status != 200 {
			t.Fatalf("get settings: %d %s", r.Status, r.Body)
		}
		return r.M(t)
	}
	quiet := func(m map[string]any) map[string]any { return m["quiet_hours"].(map[string]any) }
	if q := quiet(get()); q["enabled"] != true || q["start"] != "22:00" {
		t.Fatalf("default quiet hours: %v", q)
	}

	for _, c := range []struct {
		name, code string
		body       any
	}{
		{"empty object", "REQUEST_INVALID", map[string]any{}},
		{"null", "REQUEST_WRONG_TYPE", "null"},
		{"only channels", "REQUEST_INVALID", map[string]any{"channels": map[string][]string{"booking": {"sms"}}}},
		{"quiet hours without their times", "REQUEST_INVALID", map[string]any{"channels": map[string][]string{},
			"quiet_hours": map[string]any{"enabled": true}}},
	} {
		r := s.request("PUT", "/api/v1/me/notification-settings", me.Access, c.body)
		m := wantError(t, r, http.StatusBadRequest, c.code)
		if c.code == "REQUEST_INVALID" && len(fieldNames(m)) == 0 {
			t.Errorf("%s: the refusal names no field: %s", c.name, r.Body)
		}
	}
	if q := quiet(get()); q["enabled"] != true || q["start"] != "22:00" || q["end"] != "08:00" {
		t.Fatalf("a refused PUT changed quiet hours: %v", q)
	}

	r := s.request("PATCH", "/api/v1/me/notification-settings", me.Access, map[string]any{"quiet_hours": map[string]any{"start": "23:00"}})
	if r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	after := get()
	if q := quiet(after); q["enabled"] != true || q["start"] != "23:00" || q["end"] != "08:00" {
		t.Fatalf("patching the start changed more: %v", q)
	}
	r = s.request("PATCH", "/api/v1/me/notification-settings", me.Access, map[string]any{"channels": map[string][]string{"booking": {"sms"}}})
	if r.Status != 200 {
		t.Fatalf("patch channels: %d %s", r.Status, r.Body)
	}
	after = get()
	ch := after["channels"].(map[string]any)
	if fmt.Sprint(ch["booking"]) != "[sms]" || len(ch["case"].([]any)) != 3 || quiet(after)["start"] != "23:00" {
		t.Fatalf("patching one kind's channels changed more: %v", after)
	}
	wantError(t, s.request("PATCH", "/api/v1/me/notification-settings", me.Access, map[string]any{"quiet_hours": map[string]any{"start": "late"}}),
		http.StatusBadRequest, "NOTIFICATION_SETTINGS_INVALID")
}

func fieldNames(m map[string]any) []string {
	var out []string
	fields, _ := m["fields"].([]any)
	for _, f := range fields {
		out = append(out, fmt.Sprint(f.(map[string]any)["field"]))
	}
	return out
}

// Every operation with a JSON body refuses it when any required field is
// missing, with 400 naming the field: the OpenAPI document is enforced,
// the same way for every route.
func TestEveryRequiredFieldIsEnforced(t *testing.T) {
	s := start(t)
	citizen := s.loginWeChat("validator01")
	if _, err := s.app.Identity().CreateStaff(t.Context(), "validator01", "校验", "Valid-pass-2026",
		[]identity.Role{identity.RoleAdmin, identity.RoleStaff, identity.RoleHotline}); err != nil {
		t.Fatal(err)
	}
	staff := s.loginStaff("validator01", "Valid-pass-2026")
	checked := 0
	for path, item := range s.spec.Paths.Map() {
		if strings.HasPrefix(path, "/api/v1/callbacks/") {
			continue // signed provider bodies, answered in the provider's own format
		}
		for method, op := range item.Operations() {
			body := jsonBodySchema(op)
			if body == nil {
				continue
			}
			token := citizen.Access
			if strings.HasPrefix(path, "/api/v1/admin/") || strings.HasPrefix(path, "/api/v1/staff/") || strings.HasPrefix(path, "/api/v1/hotline/") {
				token = staff
			}
			url := concretePath(t, path, append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...))
			for _, field := range requiredFields(body, nil) {
				valid := sample(t, body).(map[string]any)
				drop(valid, field)
				name := strings.Join(field, ".")
				t.Run(method+" "+path+" without "+name, func(t *testing.T) {
					r := s.request(method, url, token, valid, "Idempotency-Key", randomKey())
					if r.Status != http.StatusBadRequest {
						t.Fatalf("status %d, want 400; body %s", r.Status, r.Body)
					}
					if got := fieldNames(r.M(t)); !slices.Contains(got, name) {
						t.Fatalf("fields %v do not name %s; body %s", got, name, r.Body)
					}
				})
				checked++
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d required fields checked", checked)
	}
}

func randomKey() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "k-" + hex.EncodeToString(b)
}

func jsonBodySchema(op *openapi3.Operation) *openapi3.Schema {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// requiredFields lists the paths of every required property, nested ones
// included (a nested one only under required parents, as sample builds them).
func requiredFields(s *openapi3.Schema, prefix []string) [][]string {
	var out [][]string
	for _, name := range s.Required {
		p := append(append([]string(nil), prefix...), name)
		out = append(out, p)
		if prop := s.Properties[name]; prop != nil && prop.Value != nil && prop.Value.Type.Is(openapi3.TypeObject) {
			out = append(out, requiredFields(prop.Value, p)...)
		}
	}
	return out
}

func drop(body map[string]any, path []string) {
	for _, p := range path[:len(path)-1] {
		body = body[p].(map[string]any)
	}
	delete(body, path[len(path)-1])
}

// samplePatterns are values for the patterns openapi.yaml uses.
var samplePatterns = map[string]string{
	`^1[3-9][0-9]{9}$`:        "13800138000",
	`^[0-9]{6}$`:              "123456",
	`^[0-2][0-9]:[0-5][0-9]$`: "22:00",
}

// sample builds a valid value of s: required properties only, the first
// enum value, the smallest allowed number.
func sample(t *testing.T, s *openapi3.Schema) any {
	t.Helper()
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	switch {
	case s.Type.Is(openapi3.TypeObject):
		out := map[string]any{}
		for _, name := range s.Required {
			out[name] = sample(t, s.Properties[name].Value)
		}
		return out
	case s.Type.Is(openapi3.TypeArray):
		if s.MinItems > 0 {
			return []any{sample(t, s.Items.Value)}
		}
		return []any{}
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		if s.Min != nil {
			return *s.Min
		}
		return 1
	case s.Type.Is(openapi3.TypeBoolean):
		return true
	}
	switch {
	case s.Format == "date-time":
		return "2027-01-04T09:00:00+08:00"
	case s.Format == "date":
		return "2027-01-04"
	case s.Pattern != "":
		v, ok := samplePatterns[s.Pattern]
		if !ok {
			t.Fatalf("no sample value for pattern %s: add one to samplePatterns", s.Pattern)
		}
		return v
	}
	return strings.Repeat("x", max(int(s.MinLength), 1))
}

// concretePath fills the path's parameters with sample values.
func concretePath(t *testing.T, path string, params openapi3.Parameters) string {
	for _, p := range params {
		if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
			path = strings.ReplaceAll(path, "{"+p.Value.Name+"}", fmt.Sprint(sample(t, p.Value.Schema.Value)))
		}
	}
	return path
}
