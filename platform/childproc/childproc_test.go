package childproc

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A child's output lands in its log (appended across starts), a line is
// waited for, and a crash and an orderly stop both end it.
func TestStartLogAndEnd(t *testing.T) {
	log := filepath.Join(t.TempDir(), "child.log")
	p, err := Start("echo", log, "/bin/sh", BaseEnv(), "-c", "echo ready: 42; sleep 30")
	if err != nil {
		t.Fatal(err)
	}
	rest, err := p.WaitLine(context.Background(), "ready: ", 10*time.Second)
	if err != nil || rest != "42" {
		t.Fatalf("line %q, %v", rest, err)
	}
	p.Kill9()
	if !p.Exited() {
		t.Fatal("alive after kill -9")
	}
	q, err := Start("again", log, "/bin/sh", BaseEnv(), "-c", "echo second; sleep 30")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.WaitLine(context.Background(), "second", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	StopAll(time.Second)
	if !q.Exited() || !strings.Contains(q.Output(), "ready: 42\nsecond") {
		t.Fatalf("exited %v, log %q", q.Exited(), q.Output())
	}
}
