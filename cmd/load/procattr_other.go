//go:build !linux

package main

import "os/exec"

// setDeathSignal: only Linux can tie a child's life to its parent's; the
// harness's own signal handler ends the children elsewhere.
func setDeathSignal(*exec.Cmd) {}
