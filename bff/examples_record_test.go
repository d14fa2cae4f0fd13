package bff_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"zwfw/bff/apispec"
)

// ZWFW_RECORD_EXAMPLES names a directory: every validated success response
// becomes a candidate example of its operation, and the best one per
// operation is kept there as JSON (apispec.Recorded). `make examples`
// runs the tests so and writes the examples into openapi.yaml.
var recordedExamples = newExampleRecorder(os.Getenv("ZWFW_RECORD_EXAMPLES"))

type exampleRecorder struct {
	dir  string
	mu   sync.Mutex
	best map[string]apispec.Recorded
}

func newExampleRecorder(dir string) *exampleRecorder {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err)
	}
	return &exampleRecorder{dir: dir, best: map[string]apispec.Recorded{}}
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// record keeps the exchange when it is a better example of the operation
// than the one kept so far (apispec.Better decides).
func (e *exampleRecorder) record(req *http.Request, specPath string, r *response) {
	if e == nil {
		return
	}
	rec := apispec.Recorded{
		Method: req.Method, Path: specPath, URL: req.URL.RequestURI(), Status: r.Status,
		ResponseType: mediaType(r.Header.Get("Content-Type")), Response: string(r.Body),
	}
	if req.GetBody != nil && req.ContentLength != 0 {
		rec.RequestType = mediaType(req.Header.Get("Content-Type"))
		if body, err := req.GetBody(); err == nil {
			raw, _ := io.ReadAll(body)
			rec.Request = string(raw)
			if rec.RequestType == "multipart/form-data" {
				rec.Request = multipartFields(req.Header.Get("Content-Type"), raw)
			}
		}
	}
	key := req.Method + " " + specPath
	e.mu.Lock()
	defer e.mu.Unlock()
	if old, ok := e.best[key]; ok && !apispec.Better(rec, old) {
		return
	}
	e.best[key] = rec
	raw, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		panic(err)
	}
	name := filepath.Join(e.dir, unsafeFileChars.ReplaceAllString(strings.ToLower(key), "_")+".json")
	if err := os.WriteFile(name+".tmp", raw, 0o644); err != nil {
		panic(err)
	}
	if err := os.Rename(name+".tmp", name); err != nil {
		panic(err)
	}
}

// multipartFields is a multipart body as JSON of its fields, each file
// named with its size instead of its bytes.
func multipartFields(contentType string, body []byte) string {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	fields := map[string]string{}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		raw, _ := io.ReadAll(p)
		if p.FileName() != "" {
			fields[p.FormName()] = fmt.Sprintf("(%s, %d bytes)", p.FileName(), len(raw))
			continue
		}
		fields[p.FormName()] = string(raw)
	}
	out, _ := json.Marshal(fields)
	return string(out)
}

func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return mt
}
