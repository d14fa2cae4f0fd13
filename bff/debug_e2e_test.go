package bff_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"zwfw/bff"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Profiles are off unless ZWFW_DEBUG_ADDR is set, and never on the API's
// listener.
func TestDebugListenerOffByDefault(t *testing.T) {
	s := start(t)
	if addr := s.app.DebugAddr(); addr != "" {
		t.Fatalf("a debug listener runs at %s without ZWFW_DEBUG_ADDR", addr)
	}
	if status, _ := get(t, s.base+"/debug/pprof/"); status != http.StatusNotFound {
		t.Fatalf("the API listener answers /debug/pprof/ with %d, want 404", status)
	}
}

func TestDebugListenerServesProfiles(t *testing.T) {
	s := start(t, func(c *bff.Config) { c.DebugAddr = "127.0.0.1:0" })
	addr := s.app.DebugAddr()
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("debug listener at %q, want loopback", addr)
	}
	status, body := get(t, "http://"+addr+"/debug/pprof/")
	if status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("/debug/pprof/: %d %.200s", status, body)
	}
	if status, body := get(t, "http://"+addr+"/debug/pprof/goroutine?debug=1"); status != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Fatalf("/debug/pprof/goroutine: %d %.200s", status, body)
	}
	if status, _ := get(t, "http://"+addr+"/debug/pprof/profile?seconds=1"); status != http.StatusOK {
		t.Fatalf("/debug/pprof/profile: %d", status)
	}
	if status, _ := get(t, s.base+"/debug/pprof/"); status != http.StatusNotFound {
		t.Fatalf("the API listener answers /debug/pprof/ with %d, want 404", status)
	}
	if status, _ := get(t, "http://"+addr+"/api/v1/items"); status != http.StatusNotFound {
		t.Fatalf("the debug listener serves the API (%d)", status)
	}
}
