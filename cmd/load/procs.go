package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"zwfw/platform/childproc"
)

// startProc starts a child whose log starts empty: a results directory
// reused by a later run must not offer its old lines to WaitLine.
func startProc(name, logPath, bin string, env []string, args ...string) (*childproc.Proc, error) {
	if err := os.Remove(logPath); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return childproc.Start(name, logPath, bin, env, args...)
}

func freeAddr() (string, error) {
	p, err := childproc.FreePort()
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
