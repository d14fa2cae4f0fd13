//go:build !linux

package childproc

import "os/exec"

// setDeathSignal: only Linux can tie a child's life to its parent's; the
// parent's own signal handler ends the children (StopAll) elsewhere.
func setDeathSignal(*exec.Cmd) {}
