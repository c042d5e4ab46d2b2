package main

import (
	"fmt"
	"testing"

	"github.com/warren-zk/warren/internal/testutil/deps"
)

// lookupTB lets the tool use internal/testutil/deps, the one place that
// knows where the Debian packages put java and the ZooKeeper jars. Its
// lookups report a missing package through a testing.TB; this one records
// the message instead of skipping or failing a test. Only the methods below
// are called (the embedded interface is nil).
type lookupTB struct {
	testing.TB
	missing string
}

func (l *lookupTB) Helper()                   {}
func (l *lookupTB) Logf(string, ...any)       {}
func (l *lookupTB) Cleanup(func())            {}
func (l *lookupTB) Skipf(f string, a ...any)  { l.note(f, a...) }
func (l *lookupTB) Fatalf(f string, a ...any) { l.note(f, a...) }
func (l *lookupTB) Errorf(f string, a ...any) { l.note(f, a...) }
func (l *lookupTB) note(f string, a ...any) {
	if l.missing == "" {
		l.missing = fmt.Sprintf(f, a...)
	}
}

// findZooKeeper returns java and the ZooKeeper server classpath, or an error
// saying which Debian package to install (`make deps`).
func findZooKeeper() (java, classpath string, err error) {
	tb := &lookupTB{}
	java = deps.Java(tb)
	if tb.missing == "" {
		classpath = deps.ZooKeeperClasspath(tb)
	}
	if tb.missing != "" {
		return "", "", fmt.Errorf("Apache ZooKeeper cannot be run: %s", tb.missing)
	}
	return java, classpath, nil
}
