package compat

import (
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/tests/compat/rawzk"
)

// rawMulti encodes multi ops by hand: each entry is (type, body); the terminator is added.
func rawMulti(ops ...proto.MultiOp) rawzk.RawBody {
	e := jute.NewEncoder(nil)
	for _, op := range ops {
		h := proto.MultiHeader{Type: int32(op.Type), Done: false, Err: -1}
		h.Encode(e)
		if op.Body != nil {
			op.Body.Encode(e)
		}
	}
	h := proto.MultiHeader{Type: -1, Done: true, Err: -1}
	h.Encode(e)
	return e.Bytes()
}

// §9 multi and multiRead.
func multiScenarios() []scenario {
	return []scenario{
		{"multi/success-all-kinds", func(h *H) {
			h.connect("a")
			h.create("a", "/m", b("m"), 0)
			h.create("a", "/m/del", nil, 0)
			h.multi("a",
				opCreate("/m/a", b("1"), 0),
				opCreate("/m/a/b", nil, proto.ModeEphemeral),
				opCreate("/m/s-", nil, proto.ModePersistentSequential),
				opSetData("/m", b("mm"), 0),
				opSetData("/m", b("mmm"), 1),
				opCheck("/m", 2),
				opDelete("/m/del", 0),
				opCreate("/m/del", b("again"), 0),
			)
			h.children2("a", "/m", false)
			h.getData("a", "/m", false)
			h.getData("a", "/m/del", false)
			h.exists("a", "/m/a/b", false)
		}},
		{"multi/create2-container-ttl-results", func(h *H) {
			h.connect("a")
			h.multi("a",
				opCreateT(proto.OpCreate2, "/c2", b("data"), 0),
				opCreateT(proto.OpCreate2, "/c2/e", nil, proto.ModeEphemeral),
				opCreateT(proto.OpCreate2, "/c2/s-", b("x"), proto.ModePersistentSequential),
				opCreateT(proto.OpCreateContainer, "/cont", nil, proto.ModeContainer),
				opCreateTTL("/ttl", b("t"), proto.ModePersistentWithTTL, 5000),
				opCreateTTL("/ttls-", nil, proto.ModePersistentSequentialWithTTL, 1),
				opCreate("/plain", nil, 0),
			)
			h.exists("a", "/c2", false)
			h.exists("a", "/c2/e", false)
			h.exists("a", "/cont", false)
			h.exists("a", "/ttl", false)
		}},
		{"multi/create-op-kinds", func(h *H) {
			h.connect("a")
			h.multi("a", opCreateT(proto.OpCreate, "/c4", nil, proto.ModeContainer), opCreateT(proto.OpCreate2, "/c4b", nil, proto.ModeContainer))
			h.multi("a", opCreateTTL("/t0", b("x"), proto.ModePersistent, 5), opCreateTTL("/t4", nil, proto.ModeContainer, 5))
			h.multi("a", opCreateTTL("/t1", nil, proto.ModeEphemeral, -1), opCreateTTL("/t2", nil, proto.ModePersistentSequential, 0))
			h.multi("a", opCreateTTL("/t9", nil, 9, 5))
			h.multi("a", opCreateT(proto.OpCreate2, "/ttl", nil, proto.ModePersistentWithTTL))
			h.multi("a", opCreateT(proto.OpCreate, "/ttl", nil, proto.ModePersistentSequentialWithTTL))
			h.exists("a", "/t0", false)
			h.exists("a", "/t4", false)
			h.known("multi-create-ops", &reqAct{conn: "a", op: proto.OpMulti, body: &proto.MultiRequest{Ops: []proto.MultiOp{
				opCreateT(proto.OpCreateContainer, "/cc", nil, proto.ModePersistent)}}}, []string{
				`a: reply xid=9 zxid=z8 err=0 Multi[create{"/cc"}]`,
				"a: ping xid=-2 zxid=z8 err=0",
			}, []string{
				`a: reply xid=9 zxid=z8 err=0 Multi[create2{"/cc" {czxid=z8 mzxid=z8 ctime=T mtime=T version=0 cversion=0 aversion=0 owner=0 dataLength=0 numChildren=0 pzxid=z8}}]`,
				"a: ping xid=-2 zxid=z8 err=0",
			}, false)
			// Unknown flags: the op alone fails with BadArguments (3.8.0; Warren follows the oracle here).
			h.multi("a", opCreate("/bad", nil, 7), opCreate("/after", nil, 0))
			h.multi("a", opCreateT(proto.OpCreate2, "/bad", nil, -1))
			h.exists("a", "/cc", false)
			h.exists("a", "/bad", false)
		}},
		{"multi/failure-results-and-rollback", func(h *H) {
			h.connect("a")
			h.create("a", "/x", b("x"), 0)
			h.multi("a", opCreate("/y", nil, 0), opCreate("/x", nil, 0), opSetData("/x", b("no"), -1))
			h.exists("a", "/y", false)
			h.getData("a", "/x", false)
			h.multi("a", opSetData("/x", b("1"), -1), opSetData("/x", b("2"), -1), opCheck("/x", 0))
			h.getData("a", "/x", false)
			h.multi("a", opDelete("/x", -1), opCreate("/x/child", nil, 0))
			h.exists("a", "/x", false)
			h.multi("a", opCreate("/p", nil, 0), opCreate("/p/q", nil, 0), opDelete("/p", -1))
			h.exists("a", "/p", false)
			h.exists("a", "/", false)
			h.multi("a", opCreate("/s/", nil, proto.ModePersistentSequential), opCheck("/missing", -1))
			h.create("a", "/z", nil, 0)
			h.multi("a", opCreate("/z/s-", nil, proto.ModePersistentSequential), opCreate("/z/s-", nil, proto.ModePersistentSequential), opCheck("/z", 5))
			h.create("a", "/z/s-", nil, proto.ModePersistentSequential)
			h.exists("a", "/z", false)
			h.multi("a", opCreate("/e", nil, proto.ModeEphemeral), opCreate("/e/c", nil, 0))
			h.multi("a", opSetData("/x", nil, -1), opDelete("/x", 5))
			h.getData("a", "/x", false)
		}},
		{"multi/every-error-kind", func(h *H) {
			h.connect("a")
			h.create("a", "/x", nil, 0)
			h.create("a", "/nc", nil, 0, noCreate...)
			for _, op := range []proto.MultiOp{
				opCreate("noslash", nil, 0),
				opCreate("/x/", nil, 0),
				opCreate("/missing/a", nil, 0),
				opCreate("/nc/a", nil, 0),
				{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/y", Acl: []proto.ACL{}}},
				opCreateTTL("/t", nil, proto.ModePersistentWithTTL, 0),
				opCreateTTL("/t", nil, proto.ModePersistent, 5),
				opCreate("/t", nil, proto.ModePersistentWithTTL),
				opDelete("/", -1),
				opDelete("/zookeeper", -1),
				opDelete("/missing", -1),
				opDelete("/x", 3),
				opSetData("/missing", nil, -1),
				opSetData("/x/", nil, -1),
				opSetData("/x", nil, 4),
				opCheck("/x", 4),
				opCheck("/x/", 4),
			} {
				h.multi("a", opSetData("/x", b("before"), -1), op, opCreate("/after", nil, 0))
			}
			h.getData("a", "/x", false)
		}},
		{"multi/empty", func(h *H) {
			h.connect("a")
			h.multi("a")
			h.multiRead("a")
			h.exists("a", "/", false)
		}},
		{"multi/undecodable", func(h *H) {
			h.connect("a")
			h.create("a", "/x", nil, 0)
			h.req("a", proto.OpMulti, rawMulti(opCreate("/y", nil, 0), proto.MultiOp{Type: 99, Body: rawzk.RawBody{}}))
			h.req("a", proto.OpMulti, rawMulti(opCreateTTL("/y", nil, 9, 100)))
			h.req("a", proto.OpMulti, rawMulti(opCreate("/y", nil, 0), opGetData("/x")))
			h.req("a", proto.OpMulti, rawMulti(opGetData("/x")))
			h.req("a", proto.OpMulti, rawMulti(opGetData("/x"), opCreate("/y", nil, 0)))
			h.req("a", proto.OpMulti, rawMulti(proto.MultiOp{Type: proto.OpSetACL, Body: &proto.SetACLRequest{Path: "/x", Acl: open, Version: -1}}))
			h.req("a", proto.OpMulti, rawMulti(proto.MultiOp{Type: proto.OpDeleteContainer, Body: &proto.DeleteContainerRequest{Path: b("/x")}}))
			h.req("a", proto.OpMulti, rawMulti(proto.MultiOp{Type: proto.OpMulti, Body: rawzk.RawBody{}}))
			h.req("a", proto.OpMulti, rawMulti(proto.MultiOp{Type: proto.OpCheckWatches, Body: &proto.CheckWatchesRequest{Path: "/x", Type: 1}}))
			// No terminator: the ops run out.
			h.req("a", proto.OpMulti, rawMulti(opCreate("/y", nil, 0))[:30])
			h.exists("a", "/y", false)
		}},
		{"multi/header-fields-ignored", func(h *H) {
			h.connect("a")
			e := jute.NewEncoder(nil)
			(&proto.MultiHeader{Type: int32(proto.OpCreate), Done: false, Err: 77}).Encode(e)
			(&proto.CreateRequest{Path: "/q", Acl: open}).Encode(e)
			(&proto.MultiHeader{Type: 5, Done: true, Err: 0}).Encode(e) // done wins, whatever the type
			h.req("a", proto.OpMulti, rawzk.RawBody(e.Bytes()))
			h.exists("a", "/q", false)
		}},
		{"multi/events-in-op-order", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.create("a", "/x", b("0"), 0)
			h.exists("w", "/x", true)
			h.children("w", "/", true)
			h.exists("w", "/n", true)
			h.multi("a", opCreate("/n", nil, 0), opSetData("/x", b("1"), -1), opDelete("/n", -1))
			h.exists("w", "/x", true)
			h.children("w", "/", true)
			h.multi("a", opSetData("/x", b("2"), -1), opCheck("/x", 0))
			h.getData("a", "/x", false)
		}},
		{"multiRead/results", func(h *H) {
			h.connect("a")
			h.create("a", "/r", b("r"), 0)
			h.create("a", "/r/c1", nil, 0)
			h.create("a", "/r/c2", nil, 0)
			h.create("a", "/nr", b("secret"), 0, noRead...)
			h.multiRead("a", opGetData("/r"), opGetChildren("/r"), opGetData("/missing"), opGetChildren("/missing"),
				opGetData("/nr"), opGetChildren("/nr"), opGetData("/r/c1"), opGetData(""), opGetData("relative"))
			// The watch flag is ignored: no event follows.
			h.multiRead("a", proto.MultiOp{Type: proto.OpGetData, Body: &proto.GetDataRequest{Path: "/r", Watch: true}},
				proto.MultiOp{Type: proto.OpGetChildren, Body: &proto.GetChildrenRequest{Path: "/r", Watch: true}})
			h.setData("a", "/r", b("changed"), -1)
			h.create("a", "/r/c3", nil, 0)
		}},
		{"multiRead/undecodable", func(h *H) {
			h.connect("a")
			h.create("a", "/x", nil, 0)
			h.req("a", proto.OpMultiRead, rawMulti(opCreate("/y", nil, 0)))
			h.req("a", proto.OpMultiRead, rawMulti(opGetData("/x"), opCreate("/y", nil, 0)))
			h.req("a", proto.OpMultiRead, rawMulti(opGetData("/x"), proto.MultiOp{Type: 99}))
			h.req("a", proto.OpMultiRead, rawMulti(proto.MultiOp{Type: proto.OpExists, Body: &proto.ExistsRequest{Path: "/x"}}))
			h.req("a", proto.OpMultiRead, rawMulti(proto.MultiOp{Type: proto.OpGetChildren2, Body: &proto.GetChildren2Request{Path: "/x"}}))
			h.req("a", proto.OpMultiRead, rawMulti(opGetData("/x"))[:20])
			h.exists("a", "/y", false)
		}},
	}
}
