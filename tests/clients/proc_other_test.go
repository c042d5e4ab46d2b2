//go:build !linux

package clients

import "os/exec"

// setProcessGroup: outside Linux (where the Debian packages do not exist anyway) the command is
// a plain child process.
func setProcessGroup(cmd *exec.Cmd) {}
