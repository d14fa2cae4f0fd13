package apispec

import (
	"strings"
	"testing"
)

const sample = `openapi: 3.0.3
info: {title: t, version: 1.0.0}
paths:
  /a/{id}:
    post:
      operationId: postA # a comment that stays
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object}
              examples:
                old: {value: {stale: true}}
        '400': {$ref: '#/components/responses/Shared'}
  /b:
    get:
      operationId: getB
      responses:
        '201': {$ref: '#/components/responses/Shared'}
    put:
      operationId: putB
      responses:
        '201': {$ref: '#/components/responses/Shared'}
components:
  responses:
    Shared:
      description: shared
      content:
        application/json:
          schema: {type: object}

    Other:
      description: other
`

func TestWriteExamplesPlacesEachUnderItsMediaType(t *testing.T) {
	recs := []Recorded{
		{Method: "POST", Path: "/a/{id}", URL: "/a/7?x=1", Status: 200, RequestType: "application/json",
			Request:      `{"name":"张三","refresh_token":"r.secret"}`,
			ResponseType: "application/json", Response: `{"id":"7","items":[1,2,3,4],"access_token":"eyJ.secret","at":"2026-12-07T10:00:00+08:00","n":"123"}`},
		{Method: "GET", Path: "/b", URL: "/b", Status: 201, ResponseType: "application/json", Response: `{"b":true}`},
		{Method: "PUT", Path: "/b", URL: "/b", Status: 201, ResponseType: "application/json", Response: `{"b":false}`},
		{Method: "GET", Path: "/gone", URL: "/gone", Status: 200, ResponseType: "application/json", Response: `{}`},
	}
	out, skipped, err := WriteExamples([]byte(sample), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0] != "GET /gone" {
		t.Errorf("skipped = %v, want the operation the spec does not have", skipped)
	}
	got := string(out)
	for _, want := range []string{
		"      operationId: postA # a comment that stays\n",
		// the request body, keyed by operationId, token replaced
		"          application/json:\n            schema: {type: object}\n            examples:\n              postA:\n                summary: POST /a/7?x=1\n                value:\n                  name: 张三\n                  refresh_token: <refresh token>\n",
		// the response: the old examples block replaced, arrays cut, strings quoted only where YAML needs it
		"              schema: {type: object}\n              examples:\n                postA:\n                  summary: POST /a/7?x=1 → 200\n                  value:\n                    id: \"7\"\n                    items:\n                      - 1\n                      - 2\n                    access_token: <access token (JWT)>\n                    at: \"2026-12-07T10:00:00+08:00\"\n                    n: \"123\"\n        '400'",
		// a shared response gets one example per operation, and the blank line after it stays
		"          schema: {type: object}\n          examples:\n            getB:\n              summary: GET /b → 201\n              value:\n                b: true\n            putB:\n              summary: PUT /b → 201\n              value:\n                b: false\n\n    Other:\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing\n%s\nin\n%s", want, got)
		}
	}
	if strings.Contains(got, "stale") || strings.Contains(got, "secret") {
		t.Errorf("old example or a token left:\n%s", got)
	}
	again, _, err := WriteExamples(out, recs)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != got {
		t.Errorf("a second run changed the spec:\n%s", again)
	}
}

func TestWriteExamplesRefusesAFlowMediaType(t *testing.T) {
	spec := strings.Replace(sample, "          application/json:\n            schema: {type: object}\n      responses:",
		"          application/json: {schema: {type: object}}\n      responses:", 1)
	_, _, err := WriteExamples([]byte(spec), []Recorded{{Method: "POST", Path: "/a/{id}", URL: "/a/1", Status: 200,
		RequestType: "application/json", Request: `{}`}})
	if err == nil || !strings.Contains(err.Error(), "block mapping") {
		t.Fatalf("err = %v, want a request to write the media type as a block", err)
	}
}

func TestBodyValueOfFormsAndText(t *testing.T) {
	form, err := render(bodyValue("application/x-www-form-urlencoded", "sign=abc&out_trade_no=o_1&a=%E4%B8%AD"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(form, "\n"); got != "a: 中\nout_trade_no: o_1\nsign: abc" {
		t.Errorf("form = %q", got)
	}
	long := strings.Repeat("metric 1\n", 50)
	if v := bodyValue("text/plain", long); strings.Count(v.Value, "\n") != maxTextLines {
		t.Errorf("text kept %d lines, want %d", strings.Count(v.Value, "\n"), maxTextLines)
	}
	doc := bodyValue("application/json", `{"openapi":"3.0.3","info":{"title":"t"},"paths":{"/x":{}}}`)
	if _, paths := child(doc, "paths"); paths != nil {
		t.Error("the OpenAPI document's example keeps its paths")
	}
}

func TestBetterPrefersASuccessThenTheRichestWithinBudget(t *testing.T) {
	small := Recorded{Status: 200, Response: `{}`}
	rich := Recorded{Status: 200, Response: `{"items":[` + strings.Repeat(`1,`, 100) + `1]}`}
	huge := Recorded{Status: 200, Response: strings.Repeat("x", exampleBudget+1)}
	huger := Recorded{Status: 200, Response: strings.Repeat("x", exampleBudget+2)}
	for _, c := range []struct {
		name string
		a, b Recorded
		want bool
	}{
		{"a success over an error", Recorded{Status: 201}, Recorded{Status: 400, Response: `{"code":"X"}`}, true},
		{"200 over 202", Recorded{Status: 200}, Recorded{Status: 202}, true},
		{"one with a request body", Recorded{Status: 200, Request: `{}`}, rich, true},
		{"richer within the budget", rich, small, true},
		{"poorer within the budget", small, rich, false},
		{"within the budget over beyond it", small, huge, true},
		{"smaller beyond the budget", huge, huger, true},
		{"not better than itself", rich, rich, false},
	} {
		if got := Better(c.a, c.b); got != c.want {
			t.Errorf("%s: Better = %v, want %v", c.name, got, c.want)
		}
	}
}

// A refused call shows its answer, never its (perhaps malformed) request.
func TestWriteExamplesShowsNoRequestOfARefusedCall(t *testing.T) {
	out, _, err := WriteExamples([]byte(sample), []Recorded{{Method: "POST", Path: "/a/{id}", URL: "/a/1", Status: 400,
		RequestType: "application/json", Request: `{"bad":true}`, ResponseType: "application/json", Response: `{"code":"REQUEST_INVALID"}`}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "bad: true") {
		t.Errorf("the refused request was written:\n%s", out)
	}
	if !strings.Contains(string(out), "          examples:\n            postA:\n              summary: POST /a/1 → 400\n              value:\n                code: REQUEST_INVALID\n") {
		t.Errorf("the refusal was not written into the shared error answer:\n%s", out)
	}
}
