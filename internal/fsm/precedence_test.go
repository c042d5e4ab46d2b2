package fsm

import (
	"testing"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/txn"
	"github.com/warren-zk/warren/internal/znode"
)

type precedenceCase struct {
	name string
	op   proto.OpCode
	req  proto.Record
	auth []proto.Id
	want proto.Err
}

// runPrecedence applies each case to a fresh fixture and checks the result;
// a failed write must leave the state untouched and still consume a zxid.
func runPrecedence(t *testing.T, opts Options, cases []precedenceCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := fixture(t, opts)
			before := h.dump()
			zxid := h.f.LastZxid()
			res := h.write(s1, tc.op, tc.req, tc.auth...)
			if res.Err != tc.want {
				t.Fatalf("got %v (%d), want %v (%d)", res.Err, int32(res.Err), tc.want, int32(tc.want))
			}
			if res.Zxid <= zxid || h.f.LastZxid() != res.Zxid {
				t.Errorf("zxid not consumed: before %#x, result %#x", zxid, res.Zxid)
			}
			if res.Err != proto.ErrOK {
				if res.Body != nil {
					t.Errorf("error result with a body: %+v", res.Body)
				}
				if after := h.dump(); after != before {
					t.Errorf("failed write changed the state:\n%s\n---\n%s", before, after)
				}
			}
		})
	}
}

func creq(path string, list []proto.ACL, flags int32) *proto.CreateRequest {
	return &proto.CreateRequest{Path: path, Acl: list, Flags: flags}
}

func ttlreq(path string, list []proto.ACL, flags int32, ttl int64) *proto.CreateTTLRequest {
	return &proto.CreateTTLRequest{Path: path, Acl: list, Flags: flags, Ttl: ttl}
}

var (
	emptyACL    = []proto.ACL{}
	someoneACL  = []proto.ACL{{Perms: proto.PermAll, Id: proto.Id{Scheme: "world", Id: "someone"}}}
	badDigest   = []proto.ACL{{Perms: proto.PermAll, Id: proto.Id{Scheme: "digest", Id: "bob"}}}
	authACL     = proto.CreatorAllACL
	onlySuper   = []proto.Id{superID}
	bobAndLocal = []proto.Id{ipLocal, bobID}
)

// TestCreatePrecedence: one row per bullet of §12.1, each showing that the
// check wins over the ones after it.
func TestCreatePrecedence(t *testing.T) {
	runPrecedence(t, Options{}, []precedenceCase{
		// 1. unknown flags
		{"1 unknown flag beats InvalidACL and NoNode", proto.OpCreate, creq("/nonex/x", emptyACL, 7), nil, proto.ErrBadArguments},
		{"1 negative flag", proto.OpCreate2, creq("/x", open, -1), nil, proto.ErrBadArguments},
		// 3. TTL checks (extended types on)
		{"3 createTTL ttl 0 beats InvalidACL", proto.OpCreateTTL, ttlreq("/nonex/x", emptyACL, proto.ModePersistentWithTTL, 0), nil, proto.ErrBadArguments},
		{"3 createTTL ttl too large", proto.OpCreateTTL, ttlreq("/x", open, proto.ModePersistentWithTTL, znode.MaxTTL+1), nil, proto.ErrBadArguments},
		{"3 createTTL ttl negative", proto.OpCreateTTL, ttlreq("/x", open, proto.ModePersistentSequentialWithTTL, -5), nil, proto.ErrBadArguments},
		{"3 createTTL with flags 0", proto.OpCreateTTL, ttlreq("/x", open, proto.ModePersistent, 100), nil, proto.ErrBadArguments},
		{"3 createTTL with flags 0 and ttl -1", proto.OpCreateTTL, ttlreq("/x", open, proto.ModePersistent, -1), nil, proto.ErrBadArguments},
		{"3 create with TTL flags (no ttl)", proto.OpCreate, creq("/x", open, proto.ModePersistentWithTTL), nil, proto.ErrBadArguments},
		{"3 createContainer with TTL flags", proto.OpCreateContainer, creq("/x", open, proto.ModePersistentWithTTL), nil, proto.ErrBadArguments},
		{"3 createTTL max ttl ok", proto.OpCreateTTL, ttlreq("/x", open, proto.ModePersistentWithTTL, znode.MaxTTL), nil, proto.ErrOK},
		// 5. no slash / NUL
		{"5 no slash beats InvalidACL", proto.OpCreate, creq("noslash", emptyACL, 0), nil, proto.ErrBadArguments},
		{"5 NUL beats InvalidACL", proto.OpCreate, creq("/a\x00b", emptyACL, 0), nil, proto.ErrBadArguments},
		{"5 empty path", proto.OpCreate, creq("", open, 0), nil, proto.ErrBadArguments},
		// 6. ACL validation
		{"6 empty ACL beats NoNode", proto.OpCreate, creq("/nonex/x", emptyACL, 0), nil, proto.ErrInvalidACL},
		{"6 nil ACL", proto.OpCreate, creq("/x", nil, 0), nil, proto.ErrInvalidACL},
		{"6 world:someone", proto.OpCreate, creq("/nonex/x", someoneACL, 0), nil, proto.ErrInvalidACL},
		{"6 digest id without colon", proto.OpCreate, creq("/nonex/x", badDigest, 0), nil, proto.ErrInvalidACL},
		{"6 auth with only an ip id", proto.OpCreate, creq("/x", authACL, 0), []proto.Id{ipLocal}, proto.ErrInvalidACL},
		{"6 InvalidACL beats bad final path", proto.OpCreate, creq("/r/.", emptyACL, 0), nil, proto.ErrInvalidACL},
		// 7. parent missing
		{"7 parent missing", proto.OpCreate, creq("/nonex/x", open, 0), nil, proto.ErrNoNode},
		{"7 NoNode beats bad final path (/bad//x)", proto.OpCreate, creq("/bad//x", open, 0), nil, proto.ErrNoNode},
		{"7 relative path with a slash", proto.OpCreate, creq("r/x", open, 0), nil, proto.ErrNoNode},
		// 8. CREATE on the parent
		{"8 NoAuth beats bad final path", proto.OpCreate, creq("/locked/.", open, 0), nil, proto.ErrNoAuth},
		{"8 NoAuth beats NodeExists", proto.OpCreate, creq("/locked/c", open, 0), nil, proto.ErrNoAuth},
		{"8 read-only parent", proto.OpCreate, creq("/ro/x", open, 0), nil, proto.ErrNoAuth},
		{"8 /zookeeper/config is read-only", proto.OpCreate, creq("/zookeeper/config/x", open, 0), nil, proto.ErrNoAuth},
		{"8 the right digest may", proto.OpCreate, creq("/locked/x", open, 0), bobAndLocal, proto.ErrOK},
		{"8 super may", proto.OpCreate, creq("/locked/x", open, 0), onlySuper, proto.ErrOK},
		{"8 children of /zookeeper allowed", proto.OpCreate, creq("/zookeeper/x", open, 0), nil, proto.ErrOK},
		// 10. full path validation after the suffix
		{"10 trailing slash, not sequential", proto.OpCreate, creq("/r/", open, 0), nil, proto.ErrBadArguments},
		{"10 dot component", proto.OpCreate, creq("/r/.", open, 0), nil, proto.ErrBadArguments},
		{"10 dotdot component", proto.OpCreate, creq("/r/..", open, 0), nil, proto.ErrBadArguments},
		{"10 control character", proto.OpCreate, creq("/r/\x01", open, 0), nil, proto.ErrBadArguments},
		{"10 U+FFFF", proto.OpCreate, creq("/r/\uffff", open, 0), nil, proto.ErrBadArguments},
		{"10 supplementary code point", proto.OpCreate, creq("/\U0001F600", open, 0), nil, proto.ErrBadArguments},
		{"10 invalid UTF-8", proto.OpCreate, creq("/\xff", open, 0), nil, proto.ErrBadArguments},
		{"10 BadArguments beats NodeExists", proto.OpCreate, creq("/r/child/", open, 0), nil, proto.ErrBadArguments},
		{"10 sequential with trailing slash is fine", proto.OpCreate, creq("/r/", open, proto.ModePersistentSequential), nil, proto.ErrOK},
		// 11. exists
		{"11 create /", proto.OpCreate, creq("/", open, 0), nil, proto.ErrNodeExists},
		{"11 create /zookeeper", proto.OpCreate2, creq("/zookeeper", open, 0), nil, proto.ErrNodeExists},
		{"11 existing node", proto.OpCreate, creq("/r/child", open, 0), nil, proto.ErrNodeExists},
		{"11 existing container", proto.OpCreateContainer, creq("/c", open, proto.ModeContainer), nil, proto.ErrNodeExists},
		// 12. ephemeral parent
		{"12 child of an ephemeral", proto.OpCreate, creq("/eph/x", open, 0), nil, proto.ErrNoChildrenForEphemerals},
		{"12 sequential child of an ephemeral", proto.OpCreate, creq("/eph/x", open, proto.ModeEphemeralSequential), nil, proto.ErrNoChildrenForEphemerals},
		{"12 child of a container is fine", proto.OpCreate, creq("/c/x", open, 0), nil, proto.ErrOK},
		{"12 child of a TTL node is fine", proto.OpCreate, creq("/t/x", open, 0), nil, proto.ErrOK},
	})
}

// TestCreateTTLNeedsExtendedTypes: §12.1 step 2 (and §17).
func TestCreateTTLNeedsExtendedTypes(t *testing.T) {
	for _, tc := range []precedenceCase{
		{"createTTL", proto.OpCreateTTL, ttlreq("/x", open, proto.ModePersistentWithTTL, 100), nil, proto.ErrUnimplemented},
		{"beats bad ttl, bad path, bad ACL", proto.OpCreateTTL, ttlreq("noslash", emptyACL, proto.ModePersistentSequentialWithTTL, 0), nil, proto.ErrUnimplemented},
		{"create with TTL flags", proto.OpCreate, creq("/x", open, proto.ModePersistentWithTTL), nil, proto.ErrUnimplemented},
		{"unknown flags still BadArguments", proto.OpCreateTTL, ttlreq("/x", open, 9, 100), nil, proto.ErrBadArguments},
		{"createTTL with flags 0", proto.OpCreateTTL, ttlreq("/x", open, 0, 100), nil, proto.ErrBadArguments},
	} {
		h := newHarness(t, Options{})
		h.session(s1)
		before := h.dump()
		if res := h.write(s1, tc.op, tc.req); res.Err != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, res.Err, tc.want)
		}
		if h.dump() != before {
			t.Errorf("%s: state changed", tc.name)
		}
	}
}

// TestDeletePrecedence: §12.2.
func TestDeletePrecedence(t *testing.T) {
	del := func(p string, v int32) *proto.DeleteRequest { return &proto.DeleteRequest{Path: p, Version: v} }
	runPrecedence(t, Options{}, []precedenceCase{
		{"1 no slash", proto.OpDelete, del("noslash", -1), nil, proto.ErrBadArguments},
		{"1 NUL", proto.OpDelete, del("/r\x00", -1), nil, proto.ErrBadArguments},
		{"1 special /", proto.OpDelete, del("/", -1), onlySuper, proto.ErrBadArguments},
		{"1 special /zookeeper", proto.OpDelete, del("/zookeeper", -1), onlySuper, proto.ErrBadArguments},
		{"1 special /zookeeper/quota", proto.OpDelete, del("/zookeeper/quota", -1), onlySuper, proto.ErrBadArguments},
		{"1 special /zookeeper/config", proto.OpDelete, del("/zookeeper/config", 0), onlySuper, proto.ErrBadArguments},
		{"2 parent missing", proto.OpDelete, del("/nonex/x", -1), nil, proto.ErrNoNode},
		{"2 no full validation: /r/ is NoNode", proto.OpDelete, del("/r/", -1), nil, proto.ErrNoNode},
		{"2 no full validation: /r/. is NoNode", proto.OpDelete, del("/r/.", -1), nil, proto.ErrNoNode},
		{"3 NoAuth on the parent", proto.OpDelete, del("/locked/c", -1), nil, proto.ErrNoAuth},
		{"3 NoAuth beats node NoNode", proto.OpDelete, del("/locked/missing", -1), nil, proto.ErrNoAuth},
		{"3 NoAuth beats BadVersion", proto.OpDelete, del("/locked/c", 9), nil, proto.ErrNoAuth},
		{"3 the node's own ACL does not matter", proto.OpDelete, del("/noperm", -1), nil, proto.ErrOK},
		{"3 digest on the parent", proto.OpDelete, del("/locked/c", -1), bobAndLocal, proto.ErrOK},
		{"4 node missing", proto.OpDelete, del("/r/missing", -1), nil, proto.ErrNoNode},
		{"5 BadVersion", proto.OpDelete, del("/ver", 1), nil, proto.ErrBadVersion},
		{"5 BadVersion beats NotEmpty", proto.OpDelete, del("/r", 5), nil, proto.ErrBadVersion},
		{"5 version matches", proto.OpDelete, del("/ver", 2), nil, proto.ErrOK},
		{"6 NotEmpty", proto.OpDelete, del("/r", -1), nil, proto.ErrNotEmpty},
		{"6 NotEmpty with the right version", proto.OpDelete, del("/r", 0), nil, proto.ErrNotEmpty},
		{"ephemeral of any session", proto.OpDelete, del("/eph", -1), nil, proto.ErrOK},
		{"container", proto.OpDelete, del("/c", -1), nil, proto.ErrOK},
	})
}

// TestSetDataPrecedence: §12.3.
func TestSetDataPrecedence(t *testing.T) {
	set := func(p string, v int32) *proto.SetDataRequest {
		return &proto.SetDataRequest{Path: p, Data: []byte("x"), Version: v}
	}
	runPrecedence(t, Options{}, []precedenceCase{
		{"1 trailing slash beats NoNode", proto.OpSetData, set("/r/", -1), nil, proto.ErrBadArguments},
		{"1 missing with a bad path", proto.OpSetData, set("/missing/", -1), nil, proto.ErrBadArguments},
		{"1 relative", proto.OpSetData, set("r", -1), nil, proto.ErrBadArguments},
		{"1 dot", proto.OpSetData, set("/r/.", -1), nil, proto.ErrBadArguments},
		{"2 missing", proto.OpSetData, set("/missing", -1), nil, proto.ErrNoNode},
		{"3 NoAuth", proto.OpSetData, set("/ro", -1), nil, proto.ErrNoAuth},
		{"3 NoAuth beats BadVersion", proto.OpSetData, set("/ro", 99), nil, proto.ErrNoAuth},
		{"3 config is read-only", proto.OpSetData, set("/zookeeper/config", -1), nil, proto.ErrNoAuth},
		{"3 super may", proto.OpSetData, set("/locked", -1), onlySuper, proto.ErrOK},
		{"5 BadVersion", proto.OpSetData, set("/ver", 1), nil, proto.ErrBadVersion},
		{"5 aversion is not the version", proto.OpSetData, set("/ver", 3), nil, proto.ErrBadVersion},
		{"5 version matches", proto.OpSetData, set("/ver", 2), nil, proto.ErrOK},
		{"any version", proto.OpSetData, set("/ver", -1), nil, proto.ErrOK},
		{"write perm without read", proto.OpSetData, set("/noread", -1), nil, proto.ErrOK},
	})
}

// TestSetACLPrecedence: §12.4.
func TestSetACLPrecedence(t *testing.T) {
	sa := func(p string, l []proto.ACL, v int32) *proto.SetACLRequest {
		return &proto.SetACLRequest{Path: p, Acl: l, Version: v}
	}
	runPrecedence(t, Options{}, []precedenceCase{
		{"1 bad path beats InvalidACL", proto.OpSetACL, sa("/r/", emptyACL, -1), nil, proto.ErrBadArguments},
		{"1 relative", proto.OpSetACL, sa("r", open, -1), nil, proto.ErrBadArguments},
		{"2 InvalidACL beats NoNode", proto.OpSetACL, sa("/missing", emptyACL, -1), nil, proto.ErrInvalidACL},
		{"2 InvalidACL beats NoAuth", proto.OpSetACL, sa("/ro", someoneACL, -1), nil, proto.ErrInvalidACL},
		{"2 auth without an authenticated id", proto.OpSetACL, sa("/r", authACL, -1), nil, proto.ErrInvalidACL},
		{"3 NoNode", proto.OpSetACL, sa("/missing", open, -1), nil, proto.ErrNoNode},
		{"4 NoAuth (no ADMIN)", proto.OpSetACL, sa("/ro", open, -1), nil, proto.ErrNoAuth},
		{"4 NoAuth beats BadVersion", proto.OpSetACL, sa("/locked", open, 7), nil, proto.ErrNoAuth},
		{"4 digest has ADMIN", proto.OpSetACL, sa("/locked", open, 1), bobAndLocal, proto.ErrOK},
		{"5 BadVersion", proto.OpSetACL, sa("/ver", open, 0), nil, proto.ErrBadVersion},
		{"5 data version is not the aversion", proto.OpSetACL, sa("/ver", open, 2), nil, proto.ErrBadVersion},
		{"5 aversion matches", proto.OpSetACL, sa("/ver", open, 1), nil, proto.ErrOK},
		{"auth expands to the digest", proto.OpSetACL, sa("/r", authACL, -1), bobAndLocal, proto.ErrOK},
	})
}

// TestCheckInMulti: §12.5, and a top-level check is Unimplemented.
func TestCheckInMulti(t *testing.T) {
	for _, tc := range []struct {
		name    string
		path    string
		version int32
		auth    []proto.Id
		want    proto.Err
	}{
		{"bad path", "/r/", -1, nil, proto.ErrBadArguments},
		{"bad path beats NoNode", "/missing/", -1, nil, proto.ErrBadArguments},
		{"missing", "/missing", -1, nil, proto.ErrNoNode},
		{"no READ", "/noread", -1, nil, proto.ErrNoAuth},
		{"NoAuth beats BadVersion", "/noread", 5, nil, proto.ErrNoAuth},
		{"BadVersion", "/ver", 1, nil, proto.ErrBadVersion},
		{"ok", "/ver", 2, nil, proto.ErrOK},
		{"any version", "/ro", -1, nil, proto.ErrOK},
	} {
		h := fixture(t, Options{})
		before := h.dump()
		res := h.mustOK(h.write(s1, proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCheck, Body: &proto.CheckVersionRequest{Path: tc.path, Version: tc.version}},
		}}, tc.auth...))
		r := res.Body.(*proto.MultiResponse).Results
		var want proto.MultiResult
		if tc.want == proto.ErrOK {
			want = proto.MultiResult{Type: proto.OpCheck}
		} else {
			want = proto.MultiResult{Type: proto.OpError, Err: tc.want}
		}
		if len(r) != 1 || r[0] != want {
			t.Errorf("%s: results %+v, want %+v", tc.name, r, want)
		}
		if h.dump() != before {
			t.Errorf("%s: check changed the state", tc.name)
		}
	}
	h := fixture(t, Options{})
	if res := h.write(s1, proto.OpCheck, &proto.CheckVersionRequest{Path: "/ver", Version: 2}); res.Err != proto.ErrUnimplemented {
		t.Errorf("top-level check: %v", res.Err)
	}
}

// TestDeleteContainerPrecedence: §17 deleteContainer, as the reaper submits it.
func TestDeleteContainerPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
		path  string
		at    int64 // entry time offset from now (0: now)
		want  proto.Err
	}{
		{"no slash", nil, "c", 0, proto.ErrBadArguments},
		{"special path", nil, "/zookeeper/quota", 0, proto.ErrBadArguments},
		{"root", nil, "/", 0, proto.ErrBadArguments},
		{"missing", nil, "/missing", 0, proto.ErrNoNode},
		{"has children", func(h *harness) { h.mustOK(h.create(s1, "/c/x", nil, open, 0)) }, "/c", 0, proto.ErrNotEmpty},
		{"NotEmpty beats the kind check", nil, "/r", 0, proto.ErrNotEmpty},
		{"session ephemeral", nil, "/eph", 0, proto.ErrBadVersion},
		{"plain persistent node (Warren: reaper only deletes containers and expired TTLs)", nil, "/ro", 0, proto.ErrBadVersion},
		{"empty container", nil, "/c", 0, proto.ErrOK},
		{"TTL not expired", nil, "/t", 0, proto.ErrBadVersion},
		{"TTL expired", nil, "/t", 2_000_000, proto.ErrOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := fixture(t, Options{})
			if tc.setup != nil {
				tc.setup(h)
			}
			before := h.dump()
			e := txn.Entry{Op: proto.OpDeleteContainer, Body: []byte(tc.path)}
			if tc.at != 0 {
				e.Time = h.now + tc.at
			}
			res := h.applyEntry(e)
			if res.Err != tc.want {
				t.Fatalf("got %v, want %v", res.Err, tc.want)
			}
			if res.Err != proto.ErrOK && h.dump() != before {
				t.Error("failed reap changed the state")
			}
			if res.Err == proto.ErrOK && h.node(tc.path) != nil {
				t.Error("node still there")
			}
		})
	}
}
