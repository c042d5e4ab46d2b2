package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

// dumpTree reads every node (path, data, full Stat, ACL) over the protocol.
func dumpTree(t *testing.T, r *raw) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(p string)
	walk = func(p string) {
		var g proto.GetDataResponse
		if code := r.call(proto.OpGetData, &proto.GetDataRequest{Path: p}, &g); code != 0 {
			t.Fatalf("getData %s: %v", p, code)
		}
		var a proto.GetACLResponse
		if code := r.call(proto.OpGetACL, &proto.GetACLRequest{Path: p}, &a); code != 0 {
			t.Fatalf("getACL %s: %v", p, code)
		}
		out[p] = fmt.Sprintf("data=%q stat=%+v acl=%v", g.Data, g.Stat, a.Acl)
		var c proto.GetChildrenResponse
		if code := r.call(proto.OpGetChildren, &proto.GetChildrenRequest{Path: p}, &c); code != 0 {
			t.Fatalf("getChildren %s: %v", p, code)
		}
		for _, ch := range c.Children {
			if p == "/" {
				walk("/" + ch)
			} else {
				walk(p + "/" + ch)
			}
		}
	}
	walk("/")
	return out
}

func TestRestartRecoversTheSameTree(t *testing.T) {
	for _, tc := range []struct{ snapCount, preAllocKB int }{
		{100000, 0}, // log replay only
		{40, 0},     // snapshots + log tail
		{40, 4},     // many small log segments: those before the snapshot are not read
	} {
		snapCount := tc.snapCount
		t.Run(fmt.Sprintf("snapCount=%d,preAllocSize=%dk", snapCount, tc.preAllocKB), func(t *testing.T) {
			dir := t.TempDir()
			cfgFn := func(c *config.Config) {
				c.SnapCount = snapCount
				c.ExtendedTypesEnabled = true
				if tc.preAllocKB > 0 {
					c.PreAllocSizeKB = tc.preAllocKB
				}
			}
			s1 := warrentest.Start(t, &warrentest.Options{DataDir: dir, Config: cfgFn})
			r := dial(t, s1.Addr)
			r.connect(30000, 0, nil, true)
			for i := 0; i < 60; i++ {
				p := fmt.Sprintf("/d%d", i%7)
				if i < 7 {
					r.call(proto.OpCreate, &proto.CreateRequest{Path: p, Data: []byte("x"), Acl: open}, nil)
					continue
				}
				switch i % 4 {
				case 0:
					r.call(proto.OpCreate, &proto.CreateRequest{Path: p + "/s-", Data: []byte(fmt.Sprint(i)), Acl: open, Flags: proto.ModePersistentSequential}, nil)
				case 1:
					r.call(proto.OpSetData, &proto.SetDataRequest{Path: p, Data: []byte(fmt.Sprint("v", i)), Version: -1}, nil)
				case 2:
					r.call(proto.OpCreate, &proto.CreateRequest{Path: p + "/e-", Acl: open, Flags: proto.ModeEphemeralSequential}, nil)
				case 3:
					r.call(proto.OpSetACL, &proto.SetACLRequest{Path: p, Acl: []proto.ACL{{Perms: proto.PermAll, Id: proto.AnyoneID}, {Perms: proto.PermRead, Id: proto.Id{Scheme: "ip", Id: "10.0.0.0/8"}}}, Version: -1}, nil)
				}
			}
			r.call(proto.OpCreate, &proto.CreateRequest{Path: "/c", Acl: open, Flags: proto.ModeContainer}, nil)
			r.call(proto.OpDelete, &proto.DeleteRequest{Path: "/d0/s-0000000000", Version: -1}, nil)
			before := dumpTree(t, r)
			sid, pw := r.sid, r.pw
			s1.Stop()
			// A snapshot whose writing a crash interrupted is removed at start.
			stale := filepath.Join(server.SnapDir(dir), "snap-00000000000000ff-0000000000000001.snap.tmp")
			if err := os.WriteFile(stale, []byte("half a snapshot"), 0o644); err != nil {
				t.Fatal(err)
			}

			s2 := warrentest.Start(t, &warrentest.Options{DataDir: dir, Config: cfgFn})
			q := dial(t, s2.Addr)
			// The session survives the restart: reattach with its password.
			if resp := q.connect(30000, sid, pw, true); resp.SessionID != sid {
				t.Fatalf("session lost across restart: %+v", resp)
			}
			if _, err := os.Stat(stale); !os.IsNotExist(err) {
				t.Errorf("unfinished snapshot file left in place: %v", err)
			}
			if segs, _ := filepath.Glob(filepath.Join(server.WALDir(dir), "wal-*.wal")); tc.preAllocKB > 0 && len(segs) < 3 {
				t.Errorf("want several log segments with preAllocSize=%dk, got %d", tc.preAllocKB, len(segs))
			}
			after := dumpTree(t, q)
			if d := cmp.Diff(before, after); d != "" {
				t.Fatalf("tree differs after restart (-before +after):\n%s", d)
			}
			// Sequential numbering continues without reuse.
			var cr proto.CreateResponse
			if code := q.call(proto.OpCreate, &proto.CreateRequest{Path: "/d1/s-", Acl: open, Flags: proto.ModePersistentSequential}, &cr); code != 0 {
				t.Fatalf("sequential create after restart: %v", code)
			}
			if _, dup := before[cr.Path]; dup || !strings.HasPrefix(cr.Path, "/d1/s-") {
				t.Fatalf("sequential create after restart reused or bad name %q", cr.Path)
			}
			snaps, _ := filepath.Glob(filepath.Join(server.SnapDir(dir), "snap-*.snap"))
			initial := filepath.Join(server.SnapDir(dir), "snap-0000000000000001-0000000000000001.snap")
			for i, p := range snaps {
				if p == initial { // every data directory starts from the initial snapshot
					snaps = append(snaps[:i], snaps[i+1:]...)
					break
				}
			}
			if snapCount == 40 && len(snaps) == 0 {
				t.Fatal("no snapshot written with snapCount=40 after >70 entries")
			}
			if snapCount == 100000 && len(snaps) != 0 {
				t.Fatalf("unexpected snapshots: %v", snaps)
			}
		})
	}
}

func TestCorruptLogRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	s1 := warrentest.Start(t, &warrentest.Options{DataDir: dir})
	r := dial(t, s1.Addr)
	r.connect(30000, 0, nil, true)
	for i := 0; i < 20; i++ {
		r.call(proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/n%d", i), Data: []byte("payload"), Acl: open}, nil)
	}
	s1.Stop()
	segs, _ := filepath.Glob(filepath.Join(server.WALDir(dir), "wal-*.wal"))
	if len(segs) != 1 {
		t.Fatalf("segments: %v", segs)
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	// Flip a bit inside the first entry record (committed data, followed by
	// more committed batches).
	b[200] ^= 0x40
	if err := os.WriteFile(segs[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir, cfg.DataLogDir, cfg.ClientPort = dir, dir, 0
	cfg.AdminEnableServer = false
	srv := server.New(cfg, server.Options{})
	err = srv.Start(t.Context())
	if err == nil {
		srv.Stop()
		t.Fatal("server started on a log with damaged committed data")
	}
	if !strings.Contains(err.Error(), segs[0]) || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("error does not name the file and offset: %v", err)
	}
}
