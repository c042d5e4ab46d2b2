package security

import (
	"fmt"
	"strings"
	"testing"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/testutil/zkoracle"
)

// quotaScript runs the same requests against a server and returns one line per request:
// its error code (and, for reads, the data).
func quotaScript(t *testing.T, addr string) []string {
	t.Helper()
	c := raw(t, addr)
	c.connect(t)
	open := world(proto.PermAll)
	var out []string
	do := func(what string, op proto.OpCode, req proto.Record) {
		r := c.call(t, op, req)
		line := fmt.Sprintf("%s: %v", what, r.err)
		switch op {
		case proto.OpGetData:
			if r.err == proto.ErrOK {
				var g proto.GetDataResponse
				decodeInto(t, r.body, &g)
				line += fmt.Sprintf(" %q", g.Data)
			}
		case proto.OpMulti:
			var m proto.MultiResponse
			decodeInto(t, r.body, &m)
			for _, res := range m.Results {
				line += fmt.Sprintf(" [%d %v]", res.Type, res.Err)
			}
		}
		out = append(out, line)
	}
	create := func(path, data string, flags int32) {
		var d []byte
		if data != "" {
			d = []byte(data)
		}
		do("create "+path, proto.OpCreate, &proto.CreateRequest{Path: path, Data: d, Acl: open, Flags: flags})
	}
	setData := func(path, data string, version int32) {
		do(fmt.Sprintf("setData %s %d bytes v%d", path, len(data), version), proto.OpSetData, &proto.SetDataRequest{Path: path, Data: []byte(data), Version: version})
	}
	get := func(path string) { do("get "+path, proto.OpGetData, &proto.GetDataRequest{Path: path}) }

	create("/q", "12345", 0)
	create("/zookeeper/quota/q", "", 0)
	create("/zookeeper/quota/q/zookeeper_limits", "count=-1,bytes=-1=;byteHardLimit=20;countHardLimit=3", 0)
	create("/zookeeper/quota/q/zookeeper_stats", "count=0,bytes=0", 0)
	create("/q/a", "12345", 0)
	create("/q/b", "", 0)
	create("/q/c", "", 0)
	create("/q/s-", "", proto.ModePersistentSequential)
	setData("/q/a", "123456789012345", -1)
	setData("/q/b", "x", -1)
	setData("/q/b", "x", 99)
	setData("/q/a", "", -1)
	do("delete /q/b", proto.OpDelete, &proto.DeleteRequest{Path: "/q/b", Version: -1})
	get("/zookeeper/quota/q/zookeeper_stats")
	do("multi create m1 m2", proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/q/m1", Acl: open}},
		{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/q/m2", Acl: open}},
	}})
	do("multi create m3", proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/q/m3", Acl: open}},
	}})
	get("/zookeeper/quota/q/zookeeper_stats")
	// A nested quota: the longest prefix decides.
	create("/q/a/n", "", 0)
	create("/zookeeper/quota/q/a", "", 0)
	create("/zookeeper/quota/q/a/zookeeper_limits", "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=10", 0)
	create("/zookeeper/quota/q/a/zookeeper_stats", "count=0,bytes=0", 0)
	create("/q/a/n2", "", 0)
	get("/zookeeper/quota/q/a/zookeeper_stats")
	// Soft limits only log.
	create("/soft", "", 0)
	create("/zookeeper/quota/soft", "", 0)
	create("/zookeeper/quota/soft/zookeeper_limits", "count=1,bytes=2", 0)
	create("/zookeeper/quota/soft/zookeeper_stats", "count=0,bytes=0", 0)
	create("/soft/a", "xyz", 0)
	get("/zookeeper/quota/soft/zookeeper_stats")
	// Deleting the limits node lifts the quota.
	do("delete limits", proto.OpDelete, &proto.DeleteRequest{Path: "/zookeeper/quota/q/zookeeper_limits", Version: -1})
	create("/q/free", "", 0)
	return out
}

// TestQuotaEnforcementDifferential: with enforceQuota on, Warren answers the same as
// ZooKeeper 3.8 (zookeeper.enforceQuota=true) request by request: hard count and byte limits
// give QuotaExceeded (-125) on create and setData, checked before the version; inside a
// multi against the usage before the multi; the longest quota prefix applies; soft limits
// and removed quotas reject nothing.
func TestQuotaEnforcementDifferential(t *testing.T) {
	t.Parallel()
	zk := zkoracle.Start(t, &zkoracle.Options{JVMProps: map[string]string{"zookeeper.enforceQuota": "true"}})
	want := quotaScript(t, zk.Addr)
	s := start(t, options{props: map[string]string{"enforceQuota": "true"}})
	got := quotaScript(t, s.Addr)
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("step %d:\n  ZooKeeper: %s\n  Warren:    %s", i, want[i], got[i])
		}
	}
	t.Logf("ZooKeeper 3.8:\n%s", strings.Join(want, "\n"))
	// Without enforceQuota nothing is rejected.
	plain := start(t, options{})
	for _, line := range quotaScript(t, plain.Addr) {
		if strings.Contains(line, "Quota has exceeded") {
			t.Errorf("without enforceQuota: %s", line)
		}
	}
}
