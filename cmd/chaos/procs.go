package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// proc is a child process (zwfw, the sandbox, redis-server) whose output
// goes to a log file in the scenario's directory.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// children are every process the suite started and has not reaped, so an
// interrupted run leaves nothing behind.
var children sync.Map // *proc -> struct{}

func startProc(name, logPath, bin string, env []string, args ...string) (*proc, error) {
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

// kill9 is a crash: SIGKILL, nothing flushed, no shutdown code runs.
func (p *proc) kill9() {
	if p == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the process to shut down in order (SIGTERM) and waits, killing
// it after grace.
func (p *proc) stop(grace time.Duration) {
	if p == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill9()
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

// killChildren ends every process still running (an interrupted run).
func killChildren() {
	children.Range(func(k, _ any) bool {
		k.(*proc).kill9()
		return true
	})
}

// buildBinaries compiles zwfw and the sandbox into dir once per run, as a
// deployment would ship them.
func buildBinaries(ctx context.Context, goBin, dir string) error {
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", dir+string(os.PathSeparator), "./cmd/zwfw", "./cmd/sandbox")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	for _, b := range []string{"zwfw", "sandbox"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return fmt.Errorf("go build left no %s: %w", b, err)
		}
	}
	return nil
}
