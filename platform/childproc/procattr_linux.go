package childproc

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the child if the parent dies, so a
// killed run leaves no zwfw or redis-server behind.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
