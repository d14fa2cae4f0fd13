package bff

import (
	"os"
	"testing"
)

// README.md's configuration table is the one printed from the declarations.
// To update it: go run ./cmd/zwfw -write-config-table README.md
func TestREADMEConfigTable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, old, err := ReplaceConfigTable(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if want := ConfigTableMarkdown(); old != want {
		t.Fatalf("README.md's configuration table differs from the declarations in bff/config_table.go;\n"+
			"run `go run ./cmd/zwfw -write-config-table README.md`. Expected table:\n\n%s", want)
	}
}

// Every setting is declared once, with a meaning.
func TestSettingsDeclaredOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range settings {
		if seen[s.name] {
			t.Errorf("%s declared twice", s.name)
		}
		seen[s.name] = true
		if s.meaning == "" || s.read == nil || s.value == nil {
			t.Errorf("%s: incomplete declaration", s.name)
		}
	}
}
