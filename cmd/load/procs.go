package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a child process (zwfw, redis-server, the bare Fiber server) whose
// output goes to a log file in the results directory.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// children are the processes started and not yet reaped, so an interrupted
// run leaves nothing behind.
var children sync.Map // *proc -> struct{}

func startProc(name, logPath, bin string, env []string, args ...string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
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
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	children.Store(p, struct{}{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		children.Delete(p)
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process to end (SIGTERM) and kills it after grace.
func (p *proc) stop(grace time.Duration) {
	if p == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// tail is the end of the process's log, for reports of what went wrong.
func (p *proc) tail(n int) string {
	b := p.output()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return b
}

// waitLine waits for a line starting with prefix in p's output and
// returns the rest of it.
func (p *proc) waitLine(ctx context.Context, prefix string, limit time.Duration) (string, error) {
	deadline := time.Now().Add(limit)
	for {
		for _, l := range strings.Split(p.output(), "\n") {
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				return rest, nil
			}
		}
		if p.exited() || time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("%s printed no %q line:\n%s", p.name, strings.TrimSpace(prefix), p.tail(3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killChildren ends every process still running (an interrupted run).
func killChildren() {
	children.Range(func(k, _ any) bool {
		k.(*proc).stop(5 * time.Second)
		return true
	})
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func freeAddr() (string, error) {
	p, err := freePort()
	return fmt.Sprintf("127.0.0.1:%d", p), err
}

// buildZwfw compiles zwfw into dir, as a deployment ships it.
func buildZwfw(ctx context.Context, goBin, dir string) (string, error) {
	out := filepath.Join(dir, "zwfw")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/zwfw")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/zwfw: %v\n%s", err, b)
	}
	return out, nil
}

// baseEnv is what every child inherits: a clean environment, so a
// MONGODB_URI or REDIS_URL of the developer's shell cannot leak in.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
