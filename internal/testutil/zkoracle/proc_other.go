//go:build !linux

package zkoracle

import (
	"os"
	"syscall"
)

// sysProcAttr: outside Linux (where the Debian packages do not exist anyway) the JVM is a plain
// child process.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the process.
func killGroup(p *os.Process) { _ = p.Kill() }
