//go:build unix && !linux

package main

import "syscall"

// sysProcAttr puts a server in its own process group. (Only Linux can also
// have the kernel kill it when the tool dies; the tool needs Linux's /proc
// for its memory figures anyway.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
