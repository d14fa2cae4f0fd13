package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
)

// The seeding client: plain net/http, one call at a time per goroutine.

var httpc = &http.Client{Timeout: 2 * time.Minute,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}

// reply is one answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("%d %.400s", r.status, r.body) }

func (r reply) decode(v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("decode %s: %w", r, err)
	}
	return nil
}

// call sends one request; hdr are header name, value pairs. A JSON body is
// marshalled; a []byte body goes as it is (with its content type in hdr).
func call(ctx context.Context, method, url string, body any, hdr ...string) (reply, error) {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return reply{}, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := httpc.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b}, err
}

// want is call that must answer one of the statuses; out, when not nil,
// receives the JSON answer.
func want(ctx context.Context, status int, method, url string, body, out any, hdr ...string) error {
	r, err := call(ctx, method, url, body, hdr...)
	if err != nil {
		return err
	}
	if r.status != status {
		return fmt.Errorf("%s %s: %s, want %d", method, url, r, status)
	}
	if out != nil {
		return r.decode(out)
	}
	return nil
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range n {
		g.Go(func() error { return f(ctx, i) })
	}
	return g.Wait()
}
