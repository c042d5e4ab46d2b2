package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/snap"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.cfg")
	os.WriteFile(good, []byte("tickTime=2000\ndataDir="+dir+"\nclientPort=2181\n"), 0o644)
	bad := filepath.Join(dir, "bad.cfg")
	os.WriteFile(bad, []byte("tickTime=abc\nclientPort=2181\nfancyKey=1\n"), 0o644)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"good", []string{"-t", good}, 0, []string{"configuration OK"}},
		{"bad", []string{"-t", bad}, 1, []string{"bad.cfg:1: tickTime", "dataDir", "bad.cfg:3: fancyKey"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := runServer(tc.args, &out, &errb); code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out.String(), errb.String())
			}
			for _, c := range tc.contains {
				if !strings.Contains(out.String(), c) {
					t.Errorf("output lacks %q:\n%s", c, out.String())
				}
			}
		})
	}
}

func TestDumpAndPurge(t *testing.T) {
	dir := t.TempDir()
	s := warrentest.Start(t, &warrentest.Options{DataDir: dir, Config: func(c *config.Config) { c.SnapCount = 20 }})
	c, _, err := zk.Connect([]string{s.Addr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 150; i++ {
		if _, err := c.Create(fmt.Sprintf("/dump%d", i), []byte("v"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	s.Stop() // waits for snapshots in progress

	var out, errb bytes.Buffer
	if code := runDump([]string{dir}, &out, &errb); code != 0 {
		t.Fatalf("dump exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"op=createSession", "op=create path=/dump149", "op=closeSession", "snapshot snap-"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dump lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "zxid=?") {
		t.Errorf("dump could not number entries:\n%s", out.String())
	}
	snaps, _ := snap.List(server.SnapDir(dir))
	if len(snaps) < 4 {
		t.Fatalf("want at least 4 snapshots to purge, have %d", len(snaps))
	}
	out.Reset()
	if code := runPurge([]string{"-n", "3", dir}, &out, &errb); code != 0 {
		t.Fatalf("purge exit %d: %s", code, errb.String())
	}
	left, _ := snap.List(server.SnapDir(dir))
	if len(left) != 3 || left[0].Index != snaps[0].Index {
		t.Fatalf("after purge: %d snapshots (newest %d), want the newest 3", len(left), left[0].Index)
	}
	// The purged directory still starts and has every node.
	s2 := warrentest.Start(t, &warrentest.Options{DataDir: dir})
	c2, _, err := zk.Connect([]string{s2.Addr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	ch, _, err := c2.Children("/")
	if err != nil || len(ch) != 151 {
		t.Fatalf("after purge and restart: %d children, err %v", len(ch), err)
	}
}
