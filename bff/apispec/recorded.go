// Package apispec keeps the generated parts of bff/openapi.yaml in step with
// the code: the examples recorded from real test runs (WriteExamples) and
// the list of error codes (WriteErrorCodes). It edits the YAML text in place,
// block by block, so every hand-written line, comment and flow mapping stays
// as it was and running it twice changes nothing.
package apispec

// Recorded is one real exchange the bff tests made and validated against the
// spec (bff's test harness writes one per operation under ZWFW_RECORD_EXAMPLES).
type Recorded struct {
	Method       string `json:"method"`
	Path         string `json:"path"` // the spec's path template, e.g. /api/v1/cases/{id}
	URL          string `json:"url"`  // the path and query actually requested
	Status       int    `json:"status"`
	RequestType  string `json:"request_type,omitempty"`
	Request      string `json:"request,omitempty"` // the body as sent (JSON of the fields for multipart); written only for a success
	ResponseType string `json:"response_type,omitempty"`
	Response     string `json:"response,omitempty"`
}

// exampleBudget is the size of a response body that still reads well as an
// example; a larger one is trimmed when written, and a smaller rich one wins.
const exampleBudget = 4096

// Better reports whether a is a better example of its operation than b: a
// success over an error, the lower success status (200 over 201 over 202),
// one with a request body, then the richest body within the budget (the
// smallest when both are over it).
func Better(a, b Recorded) bool {
	if sa, sb := success(a.Status), success(b.Status); sa != sb {
		return sa
	}
	if a.Status != b.Status {
		return a.Status < b.Status
	}
	if ra, rb := a.Request != "", b.Request != ""; ra != rb {
		return ra // a request to show as well
	}
	la, lb := len(a.Response)+len(a.Request), len(b.Response)+len(b.Request)
	fa, fb := la <= exampleBudget, lb <= exampleBudget
	if fa != fb {
		return fa
	}
	if la != lb {
		if fa {
			return la > lb
		}
		return la < lb
	}
	return a.URL+a.Request < b.URL+b.Request
}

func success(status int) bool { return status >= 200 && status < 300 }
