package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// tally counts what zwfw answered during a scenario: every request, and
// the refusals and failures by HTTP status and error code.
type tally struct {
	mu       sync.Mutex
	requests int
	errors   map[string]int
}

func newTally() *tally { return &tally{errors: map[string]int{}} }

func (t *tally) record(r reply) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	if k := r.errorKey(); k != "" {
		t.errors[k]++
	}
}

// recordKey counts a request whose failure the caller classified.
func (t *tally) recordKey(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	t.errors[key]++
}

// summary is "409 BOOKING_STATE_CONFLICT×19, 503 conn refused×3", most first.
func (t *tally) summary() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.errors))
	for k := range t.errors {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if t.errors[keys[i]] != t.errors[keys[j]] {
			return t.errors[keys[i]] > t.errors[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, t.errors[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// reply is one answer (or a transport failure: status 0 and err).
type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (r reply) ok() bool       { return r.err == nil && r.status/100 == 2 }
func (r reply) replayed() bool { return r.header.Get("Idempotent-Replayed") == "true" }

// code is the error code of a JSON error answer.
func (r reply) code() string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Code
}

// errorKey is how the tally files a failed answer: "409 CODE", or the kind
// of transport failure ("connection refused" while zwfw is down).
func (r reply) errorKey() string {
	switch {
	case r.err != nil:
		switch {
		case errors.Is(r.err, syscall.ECONNREFUSED):
			return "connection refused"
		case errors.Is(r.err, syscall.ECONNRESET), errors.Is(r.err, io.EOF), errors.Is(r.err, io.ErrUnexpectedEOF):
			return "connection reset"
		case errors.Is(r.err, context.DeadlineExceeded):
			return "timeout"
		}
		return "transport error"
	case r.status/100 == 2:
		return ""
	}
	if c := r.code(); c != "" {
		return fmt.Sprintf("%d %s", r.status, c)
	}
	return fmt.Sprint(r.status)
}

func (r reply) json(v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("decode %d %.300s: %w", r.status, r.body, err)
	}
	return nil
}

func (r reply) m() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return m
}

func (r reply) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("%d %.400s", r.status, r.body)
}

// request is one HTTP call.
type request struct {
	method, url string
	body        []byte
	ctype       string
	headers     map[string]string
}

func jsonRequest(method, url string, body any) request {
	r := request{method: method, url: url}
	if body != nil {
		b, _ := json.Marshal(body)
		r.body, r.ctype = b, "application/json"
	}
	return r
}

func (r request) with(k, v string) request {
	h := map[string]string{}
	for a, b := range r.headers {
		h[a] = b
	}
	h[k] = v
	r.headers = h
	return r
}

func (d *deployment) do(ctx context.Context, rq request) reply {
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, rq.url, body)
	if err != nil {
		return reply{err: err}
	}
	if rq.ctype != "" {
		req.Header.Set("Content-Type", rq.ctype)
	}
	for k, v := range rq.headers {
		req.Header.Set(k, v)
	}
	res, err := d.http.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b, err: err}
}

// sb drives the sandbox (what happens outside zwfw) and wants a 2xx; out
// receives the JSON answer when not nil.
func (d *deployment) sb(ctx context.Context, method, path string, body, out any) error {
	r := d.do(ctx, jsonRequest(method, d.sbURL+path, body))
	if !r.ok() {
		return fmt.Errorf("sandbox %s %s: %s", method, path, r)
	}
	if out != nil {
		return r.json(out)
	}
	return nil
}

// volley sends the requests all at the same moment and returns the answers
// in order, each recorded in t.
func (d *deployment) volley(ctx context.Context, t *tally, reqs []request) []reply {
	out := make([]reply, len(reqs))
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			out[i] = d.do(ctx, reqs[i])
			t.record(out[i])
		}()
	}
	close(ready)
	wg.Wait()
	return out
}
