// Package childproc runs the real binaries (zwfw, the sandbox,
// redis-server) as child processes for the fault suite (cmd/chaos) and the
// load harness (cmd/load): each child's output goes to its own log file,
// the kernel kills it if the parent dies (Linux), and every child still
// running can be ended at once, so an interrupted run leaves nothing behind.
package childproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a running (or ended) child process.
type Proc struct {
	Name string
	Log  string // its output, appended
	cmd  *exec.Cmd
	done chan struct{}
}

// children are the processes started and not yet reaped.
var children sync.Map // *Proc -> struct{}

// Start starts bin with env and args, its output appended to logPath (a
// process restarted with the same log keeps its earlier lines).
func Start(name, logPath, bin string, env []string, args ...string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	children.Store(p, struct{}{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		children.Delete(p)
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the child has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill9 is a crash: SIGKILL, nothing flushed, no shutdown code runs.
func (p *Proc) Kill9() {
	if p == nil || p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop asks the child to shut down in order (SIGTERM) and waits, killing
// it after grace.
func (p *Proc) Stop(grace time.Duration) {
	if p == nil || p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill9()
	}
}

// Output is everything the child wrote to its log.
func (p *Proc) Output() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}

// Tail is the end of the child's log, for reports of what went wrong.
func (p *Proc) Tail(n int) string {
	b := p.Output()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return b
}

// WaitLine waits up to limit for a line starting with prefix in the
// child's output and returns the rest of it.
func (p *Proc) WaitLine(ctx context.Context, prefix string, limit time.Duration) (string, error) {
	deadline := time.Now().Add(limit)
	for {
		for _, l := range strings.Split(p.Output(), "\n") {
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				return rest, nil
			}
		}
		if p.Exited() || time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("%s printed no %q line:\n%s", p.Name, strings.TrimSpace(prefix), p.Tail(3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StopAll ends every child still running (an interrupted run), each given
// grace to shut down in order (0: killed at once).
func StopAll(grace time.Duration) {
	children.Range(func(k, _ any) bool {
		if grace == 0 {
			k.(*Proc).Kill9()
		} else {
			k.(*Proc).Stop(grace)
		}
		return true
	})
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// BaseEnv is what every child inherits: a clean environment, so a
// MONGODB_URI or REDIS_URL of the developer's shell cannot leak in.
func BaseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
