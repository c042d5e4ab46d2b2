package fsm

import (
	"math"
	"strings"
	"testing"

	"github.com/warren-zk/warren/internal/proto"
)

// setQuota creates the quota nodes of path as zkCli's setquota does.
func (h *harness) setQuota(path, limits string) {
	h.t.Helper()
	p := "/zookeeper/quota"
	for _, c := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		p += "/" + c
		if h.node(p) == nil {
			h.mustOK(h.create(s1, p, nil, open, 0))
		}
	}
	h.mustOK(h.create(s1, p+"/zookeeper_limits", []byte(limits), open, 0))
	h.mustOK(h.create(s1, p+"/zookeeper_stats", []byte("count=0,bytes=0"), open, 0))
}

// TestQuotaEnforcement: with EnforceQuota, hard limits reject creates and setData with
// QuotaExceeded (ZooKeeperServer.checkQuota), soft limits are only reported, and without
// EnforceQuota nothing is rejected.
func TestQuotaEnforcement(t *testing.T) {
	var logged []string
	h := newHarness(t, Options{EnforceQuota: true, QuotaLog: func(m string) { logged = append(logged, m) }})
	h.session(s1)
	h.mustOK(h.create(s1, "/q", []byte("12345"), open, 0)) // count 1, bytes 5
	h.setQuota("/q", "count=-1,bytes=-1=;byteHardLimit=20;countHardLimit=3")
	h.mustOK(h.create(s1, "/q/a", []byte("12345"), open, 0)) // count 2, bytes 10
	h.mustOK(h.create(s1, "/q/b", nil, open, 0))             // count 3
	if r := h.create(s1, "/q/c", nil, open, 0); r.Err != proto.ErrQuotaExceeded {
		t.Fatalf("4th node: %v, want QuotaExceeded", r.Err)
	}
	if h.node("/q/c") != nil {
		t.Fatal("/q/c was created")
	}
	// Sequential creates are checked with their final name, after the name is chosen.
	if r := h.create(s1, "/q/s-", nil, open, proto.ModePersistentSequential); r.Err != proto.ErrQuotaExceeded {
		t.Fatalf("sequential: %v", r.Err)
	}
	h.mustOK(h.setData(s1, "/q/a", []byte("123456789012345"), -1)) // bytes 5+15 = 20: at the limit
	if r := h.setData(s1, "/q/b", []byte("x"), -1); r.Err != proto.ErrQuotaExceeded {
		t.Fatalf("setData past byteHardLimit: %v", r.Err)
	}
	// QuotaExceeded precedes BadVersion, as in ZooKeeper's prep order.
	if r := h.setData(s1, "/q/b", []byte("x"), 99); r.Err != proto.ErrQuotaExceeded {
		t.Fatalf("setData with bad version past the limit: %v", r.Err)
	}
	// Shrinking is allowed, deleting frees room.
	h.mustOK(h.setData(s1, "/q/a", nil, -1))
	h.mustOK(h.delete(s1, "/q/b", -1))
	h.mustOK(h.create(s1, "/q/c", []byte("x"), open, 0))
	// Outside the quota nothing is checked.
	h.mustOK(h.create(s1, "/other", make([]byte, 100), open, 0))

	// Inside a multi ZooKeeper checks against the committed usage, so two creates that
	// together exceed the limit both pass when each alone fits.
	h.mustOK(h.delete(s1, "/q/c", -1)) // count 2
	r := h.multi(s1, proto.MultiOp{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/q/m1", Acl: open}},
		proto.MultiOp{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/q/m2", Acl: open}})
	if res := r.Body.(*proto.MultiResponse).Results; res[0].Type == proto.OpError || res[1].Type == proto.OpError {
		t.Fatalf("multi of two creates each within the limit: %+v", res)
	}
	// A multi op past the limit fails the multi.
	r = h.multi(s1, proto.MultiOp{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/q/m3", Acl: open}})
	if res := r.Body.(*proto.MultiResponse).Results; res[0].Err != proto.ErrQuotaExceeded {
		t.Fatalf("multi past the limit: %+v", res)
	}
	if len(logged) == 0 || !strings.Contains(logged[0], "hardCountLimit=3") {
		t.Errorf("hard-limit violations not reported: %q", logged)
	}

	// Soft limits only report.
	logged = nil
	h.mustOK(h.create(s1, "/soft", nil, open, 0))
	h.setQuota("/soft", "count=1,bytes=2")
	h.mustOK(h.create(s1, "/soft/a", []byte("xyz"), open, 0))
	if len(logged) != 2 || !strings.Contains(logged[0], "softCountLimit=1") || !strings.Contains(logged[1], "softByteLimit=2") {
		t.Errorf("soft violations: %q", logged)
	}

	// Without enforcement, nothing is rejected.
	g := newHarness(t, Options{})
	g.session(s1)
	g.mustOK(g.create(s1, "/q", nil, open, 0))
	g.setQuota("/q", "count=-1,bytes=-1=;byteHardLimit=0;countHardLimit=1")
	g.mustOK(g.create(s1, "/q/a", []byte("data"), open, 0))
}

// TestSequenceOverflow (S24): the parent's cversion wraps at int32 like ZooKeeper's, and the
// sequential suffix is "%010d" of the signed value, so after 2147483647 comes
// -2147483648: a defined name that never repeats an earlier one.
func TestSequenceOverflow(t *testing.T) {
	h := newHarness(t, Options{})
	h.session(s1)
	h.mustOK(h.create(s1, "/seq", nil, open, 0))
	h.f.Lock()
	h.f.Tree().SetChildStat("/seq", math.MaxInt32-1, 0)
	h.f.Unlock()
	var names []string
	for i := 0; i < 3; i++ {
		r := h.mustOK(h.create(s1, "/seq/n-", nil, open, proto.ModePersistentSequential))
		names = append(names, r.Body.(*proto.CreateResponse).Path)
	}
	want := []string{"/seq/n-2147483646", "/seq/n-2147483647", "/seq/n--2147483648"}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("names %q, want %q", names, want)
		}
	}
}
