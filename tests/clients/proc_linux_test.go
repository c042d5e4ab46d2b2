//go:build linux

package clients

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the command in its own process group and makes cancellation kill the
// whole group: zkCli.sh is a shell script that starts java as a child, and killing only the
// shell would leave the JVM holding the output pipe.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
}
