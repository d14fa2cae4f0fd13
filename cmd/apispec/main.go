// Command apispec writes the generated parts of bff/openapi.yaml: the list of
// error codes (-error-codes, from apperr's registry) and the examples recorded
// by a test run (-examples DIR, see `make examples`). It rewrites only those
// blocks and checks that the result still loads and validates (every example
// against its schema).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/getkin/kin-openapi/openapi3"

	"zwfw/apperr"
	_ "zwfw/bff" // every domain's error codes are declared by the packages bff wires
	"zwfw/bff/apispec"
)

func main() {
	specPath := flag.String("spec", "bff/openapi.yaml", "the OpenAPI document to write")
	codes := flag.Bool("error-codes", false, "write components/schemas/ErrorCode from apperr.Codes()")
	examples := flag.String("examples", "", "write the examples recorded in this directory (ZWFW_RECORD_EXAMPLES)")
	flag.Parse()
	if err := run(*specPath, *codes, *examples); err != nil {
		fmt.Fprintln(os.Stderr, "apispec:", err)
		os.Exit(1)
	}
}

func run(specPath string, codes bool, examplesDir string) error {
	spec, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	out := spec
	if codes {
		if out, err = apispec.WriteErrorCodes(out, declaredCodes()); err != nil {
			return err
		}
	}
	if examplesDir != "" {
		recs, err := readRecorded(examplesDir)
		if err != nil {
			return err
		}
		var skipped []string
		if out, skipped, err = apispec.WriteExamples(out, recs); err != nil {
			return err
		}
		for _, s := range skipped {
			fmt.Fprintln(os.Stderr, "apispec: recorded but not in the spec (left out):", s)
		}
		fmt.Printf("apispec: %d operations' examples written\n", len(recs)-len(skipped))
	}
	if err := check(out); err != nil {
		return fmt.Errorf("the result does not validate, %s left as it was: %w", specPath, err)
	}
	if string(out) == string(spec) {
		return nil
	}
	return os.WriteFile(specPath, out, 0o644)
}

// declaredCodes is every code the service can answer with.
func declaredCodes() []apispec.Code {
	var out []apispec.Code
	for _, e := range apperr.Codes() {
		out = append(out, apispec.Code{Code: e.Code, Status: e.Kind.HTTPStatus(), Message: e.Message})
	}
	return out
}

func readRecorded(dir string) ([]apispec.Recorded, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no recorded examples in %s (run the bff tests with ZWFW_RECORD_EXAMPLES=%s)", dir, dir)
	}
	var recs []apispec.Recorded
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r apispec.Recorded
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// check loads the document as the service does, examples validated.
func check(spec []byte) error {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return err
	}
	return doc.Validate(context.Background())
}
