package fsm

import (
	"testing"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/txn"
)

// quotaFSM applies entries of one session to an FSM.
type quotaFSM struct {
	t     *testing.T
	f     *FSM
	index uint64
}

const quotaSession = int64(0x0100000000000007)

func newQuotaFSM(t *testing.T) *quotaFSM {
	q := &quotaFSM{t: t, f: New(Options{})}
	q.apply(proto.OpCreateSession, nil)
	return q
}

func (q *quotaFSM) apply(op proto.OpCode, r proto.Record) Result {
	q.t.Helper()
	var b []byte
	if r != nil {
		e := jute.NewEncoder(nil)
		r.Encode(e)
		b = e.Bytes()
	}
	q.index++
	e := txn.Entry{Op: op, Session: quotaSession, Timeout: 30000, Time: 1_700_000_000_000 + int64(q.index),
		Auth: []proto.Id{{Scheme: "ip", Id: "127.0.0.1"}}, Body: b}
	q.f.Lock()
	defer q.f.Unlock()
	return q.f.Apply(1, q.index, e.Marshal())
}

func (q *quotaFSM) ok(op proto.OpCode, r proto.Record) Result {
	q.t.Helper()
	res := q.apply(op, r)
	if res.Err != proto.ErrOK {
		q.t.Fatalf("%v %+v: %v", op, r, res.Err)
	}
	return res
}

func (q *quotaFSM) create(path, data string, flags int32) Result {
	q.t.Helper()
	return q.ok(proto.OpCreate2, &proto.CreateRequest{Path: path, Data: []byte(data), Acl: proto.OpenACLUnsafe, Flags: flags})
}

func (q *quotaFSM) stats(path string, want string) {
	q.t.Helper()
	n := q.f.Znode("/zookeeper/quota" + path + "/zookeeper_stats")
	if n == nil {
		q.t.Fatalf("no stats node for %s", path)
	}
	if string(n.Data()) != want {
		q.t.Fatalf("stats of %s = %q, want %q", path, n.Data(), want)
	}
}

func TestQuotaStats(t *testing.T) {
	q := newQuotaFSM(t)
	q.create("/a", "", 0)
	q.create("/a/b", "12345", 0)
	q.create("/x", "outside", 0)
	// What zkCli's setquota does.
	q.create("/zookeeper/quota/a", "", 0)
	q.create("/zookeeper/quota/a/zookeeper_limits", "count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=-1", 0)
	res := q.create("/zookeeper/quota/a/zookeeper_stats", "count=0,bytes=0", 0)
	if st := res.Body.(*proto.Create2Response).Stat; st.DataLength != int32(len("count=0,bytes=0")) {
		t.Errorf("create2 of the stats node reports dataLength %d, want the created data's", st.DataLength)
	}
	q.stats("/a", "count=2,bytes=5")
	statsNode := q.f.Znode("/zookeeper/quota/a/zookeeper_stats").Stat()

	q.create("/a/c", "xy", 0)
	q.stats("/a", "count=3,bytes=7")
	q.ok(proto.OpSetData, &proto.SetDataRequest{Path: "/a/b", Data: []byte("1"), Version: -1})
	q.stats("/a", "count=3,bytes=3")
	q.ok(proto.OpDelete, &proto.DeleteRequest{Path: "/a/c", Version: -1})
	q.stats("/a", "count=2,bytes=1")
	q.ok(proto.OpSetData, &proto.SetDataRequest{Path: "/x", Data: []byte("elsewhere, not counted"), Version: -1})
	q.create("/ab", "not below /a", 0)
	q.stats("/a", "count=2,bytes=1")

	// The stats node's stat does not change (only its data length).
	st := q.f.Znode("/zookeeper/quota/a/zookeeper_stats").Stat()
	if st.Version != statsNode.Version || st.Mzxid != statsNode.Mzxid || st.Mtime != statsNode.Mtime {
		t.Errorf("stats node stat changed: %+v -> %+v", statsNode, st)
	}

	// A failed multi leaves the stats as they were; a successful one counts every op.
	res = q.ok(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/a/d", Data: []byte("zz"), Acl: proto.OpenACLUnsafe}},
		{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/a/b", Data: []byte("123"), Version: -1}},
		{Type: proto.OpCheck, Body: &proto.CheckVersionRequest{Path: "/a", Version: 42}},
	}})
	if r := res.Body.(*proto.MultiResponse).Results; r[2].Err != proto.ErrBadVersion {
		t.Fatalf("multi results %+v", r)
	}
	q.stats("/a", "count=2,bytes=1")
	q.ok(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/a/d", Data: []byte("zz"), Acl: proto.OpenACLUnsafe}},
		{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/a/b", Data: []byte("123"), Version: -1}},
	}})
	q.stats("/a", "count=3,bytes=5")

	// Ephemerals leaving with their session are subtracted.
	q.create("/a/eph", "abcd", 1)
	q.stats("/a", "count=4,bytes=9")
	q.ok(proto.OpCloseSession, nil)
	q.stats("/a", "count=3,bytes=5")
	q.ok(proto.OpCreateSession, nil)

	// The longest quota prefix wins.
	q.create("/zookeeper/quota/a/b", "", 0)
	q.create("/zookeeper/quota/a/b/zookeeper_limits", "count=5,bytes=-1", 0)
	q.create("/zookeeper/quota/a/b/zookeeper_stats", "count=0,bytes=0", 0)
	q.stats("/a/b", "count=1,bytes=3")
	q.create("/a/b/deep", "4444", 0)
	q.stats("/a/b", "count=2,bytes=7")
	q.stats("/a", "count=3,bytes=5")

	// Without its limits node a quota is gone.
	q.ok(proto.OpDelete, &proto.DeleteRequest{Path: "/zookeeper/quota/a/b/zookeeper_limits", Version: -1})
	q.create("/a/b/deeper", "1", 0)
	q.stats("/a/b", "count=2,bytes=7")
	q.stats("/a", "count=4,bytes=6")
}

func TestStatsTrackFormat(t *testing.T) {
	for in, want := range map[string]string{
		"count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=-1": "count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=-1",
		"count=2,bytes=5": "count=2,bytes=5",
		"bytes=7;count=1": "count=1,bytes=7",
		"count=,bytes=3":  "count=-1,bytes=3",
		"":                "count=-1,bytes=-1",
		"countHardLimit=4;count=1,bytes=2,bogus=x": "count=1,bytes=2=;countHardLimit=4",
	} {
		if got := parseStatsTrack([]byte(in)).String(); got != want {
			t.Errorf("parse(%q).String() = %q, want %q", in, got, want)
		}
	}
}
