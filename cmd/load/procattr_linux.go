package main

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the child if the harness itself dies,
// so a killed run leaves no zwfw, redis-server or bare server behind.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
