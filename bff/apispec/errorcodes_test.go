package apispec

import (
	"strings"
	"testing"
)

const codesSample = `openapi: 3.0.3
components:
  schemas:
    Error:
      type: object
      properties:
        code: {$ref: '#/components/schemas/ErrorCode'}
    User: {type: object}
`

func TestWriteErrorCodesAddsThenReplacesTheList(t *testing.T) {
	codes := []Code{
		{Code: "B_CODE", Status: 409, Message: "冲突"},
		{Code: "A_CODE", Status: 400, Message: "请求参数有误"},
	}
	out, err := WriteErrorCodes([]byte(codesSample), codes)
	if err != nil {
		t.Fatal(err)
	}
	want := "        code: {$ref: '#/components/schemas/ErrorCode'}\n    ErrorCode:\n"
	if !strings.Contains(string(out), want) {
		t.Fatalf("ErrorCode not added after Error:\n%s", out)
	}
	for _, s := range []string{"        - A_CODE\n        - B_CODE\n", "        - HTTP 400：请求参数有误\n        - HTTP 409：冲突\n", "    User: {type: object}\n"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("missing %q in\n%s", s, out)
		}
	}
	again, err := WriteErrorCodes(out, codes)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(out) {
		t.Errorf("a second run changed the spec:\n%s", again)
	}
	fewer, err := WriteErrorCodes(out, codes[:1])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(fewer), "A_CODE") || strings.Count(string(fewer), "ErrorCode:") != 1 {
		t.Errorf("the list was not replaced as a whole:\n%s", fewer)
	}
}
