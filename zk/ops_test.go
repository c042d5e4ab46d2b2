package zk_test

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk"
)

var open = zk.WorldACL(zk.PermAll)

func testCreate(t *testing.T, e *env) {
	c := connect(t, e.addr)
	ctx := ctxT(t, 10*time.Second)
	r := root(t, c)
	for _, tc := range []struct {
		name string
		path string
		acl  []zk.ACL
		mode zk.CreateMode
		want zk.Code // 0: success
	}{
		{"persistent", r + "/a", open, zk.ModePersistent, 0},
		{"exists", r + "/a", open, zk.ModePersistent, zk.ErrNodeExists},
		{"root exists", "/", open, zk.ModePersistent, zk.ErrNodeExists},
		{"no parent", r + "/none/x", open, zk.ModePersistent, zk.ErrNoNode},
		{"empty ACL", r + "/b", []zk.ACL{}, zk.ModePersistent, zk.ErrInvalidACL},
		{"world:someone", r + "/b", []zk.ACL{{Perms: zk.PermAll, Scheme: "world", ID: "someone"}}, zk.ModePersistent, zk.ErrInvalidACL},
		{"auth ACL without auth", r + "/b", zk.AuthACL(zk.PermAll), zk.ModePersistent, zk.ErrInvalidACL},
		{"trailing slash", r + "/a/", open, zk.ModePersistent, zk.ErrBadArguments},
		{"unknown mode", r + "/b", open, zk.CreateMode(7), zk.ErrBadArguments},
		{"TTL mode without TTL", r + "/b", open, zk.ModePersistentWithTTL, zk.ErrBadArguments},
		{"ephemeral", r + "/e", open, zk.ModeEphemeral, 0},
		{"child of ephemeral", r + "/e/x", open, zk.ModePersistent, zk.ErrNoChildrenForEphemerals},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := c.Create(ctx, tc.path, []byte("x"), tc.acl, tc.mode)
			if tc.want != 0 {
				wantErr(t, "create", err, tc.want)
				return
			}
			ok(t, err)
			if p != tc.path {
				t.Fatalf("created %q, want %q", p, tc.path)
			}
		})
	}

	// Relative paths are refused by the client: they cannot take a chroot.
	_, err := c.Create(ctx, "relative", nil, open, zk.ModePersistent)
	wantErr(t, "relative create", err, zk.ErrBadArguments)

	// Sequential names: a 10-digit counter, increasing.
	p1 := of(c.Create(ctx, r+"/s-", nil, open, zk.ModePersistentSequential)).must(t)
	p2 := of(c.Create(ctx, r+"/s-", nil, open, zk.ModeEphemeralSequential)).must(t)
	re := regexp.MustCompile("^" + regexp.QuoteMeta(r) + `/s-\d{10}$`)
	if !re.MatchString(p1) || !re.MatchString(p2) || p2 <= p1 {
		t.Fatalf("sequential paths %q, %q", p1, p2)
	}

	// Null data stays null; empty stays empty.
	ok(t, err2(c.Create(ctx, r+"/null", nil, open, zk.ModePersistent)))
	ok(t, err2(c.Create(ctx, r+"/empty", []byte{}, open, zk.ModePersistent)))
	if d := of(get(c, ctx, r+"/null")).must(t); d != nil {
		t.Fatalf("null data read back as %q", d)
	}
	if d := of(get(c, ctx, r+"/empty")).must(t); d == nil || len(d) != 0 {
		t.Fatalf("empty data read back as %#v", d)
	}

	// Create2 returns the new node's stat.
	p, st, err := c.Create2(ctx, r+"/c2", []byte("abc"), open, zk.ModeEphemeral)
	ok(t, err)
	if p != r+"/c2" || st.Version != 0 || st.DataLength != 3 || st.EphemeralOwner != c.SessionID() || st.Czxid == 0 || st.Czxid != st.Mzxid {
		t.Fatalf("Create2 = %q %+v", p, st)
	}
	_, _, err = c.Create2(ctx, r+"/c2", nil, open, zk.ModePersistent)
	wantErr(t, "create2 again", err, zk.ErrNodeExists)

	// Containers and TTL nodes.
	ok(t, err2(c.CreateContainer(ctx, r+"/container", nil, open)))
	ok(t, err2(c.Create(ctx, r+"/container2", nil, open, zk.ModeContainer)))
	ok(t, err2(c.CreateTTL(ctx, r+"/ttl", nil, open, zk.ModePersistentWithTTL, time.Hour)))
	tp := of(c.CreateTTL(ctx, r+"/ttls-", nil, open, zk.ModePersistentSequential, time.Hour)).must(t)
	if !regexp.MustCompile(`/ttls-\d{10}$`).MatchString(tp) {
		t.Fatalf("sequential TTL path %q", tp)
	}
	_, err = c.CreateTTL(ctx, r+"/ttl0", nil, open, zk.ModePersistentWithTTL, 0)
	wantErr(t, "createTTL with ttl 0", err, zk.ErrBadArguments)
	for _, p := range []string{r + "/container", r + "/container2", r + "/ttl"} {
		if ok, _, err := c.Exists(ctx, p); err != nil || !ok {
			t.Fatalf("Exists(%s) = %v, %v", p, ok, err)
		}
	}
}

func err2[T any](_ T, err error) error { return err }

func get(c *zk.Conn, ctx context.Context, p string) ([]byte, error) {
	d, _, err := c.Get(ctx, p)
	return d, err
}

func testDeleteExistsGetSet(t *testing.T, e *env) {
	c := connect(t, e.addr)
	ctx := ctxT(t, 10*time.Second)
	r := root(t, c)
	n := r + "/n"

	_, _, err := c.Get(ctx, n)
	wantErr(t, "get missing", err, zk.ErrNoNode)
	if ok, _, err := c.Exists(ctx, n); ok || err != nil {
		t.Fatalf("Exists(missing) = %v, %v", ok, err)
	}
	_, err = c.Set(ctx, n, nil, -1)
	wantErr(t, "set missing", err, zk.ErrNoNode)
	wantErr(t, "delete missing", c.Delete(ctx, n, -1), zk.ErrNoNode)

	ok(t, err2(c.Create(ctx, n, []byte("v0"), open, zk.ModePersistent)))
	data, st, err := c.Get(ctx, n)
	ok(t, err)
	if string(data) != "v0" || st.Version != 0 || st.DataLength != 2 {
		t.Fatalf("Get = %q %+v", data, st)
	}
	exists, est, err := c.Exists(ctx, n)
	if !exists || err != nil || est != st {
		t.Fatalf("Exists = %v %+v %v, want %+v", exists, est, err, st)
	}
	_, err = c.Set(ctx, n, []byte("v1"), 1)
	wantErr(t, "set bad version", err, zk.ErrBadVersion)
	st1, err := c.Set(ctx, n, []byte("v1"), 0)
	ok(t, err)
	if st1.Version != 1 || st1.Mzxid <= st.Mzxid || st1.Czxid != st.Czxid {
		t.Fatalf("Set stat %+v after %+v", st1, st)
	}
	if d := of(get(c, ctx, n)).must(t); !bytes.Equal(d, []byte("v1")) {
		t.Fatalf("data %q after set", d)
	}

	ok(t, err2(c.Create(ctx, n+"/child", nil, open, zk.ModePersistent)))
	wantErr(t, "delete bad version", c.Delete(ctx, n, 0), zk.ErrBadVersion)
	wantErr(t, "delete non-empty", c.Delete(ctx, n, 1), zk.ErrNotEmpty)
	ok(t, c.Delete(ctx, n+"/child", 0))
	ok(t, c.Delete(ctx, n, 1))
	if ok, _, _ := c.Exists(ctx, n); ok {
		t.Fatal("node exists after delete")
	}
}

func testChildren(t *testing.T, e *env) {
	c := connect(t, e.addr)
	ctx := ctxT(t, 10*time.Second)
	r := root(t, c)
	for _, p := range []string{"/x", "/y", "/x/z"} {
		ok(t, err2(c.Create(ctx, r+p, nil, open, zk.ModePersistent)))
	}
	ch := of(c.Children(ctx, r)).must(t)
	if got := sorted(ch); !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("Children = %v", got)
	}
	ch, st, err := c.Children2(ctx, r)
	ok(t, err)
	if len(ch) != 2 || st.NumChildren != 2 || st.Cversion != 2 {
		t.Fatalf("Children2 = %v %+v", ch, st)
	}
	if leaf := of(c.Children(ctx, r+"/y")).must(t); leaf == nil || len(leaf) != 0 {
		t.Fatalf("Children(leaf) = %#v, want empty", leaf)
	}
	_, err = c.Children(ctx, r+"/missing")
	wantErr(t, "children missing", err, zk.ErrNoNode)
	_, _, err = c.Children2(ctx, r+"/missing")
	wantErr(t, "children2 missing", err, zk.ErrNoNode)
	if n := of(c.GetAllChildrenNumber(ctx, r)).must(t); n != 3 {
		t.Fatalf("GetAllChildrenNumber = %d, want 3", n)
	}
	_, err = c.GetAllChildrenNumber(ctx, r+"/missing")
	wantErr(t, "getAllChildrenNumber missing", err, zk.ErrNoNode)
}

func testACL(t *testing.T, e *env) {
	c := connect(t, e.addr)
	ctx := ctxT(t, 10*time.Second)
	r := root(t, c)

	ro := r + "/ro"
	ok(t, err2(c.Create(ctx, ro, []byte("x"), zk.WorldACL(zk.PermRead), zk.ModePersistent)))
	_, err := c.Set(ctx, ro, nil, -1)
	wantErr(t, "set read-only node", err, zk.ErrNoAuth)
	_, err = c.SetACL(ctx, ro, open, -1)
	wantErr(t, "setACL without ADMIN", err, zk.ErrNoAuth)
	_, err = c.Create(ctx, ro+"/c", nil, open, zk.ModePersistent)
	wantErr(t, "create under read-only node", err, zk.ErrNoAuth)

	n := r + "/n"
	ok(t, err2(c.Create(ctx, n, nil, open, zk.ModePersistent)))
	acl, st, err := c.GetACL(ctx, n)
	ok(t, err)
	if !slices.Equal(acl, open) || st.Aversion != 0 {
		t.Fatalf("GetACL = %v %+v", acl, st)
	}
	newACL := []zk.ACL{{Perms: zk.PermRead | zk.PermAdmin, Scheme: "world", ID: "anyone"}}
	_, err = c.SetACL(ctx, n, newACL, 3)
	wantErr(t, "setACL bad version", err, zk.ErrBadVersion)
	_, err = c.SetACL(ctx, n, []zk.ACL{}, -1)
	wantErr(t, "setACL empty", err, zk.ErrInvalidACL)
	_, err = c.SetACL(ctx, r+"/missing", open, -1)
	wantErr(t, "setACL missing", err, zk.ErrNoNode)
	st, err = c.SetACL(ctx, n, newACL, 0)
	ok(t, err)
	if st.Aversion != 1 {
		t.Fatalf("aversion after setACL = %d", st.Aversion)
	}
	acl, _, err = c.GetACL(ctx, n)
	ok(t, err)
	if !slices.Equal(acl, newACL) || acl[0].Perms.String() != "ra" {
		t.Fatalf("GetACL after SetACL = %v", acl)
	}
	_, _, err = c.GetACL(ctx, r+"/missing")
	wantErr(t, "getACL missing", err, zk.ErrNoNode)
}

func testMisc(t *testing.T, e *env) {
	c := connect(t, e.addr)
	ctx := ctxT(t, 10*time.Second)
	r := root(t, c)

	if p := of(c.Sync(ctx, r)).must(t); p != r {
		t.Fatalf("Sync = %q", p)
	}
	if c.SessionID() == 0 || c.SessionTimeout() != defaultTimeout || c.Server() != e.addr || c.State() != zk.StateConnected {
		t.Fatalf("session 0x%x timeout %v server %q state %v", c.SessionID(), c.SessionTimeout(), c.Server(), c.State())
	}
	who := of(c.WhoAmI(ctx)).must(t)
	if !slices.Contains(who, zk.ClientInfo{AuthScheme: "ip", User: "127.0.0.1"}) {
		t.Fatalf("WhoAmI = %v", who)
	}
	for _, p := range []string{"/e1", "/e2"} {
		ok(t, err2(c.Create(ctx, r+p, nil, open, zk.ModeEphemeral)))
	}
	ok(t, err2(c.Create(ctx, r+"/p", nil, open, zk.ModePersistent)))
	if eph := sorted(of(c.GetEphemerals(ctx, r)).must(t)); !slices.Equal(eph, []string{r + "/e1", r + "/e2"}) {
		t.Fatalf("GetEphemerals = %v", eph)
	}
	other := connect(t, e.addr, zk.WithReadOnly(true)) // a read-write server is fine too
	if eph := of(other.GetEphemerals(ctx, r)).must(t); len(eph) != 0 {
		t.Fatalf("another session's GetEphemerals = %v", eph)
	}
	if other.State() != zk.StateConnected {
		t.Fatalf("read-only-capable session on a read-write server: %v", other.State())
	}
}

func testMulti(t *testing.T, e *env) {
	c := connect(t, e.addr)
	ctx := ctxT(t, 10*time.Second)
	r := root(t, c)

	res, err := c.Multi(ctx,
		zk.CreateOp{Path: r + "/m", Data: []byte("a"), ACL: open},
		zk.CreateOp{Path: r + "/m/c", ACL: open},
		zk.SetDataOp{Path: r + "/m", Data: []byte("b"), Version: 0},
		zk.CheckOp{Path: r + "/m", Version: 1},
		zk.DeleteOp{Path: r + "/m/c", Version: -1},
		zk.CreateOp{Path: r + "/m/s-", ACL: open, Mode: zk.ModePersistentSequential},
	)
	ok(t, err)
	if len(res) != 6 || res[0].Path != r+"/m" || res[1].Path != r+"/m/c" || res[2].Stat == nil ||
		res[2].Stat.Version != 1 || !regexp.MustCompile(`/m/s-\d{10}$`).MatchString(res[5].Path) {
		t.Fatalf("results %+v", res)
	}
	for i, x := range res {
		if x.Err != nil {
			t.Fatalf("result %d: %v", i, x.Err)
		}
	}
	if d := of(get(c, ctx, r+"/m")).must(t); string(d) != "b" {
		t.Fatalf("data after multi %q", d)
	}

	// A failing op rolls everything back.
	res, err = c.Multi(ctx,
		zk.CreateOp{Path: r + "/m2", ACL: open},
		zk.CreateOp{Path: r + "/m", ACL: open},
		zk.SetDataOp{Path: r + "/m", Version: -1},
	)
	wantErr(t, "failing multi", err, zk.ErrNodeExists)
	if ze := err.(*zk.Error); ze.Op != "multi" || ze.Path != r+"/m" {
		t.Fatalf("multi error %#v", ze)
	}
	if len(res) != 3 || res[0].Err != nil || res[1].Err != zk.ErrNodeExists || res[2].Err != zk.ErrRuntimeInconsistency {
		t.Fatalf("results %+v", res)
	}
	if ok, _, _ := c.Exists(ctx, r+"/m2"); ok {
		t.Fatal("op of a failed multi took effect")
	}

	_, err = c.Multi(ctx, zk.CheckOp{Path: r + "/m", Version: 7})
	wantErr(t, "check bad version", err, zk.ErrBadVersion)
	_, err = c.Multi(ctx, zk.CheckOp{Path: r + "/none", Version: -1})
	wantErr(t, "check missing", err, zk.ErrNoNode)
	res, err = c.Multi(ctx)
	if err != nil || len(res) != 0 {
		t.Fatalf("empty multi = %v, %v", res, err)
	}
}

// testMultiBadMode: an unknown create mode inside a multi fails that op with
// BadArguments, like a top-level create (ZooKeeper's MultiOperationRecord
// decodes the flags leniently, CreateMode.fromFlag(flags, PERSISTENT), and
// PrepRequestProcessor rejects them per op).
func testMultiBadMode(t *testing.T, e *env) {
	c := connect(t, e.addr)
	ctx := ctxT(t, 10*time.Second)
	r := root(t, c)
	ok(t, err2(c.Create(ctx, r+"/m", nil, open, zk.ModePersistent)))
	res, err := c.Multi(ctx, zk.CreateOp{Path: r + "/bad", ACL: open, Mode: 9}, zk.CheckOp{Path: r + "/m", Version: -1})
	wantErr(t, "multi with an unknown create mode", err, zk.ErrBadArguments)
	if len(res) != 2 || res[0].Err != zk.ErrBadArguments || res[1].Err != zk.ErrRuntimeInconsistency {
		t.Fatalf("results %+v", res)
	}
}

func testMultiRead(t *testing.T, e *env) {
	c := connect(t, e.addr)
	ctx := ctxT(t, 10*time.Second)
	r := root(t, c)
	ok(t, err2(c.Create(ctx, r+"/a", []byte("A"), open, zk.ModePersistent)))
	res, err := c.MultiRead(ctx, zk.GetDataOp{Path: r + "/a"}, zk.GetChildrenOp{Path: r},
		zk.GetDataOp{Path: r + "/missing"}, zk.GetChildrenOp{Path: r + "/missing"})
	ok(t, err)
	if len(res) != 4 || string(res[0].Data) != "A" || res[0].Stat.DataLength != 1 || res[0].Err != nil ||
		!slices.Equal(res[1].Children, []string{"a"}) || res[1].Err != nil ||
		res[2].Err != zk.ErrNoNode || res[3].Err != zk.ErrNoNode {
		t.Fatalf("MultiRead = %+v", res)
	}
}
