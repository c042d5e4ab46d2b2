//go:build linux

package main

import "syscall"

// sysProcAttr puts a server in its own process group (a kill of the group
// reaches anything a JVM spawned) and has the kernel kill it if the thread
// that started it dies, so a crashed or killed benchcompare leaves no server
// behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
