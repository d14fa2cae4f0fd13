// Package api guards the released API: Check compares the working OpenAPI
// document (bff/openapi.yaml) with the released one (api/openapi.v1.yaml)
// using oasdiff's backward-compatibility checks, and refuses every breaking
// change that CHANGELOG.md does not declare under a version newer than the
// released one.
//
// It is a module of its own so that oasdiff's dependencies (a newer
// kin-openapi among them) never enter the service's build.
package api

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"
)

// severity adjusts oasdiff's levels to this API's policy (docs/api.md):
// clients must accept enum values they do not know in answers (each status
// comes with its label), so a new value in a response is additive; and a
// client may read any field it was given, so removing an optional response
// field breaks it as much as a required one.
var severity = map[string]checker.Level{
	checker.ResponsePropertyEnumValueAddedId:  checker.INFO,
	checker.ResponseMediaTypeEnumValueAddedId: checker.INFO,
	checker.ResponseOptionalPropertyRemovedId: checker.ERR,
}

// Change is one breaking change between the released spec and the working one.
type Change struct {
	ID        string // oasdiff's check id, e.g. response-required-property-removed
	Operation string // "GET /api/v1/cases/{id}", empty for a change of the whole API
	Text      string
}

// Entry is how CHANGELOG.md declares the change.
func (c Change) Entry() string {
	if c.Operation == "" {
		return fmt.Sprintf("- breaking: `%s` — <why>", c.ID)
	}
	return fmt.Sprintf("- breaking: `%s` `%s` — <why>", c.ID, c.Operation)
}

// BreakingChanges lists the changes from base to revision that break a client
// (oasdiff's errors and warnings, with the levels adjusted by severity).
func BreakingChanges(base, revision []byte) ([]Change, error) {
	loader := openapi3.NewLoader()
	s1, err := load.NewSpecInfoFromData(loader, base, "released")
	if err != nil {
		return nil, fmt.Errorf("the released spec: %w", err)
	}
	s2, err := load.NewSpecInfoFromData(openapi3.NewLoader(), revision, "working")
	if err != nil {
		return nil, fmt.Errorf("the working spec: %w", err)
	}
	d, sources, err := diff.GetPathsDiff(diff.NewConfig(), []*load.SpecInfo{s1}, []*load.SpecInfo{s2})
	if err != nil {
		return nil, err
	}
	cfg := checker.NewConfig(checker.GetAllChecks(), checker.WithSeverityLevels(severity))
	var out []Change
	for _, c := range checker.CheckBackwardCompatibilityUntilLevel(cfg, d, sources, checker.WARN) {
		op := ""
		if c.GetOperation() != "" {
			op = c.GetOperation() + " " + c.GetPath()
		}
		out = append(out, Change{ID: c.GetId(), Operation: op, Text: c.GetUncolorizedText(checker.NewDefaultLocalizer())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Operation+out[i].ID < out[j].Operation+out[j].ID })
	return out, nil
}

// Check returns an error naming every breaking change from the released spec
// to the working one that the changelog does not declare, and refuses a
// declared one unless the working spec's info.version is the new version.
func Check(released, working, changelog []byte) error {
	changes, err := BreakingChanges(released, working)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return nil
	}
	from, err := specVersion(released)
	if err != nil {
		return err
	}
	to, err := specVersion(working)
	if err != nil {
		return err
	}
	declared := Declared(changelog, from)
	var missing []string
	for _, c := range changes {
		if !declared.covers(c) {
			missing = append(missing, fmt.Sprintf("  %s\n      %s", c.Entry(), c.Text))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d breaking change(s) against the released API %s are not in CHANGELOG.md; "+
			"undo them, or declare each under a new version (and set info.version to it):\n%s",
			len(missing), from, strings.Join(missing, "\n"))
	}
	if !declared.versions[to] {
		return fmt.Errorf("CHANGELOG.md declares breaking changes, but bff/openapi.yaml's info.version is %s: "+
			"set it to the version they are declared under (%s)", to, strings.Join(declared.list(), ", "))
	}
	return nil
}

// Declarations are the breaking changes CHANGELOG.md lists under versions
// newer than the released one.
type Declarations struct {
	lines    []string
	versions map[string]bool
}

var heading = regexp.MustCompile(`^##\s+\[?v?(\d+\.\d+\.\d+)\]?`)

// Declared reads the changelog's sections of versions newer than released.
func Declared(changelog []byte, released string) Declarations {
	d := Declarations{versions: map[string]bool{}}
	newer := false
	for _, line := range strings.Split(string(changelog), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			newer = semverLess(released, m[1])
			if newer {
				d.versions[m[1]] = true
			}
			continue
		}
		if newer && strings.Contains(line, "breaking:") {
			d.lines = append(d.lines, line)
		}
	}
	return d
}

func (d Declarations) covers(c Change) bool {
	for _, l := range d.lines {
		if strings.Contains(l, "`"+c.ID+"`") && (c.Operation == "" || strings.Contains(l, "`"+c.Operation+"`")) {
			return true
		}
	}
	return false
}

func (d Declarations) list() []string {
	var out []string
	for v := range d.versions {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func specVersion(spec []byte) (string, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return "", err
	}
	if doc.Info == nil || doc.Info.Version == "" {
		return "", fmt.Errorf("the spec has no info.version")
	}
	return doc.Info.Version, nil
}

// semverLess reports a < b for versions MAJOR.MINOR.PATCH.
func semverLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
