package pii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const (
	clearPhone = "13812345678"
	clearID    = "11010519491231002X"
	clearName  = "欧阳娜娜"
)

// secrets are the parts that must never appear: each clear value, and the
// middle of each that the mask hides.
var secrets = []string{clearPhone, clearID, clearName, "1234", "1949", "阳娜"}

func assertNoClearText(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("%s contains %q:\n%s", what, s, out)
		}
	}
	for _, masked := range []string{"138****5678", "110***********002X", "欧***"} {
		if !strings.Contains(out, masked) {
			t.Errorf("%s lacks the masked form %q:\n%s", what, masked, out)
		}
	}
}

func TestLogSafeTypesInSlogJSON(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("登录", "phone", Phone(clearPhone), "id_number", IDNumber(clearID), "name", Name(clearName))
	assertNoClearText(t, "JSON log line", buf.String())

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	if line["phone"] != "138****5678" || line["id_number"] != "110***********002X" || line["name"] != "欧***" {
		t.Errorf("logged attributes = %v", line)
	}
}

// The usual accidents: a value inside a struct, a group or With.
func TestLogSafeTypesNestedInSlog(t *testing.T) {
	type applicant struct {
		Phone    Phone
		IDNumber IDNumber
		Name     Name
	}
	a := applicant{Phone(clearPhone), IDNumber(clearID), Name(clearName)}
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"JSON": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(h(&buf))
			log.Info("struct", "applicant", a)
			log.Info("pointer", "applicant", &a)
			log.Info("group", slog.Group("user", "phone", Phone(clearPhone), "id", IDNumber(clearID), "name", Name(clearName)))
			log.With("phone", Phone(clearPhone), "id", IDNumber(clearID), "name", Name(clearName)).Info("with")
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				assertNoClearText(t, name+" log line", line)
			}
		})
	}
}

func TestLogSafeTypesInFmt(t *testing.T) {
	values := []any{Phone(clearPhone), IDNumber(clearID), Name(clearName)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-20v"} {
		out := fmt.Sprintf(strings.Repeat(verb+" ", len(values)), values...)
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("Sprintf(%q) = %q contains %q", verb, out, s)
			}
		}
	}
	if got := fmt.Sprintf("%#v", Phone(clearPhone)); got != `pii.Phone("138****5678")` {
		t.Errorf("%%#v = %s", got)
	}
	if got := fmt.Sprint(Name(clearName)); got != "欧***" {
		t.Errorf("Sprint = %s", got)
	}
	// A slice or map of them formats element by element, masked.
	assertNoClearText(t, "%v of a map", fmt.Sprintf("%v", map[string]any{"p": Phone(clearPhone), "i": IDNumber(clearID), "n": Name(clearName)}))
}

func TestLogSafeTypesInJSON(t *testing.T) {
	out, err := json.Marshal(struct {
		Phone    Phone    `json:"phone"`
		IDNumber IDNumber `json:"id_number"`
		Name     Name     `json:"name"`
	}{Phone(clearPhone), IDNumber(clearID), Name(clearName)})
	if err != nil {
		t.Fatal(err)
	}
	assertNoClearText(t, "JSON", string(out))
}

// The clear value is still there for whoever asks for it explicitly.
func TestLogSafeTypesKeepTheClearValue(t *testing.T) {
	if string(Phone(clearPhone)) != clearPhone || string(IDNumber(clearID)) != clearID || string(Name(clearName)) != clearName {
		t.Error("conversion to string lost the clear value")
	}
}
