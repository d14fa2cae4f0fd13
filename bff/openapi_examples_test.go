package bff_test

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// Every operation shows a real exchange: its success answer (or, where it has
// none with a body, an error) and its request body carry an example keyed by
// the operationId (make examples records them from these tests).
func TestEveryOperationHasExamples(t *testing.T) {
	doc, _ := specJSON(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				if !hasExample(op.RequestBody.Value.Content, op.OperationID) {
					t.Errorf("%s: the request body has no example %q (run make examples)", name, op.OperationID)
				}
			}
			// A success with a body shows one (an error's example would
			// do where no test saw a success); a 204 has nothing to show.
			successWithBody, shown := 0, false
			for status, r := range op.Responses.Map() {
				if r.Value == nil || len(r.Value.Content) == 0 {
					continue
				}
				if strings.HasPrefix(status, "2") {
					successWithBody++
				}
				shown = shown || hasExample(r.Value.Content, op.OperationID)
			}
			if successWithBody > 0 && !shown {
				t.Errorf("%s: no response has an example %q (run make examples)", name, op.OperationID)
			}
		}
	}
}

func hasExample(content openapi3.Content, opID string) bool {
	for _, mt := range content {
		if _, ok := mt.Examples[opID]; ok {
			return true
		}
	}
	return false
}
