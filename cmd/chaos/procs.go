package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

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
