package compat

import (
	"github.com/warren-zk/warren/internal/proto"
)

func setWatchesFor(sess string, data, exist, child []string) func(s *side) proto.Record {
	return func(s *side) proto.Record {
		var rel int64
		if si := s.sess[sess]; si != nil {
			rel = si.last
		}
		return &proto.SetWatches{RelativeZxid: rel, DataWatches: data, ExistWatches: exist, ChildWatches: child}
	}
}

func setWatches2For(sess string, data, exist, child, persistent, recursive []string) func(s *side) proto.Record {
	return func(s *side) proto.Record {
		var rel int64
		if si := s.sess[sess]; si != nil {
			rel = si.last
		}
		return &proto.SetWatches2{RelativeZxid: rel, DataWatches: data, ExistWatches: exist, ChildWatches: child,
			PersistentWatches: persistent, PersistentRecursiveWatches: recursive}
	}
}

func (h *H) checkWatches(conn, path string, typ int32) {
	h.t.Helper()
	h.req(conn, proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: path, Type: typ})
}

func (h *H) removeWatches(conn, path string, typ int32) {
	h.t.Helper()
	h.req(conn, proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: path, Type: typ})
}

// §15 watches.
func watchScenarios() []scenario {
	return []scenario{
		{"watches/data-standard", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.exists("w", "/x", true) // missing: still sets a watch
			h.create("a", "/x", b("1"), 0)
			h.setData("a", "/x", b("2"), -1) // consumed: nothing
			h.getData("w", "/x", true)
			h.setData("a", "/x", b("3"), -1)
			h.getData("w", "/x", true)
			h.exists("w", "/x", true) // one entry: a single event
			h.del("a", "/x", -1)
			h.create("a", "/x", nil, 0)
		}},
		{"watches/failed-reads-set-no-watch", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.getData("w", "/x", true)
			h.children("w", "/x", true)
			h.children2("w", "/x", true)
			h.create("a", "/x", nil, 0)
			h.create("a", "/x/c", nil, 0)
			h.create("a", "/nr", nil, 0, noRead...)
			h.getData("w", "/nr", true)
			h.children("w", "/nr", true)
			h.setACL("a", "/nr", -1, open...)
			h.setData("a", "/nr", b("x"), -1)
			h.create("a", "/nr/c", nil, 0)
		}},
		{"watches/child", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.children("w", "/", true)
			h.create("a", "/w3", nil, 0)
			h.create("a", "/p", nil, 0)
			h.children2("w", "/p", true)
			h.setData("a", "/p", b("no child event"), -1)
			h.create("a", "/p/c", nil, 0)
			h.children("w", "/p", true)
			h.getData("w", "/p", true)
			h.del("a", "/p/c", -1)
			h.children("w", "/p", true)
			h.getData("w", "/p", true)
			h.children("w", "/", true)
			h.del("a", "/p", -1) // NodeDeleted once, then NodeChildrenChanged on /
		}},
		{"watches/own-session-events-before-reply", func(h *H) {
			h.connect("a")
			h.exists("a", "/x", true)
			h.children("a", "/", true)
			h.create("a", "/x", nil, 0)
			h.getData("a", "/x", true)
			h.multi("a", opSetData("/x", b("1"), -1), opCreate("/y", nil, 0))
		}},
		{"watches/several-sessions", func(h *H) {
			h.connect("a")
			h.connect("w1")
			h.connect("w2")
			h.create("a", "/x", nil, 0)
			h.getData("w1", "/x", true)
			h.exists("w2", "/x", true)
			h.children("w2", "/x", true)
			h.create("a", "/x/c", nil, 0)
			h.setData("a", "/x", b("1"), -1)
			h.del("a", "/x/c", -1)
			h.del("a", "/x", -1)
		}},
		{"watches/persistent", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.addWatch("w", "/p", proto.AddWatchPersistent)
			h.create("a", "/p", nil, 0)
			h.create("a", "/p/c", nil, 0)
			h.setData("a", "/p", b("1"), -1)
			h.setData("a", "/p/c", b("1"), -1)
			h.create("a", "/p/c/d", nil, 0)
			h.del("a", "/p/c/d", -1)
			h.del("a", "/p/c", -1)
			h.del("a", "/p", -1)
			h.create("a", "/p", nil, 0)
			h.setData("a", "/p", b("still there"), -1)
			h.addWatch("w", "/", proto.AddWatchPersistent)
			h.create("a", "/q", nil, 0)
			h.checkWatches("w", "/p", proto.WatcherAny)
			h.removeWatches("w", "/p", proto.WatcherAny)
			h.setData("a", "/p", b("gone"), -1)
			h.removeWatches("w", "/p", proto.WatcherAny)
		}},
		{"watches/persistent-recursive", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.addWatch("w", "/r", proto.AddWatchPersistentRecursive)
			h.create("a", "/r", nil, 0)
			h.create("a", "/r/c", nil, 0)
			h.create("a", "/r/c/d", nil, 0)
			h.setData("a", "/r/c/d", b("1"), -1)
			h.setData("a", "/r", b("1"), -1)
			h.del("a", "/r/c/d", -1)
			h.multi("a", opCreate("/r/m", nil, 0), opSetData("/r/m", b("x"), -1), opDelete("/r/m", -1))
			h.create("a", "/rx", nil, 0) // not below /r
			h.del("a", "/r/c", -1)
			h.del("a", "/r", -1)
			h.exists("w", "/r/x", true)
			h.create("a", "/r", nil, 0)
			h.create("a", "/r/x", nil, 0) // recursive and standard: one event
			h.checkWatches("w", "/r", proto.WatcherAny)
			h.removeWatches("w", "/r", proto.WatcherAny)
			h.create("a", "/r/y", nil, 0)
		}},
		{"watches/recursive-on-root", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.addWatch("w", "/", proto.AddWatchPersistentRecursive)
			h.create("a", "/x", nil, 0)
			h.create("a", "/x/y", b("1"), 0)
			h.setData("a", "/", b("root"), -1)
			h.setData("a", "/", []byte{}, -1)
			h.create("a", "/zookeeper/z", nil, 0)
		}},
		{"watches/addWatch-modes", func(h *H) {
			h.connect("a")
			h.connect("b")
			h.connect("c")
			h.addWatch("a", "/missing/deep", proto.AddWatchPersistent)
			h.addWatch("a", "noslash", proto.AddWatchPersistent)
			h.addWatch("a", "", proto.AddWatchPersistentRecursive)
			h.create("a", "/nr", nil, 0, noRead...)
			h.addWatch("a", "/nr", proto.AddWatchPersistent)
			h.addWatch("b", "/x", 2)
			h.addWatch("c", "/x", -1)
			h.create("a", "/missing", nil, 0)
			h.create("a", "/missing/deep", nil, 0)
		}},
		{"watches/check-and-remove", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.create("a", "/x", nil, 0)
			for _, typ := range []int32{proto.WatcherChildren, proto.WatcherData, proto.WatcherAny} {
				h.checkWatches("w", "/x", typ)
				h.removeWatches("w", "/x", typ)
			}
			h.getData("w", "/x", true)
			h.checkWatches("w", "/x", proto.WatcherChildren)
			h.checkWatches("w", "/x", proto.WatcherData)
			h.checkWatches("w", "/x", proto.WatcherAny)
			h.checkWatches("w", "/x", proto.WatcherData) // check removes nothing
			h.removeWatches("w", "/x", proto.WatcherChildren)
			h.removeWatches("w", "/x", proto.WatcherData)
			h.removeWatches("w", "/x", proto.WatcherData)
			h.setData("a", "/x", b("1"), -1)
			h.children("w", "/x", true)
			h.exists("w", "/x", true)
			h.removeWatches("w", "/x", proto.WatcherAny)
			h.checkWatches("w", "/x", proto.WatcherAny)
			h.create("a", "/x/c", nil, 0)
			h.children("w", "/x", true)
			h.exists("w", "/x", true)
			h.removeWatches("w", "/x", proto.WatcherChildren)
			h.checkWatches("w", "/x", proto.WatcherData)
			h.del("a", "/x/c", -1)
			h.setData("a", "/x", b("2"), -1)
			h.exists("w", "/missing", true)
			h.checkWatches("w", "/missing", proto.WatcherData)
			// Another connection's watch: ZooKeeper 3.8.0 reports any watch on the path.
			h.known("watch-modes", &reqAct{conn: "a", op: proto.OpCheckWatches, body: &proto.CheckWatchesRequest{Path: "/missing", Type: proto.WatcherData}}, []string{"a: reply xid=6 zxid=z7 err=0 (no body)", "a: ping xid=-2 zxid=z7 err=0", "w: ping xid=-2 zxid=z7 err=0"}, []string{"a: reply xid=6 zxid=z7 err=-121(No such watcher)", "a: ping xid=-2 zxid=z7 err=0", "w: ping xid=-2 zxid=z7 err=0"}, false)
			h.removeWatches("a", "/missing", proto.WatcherAny)
			h.removeWatches("w", "/missing", proto.WatcherData)
			for _, typ := range []int32{0, 6, -1, 100} {
				h.checkWatches("w", "/x", typ)
			}
			h.removeWatches("w", "/x", 0)
			h.removeWatches("w", "/x", 99)
			// ZooKeeper 3.8.0 walks the parents of the path and fails on a relative one.
			h.known("watch-modes", &reqAct{conn: "w", op: proto.OpCheckWatches, body: &proto.CheckWatchesRequest{Path: "relative", Type: proto.WatcherAny}}, []string{"w: reply xid=32 zxid=z7 err=-5(MarshallingError)", "a: ping xid=-2 zxid=z7 err=0", "w: ping xid=-2 zxid=z7 err=0"}, []string{"w: reply xid=32 zxid=z7 err=-121(No such watcher)", "a: ping xid=-2 zxid=z7 err=0", "w: ping xid=-2 zxid=z7 err=0"}, false)
			h.checkWatches("w", "", proto.WatcherAny)
		}},
		{"watches/check-remove-with-persistent", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.create("a", "/x", nil, 0)
			h.addWatch("w", "/x", proto.AddWatchPersistent)
			h.checkWatches("w", "/x", proto.WatcherAny)
			h.removeWatches("w", "/x", proto.WatcherAny)
			h.setData("a", "/x", b("2"), -1)
			h.addWatch("w", "/x", proto.AddWatchPersistentRecursive)
			h.checkWatches("w", "/x", proto.WatcherAny)
			h.removeWatches("w", "/x", proto.WatcherAny)
			h.create("a", "/x/d", nil, 0)
			h.addWatch("w", "/x", proto.AddWatchPersistent)
			// Children/Data match standard watches only in 3.9.
			h.known("watcher-types", &reqAct{conn: "w", op: proto.OpCheckWatches, body: &proto.CheckWatchesRequest{Path: "/x", Type: proto.WatcherData}}, []string{"w: reply xid=8 zxid=z5 err=0 (no body)", "a: ping xid=-2 zxid=z5 err=0", "w: ping xid=-2 zxid=z5 err=0"}, []string{"w: reply xid=8 zxid=z5 err=-121(No such watcher)", "a: ping xid=-2 zxid=z5 err=0", "w: ping xid=-2 zxid=z5 err=0"}, false)
			h.known("watcher-types", &reqAct{conn: "w", op: proto.OpRemoveWatches, body: &proto.RemoveWatchesRequest{Path: "/x", Type: proto.WatcherChildren}}, []string{"w: reply xid=9 zxid=z5 err=0 (no body)", "a: ping xid=-2 zxid=z5 err=0", "w: ping xid=-2 zxid=z5 err=0"}, []string{"w: reply xid=9 zxid=z5 err=-121(No such watcher)", "a: ping xid=-2 zxid=z5 err=0", "w: ping xid=-2 zxid=z5 err=0"}, false)
			h.known("watcher-types", &reqAct{conn: "a", op: proto.OpCreate, body: &proto.CreateRequest{Path: "/x/c", Acl: open}}, []string{"a: reply xid=4 zxid=z6 err=0 Create{path=\"/x/c\"}", "a: ping xid=-2 zxid=z6 err=0", "w: ping xid=-2 zxid=z6 err=0"}, []string{"a: reply xid=4 zxid=z6 err=0 Create{path=\"/x/c\"}", "a: ping xid=-2 zxid=z6 err=0", "w: event NodeChildrenChanged \"/x\" state=3 zxid=<notification>", "w: ping xid=-2 zxid=z6 err=0"}, false)
			h.setData("a", "/x", b("1"), -1)
		}},
		{"watches/remove-persistent-types", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.create("a", "/x", nil, 0)
			h.addWatch("w", "/x", proto.AddWatchPersistent)
			h.addWatch("w", "/r", proto.AddWatchPersistentRecursive)
			h.known("watcher-types", &reqAct{conn: "w", op: proto.OpCheckWatches, body: &proto.CheckWatchesRequest{Path: "/x", Type: proto.WatcherPersistent}}, []string{"w: reply xid=3 zxid=z3 err=-5(MarshallingError)", "a: ping xid=-2 zxid=z3 err=0", "w: ping xid=-2 zxid=z3 err=0"}, []string{"w: reply xid=3 zxid=z3 err=0 (no body)", "a: ping xid=-2 zxid=z3 err=0", "w: ping xid=-2 zxid=z3 err=0"}, false)
			h.known("watcher-types", &reqAct{conn: "w", op: proto.OpCheckWatches, body: &proto.CheckWatchesRequest{Path: "/x", Type: proto.WatcherPersistentRecursive}}, []string{"w: reply xid=4 zxid=z3 err=-5(MarshallingError)", "a: ping xid=-2 zxid=z3 err=0", "w: ping xid=-2 zxid=z3 err=0"}, []string{"w: reply xid=4 zxid=z3 err=-121(No such watcher)", "a: ping xid=-2 zxid=z3 err=0", "w: ping xid=-2 zxid=z3 err=0"}, false)
			h.known("watcher-types", &reqAct{conn: "w", op: proto.OpRemoveWatches, body: &proto.RemoveWatchesRequest{Path: "/r", Type: proto.WatcherPersistent}}, []string{"w: reply xid=5 zxid=z3 err=-5(MarshallingError)", "a: ping xid=-2 zxid=z3 err=0", "w: ping xid=-2 zxid=z3 err=0"}, []string{"w: reply xid=5 zxid=z3 err=-121(No such watcher)", "a: ping xid=-2 zxid=z3 err=0", "w: ping xid=-2 zxid=z3 err=0"}, false)
			h.known("watcher-types", &reqAct{conn: "w", op: proto.OpRemoveWatches, body: &proto.RemoveWatchesRequest{Path: "/x", Type: proto.WatcherPersistent}}, []string{"w: reply xid=6 zxid=z3 err=-5(MarshallingError)", "a: ping xid=-2 zxid=z3 err=0", "w: ping xid=-2 zxid=z3 err=0"}, []string{"w: reply xid=6 zxid=z3 err=0 (no body)", "a: ping xid=-2 zxid=z3 err=0", "w: ping xid=-2 zxid=z3 err=0"}, false)
			h.known("watcher-types", &reqAct{conn: "a", op: proto.OpSetData, body: &proto.SetDataRequest{Path: "/x", Data: b("1"), Version: -1}}, []string{"a: reply xid=2 zxid=z4 err=0 Stat{czxid=z3 mzxid=z4 ctime=T mtime=T version=1 cversion=0 aversion=0 owner=0 dataLength=1 numChildren=0 pzxid=z3}", "a: ping xid=-2 zxid=z4 err=0", "w: event NodeDataChanged \"/x\" state=3 zxid=<notification>", "w: ping xid=-2 zxid=z4 err=0"}, []string{"a: reply xid=2 zxid=z4 err=0 Stat{czxid=z3 mzxid=z4 ctime=T mtime=T version=1 cversion=0 aversion=0 owner=0 dataLength=1 numChildren=0 pzxid=z3}", "a: ping xid=-2 zxid=z4 err=0", "w: ping xid=-2 zxid=z4 err=0"}, false)
			h.known("watcher-types", &reqAct{conn: "w", op: proto.OpRemoveWatches, body: &proto.RemoveWatchesRequest{Path: "/r", Type: proto.WatcherPersistentRecursive}}, []string{"w: reply xid=7 zxid=z4 err=-5(MarshallingError)", "a: ping xid=-2 zxid=z4 err=0", "w: ping xid=-2 zxid=z4 err=0"}, []string{"w: reply xid=7 zxid=z4 err=0 (no body)", "a: ping xid=-2 zxid=z4 err=0", "w: ping xid=-2 zxid=z4 err=0"}, false)
			h.known("watcher-types", &reqAct{conn: "a", op: proto.OpCreate, body: &proto.CreateRequest{Path: "/r", Acl: open}}, []string{"a: reply xid=3 zxid=z5 err=0 Create{path=\"/r\"}", "a: ping xid=-2 zxid=z5 err=0", "w: event NodeCreated \"/r\" state=3 zxid=<notification>", "w: ping xid=-2 zxid=z5 err=0"}, []string{"a: reply xid=3 zxid=z5 err=0 Create{path=\"/r\"}", "a: ping xid=-2 zxid=z5 err=0", "w: ping xid=-2 zxid=z5 err=0"}, false)
		}},
		{"watches/standard-and-persistent-same-path", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.connect("v")
			h.create("a", "/p", nil, 0)
			h.create("a", "/q", nil, 0)
			// standard first, persistent second: the same on both (persistent keeps firing)
			h.getData("v", "/q", true)
			h.addWatch("v", "/q", proto.AddWatchPersistent)
			h.setData("a", "/q", b("1"), -1)
			h.setData("a", "/q", b("2"), -1)
			// persistent first, standard second: 3.8.0 forgets the persistent watch
			h.addWatch("w", "/p", proto.AddWatchPersistent)
			h.getData("w", "/p", true)
			h.setData("a", "/p", b("1"), -1)
			h.known("watch-modes", &reqAct{conn: "a", op: proto.OpSetData, body: &proto.SetDataRequest{Path: "/p", Data: b("2"), Version: -1}}, []string{"a: reply xid=6 zxid=z9 err=0 Stat{czxid=z4 mzxid=z9 ctime=T mtime=T version=2 cversion=0 aversion=0 owner=0 dataLength=1 numChildren=0 pzxid=z4}", "a: ping xid=-2 zxid=z9 err=0", "w: ping xid=-2 zxid=z9 err=0", "v: ping xid=-2 zxid=z9 err=0"}, []string{"a: reply xid=6 zxid=z9 err=0 Stat{czxid=z4 mzxid=z9 ctime=T mtime=T version=2 cversion=0 aversion=0 owner=0 dataLength=1 numChildren=0 pzxid=z4}", "a: ping xid=-2 zxid=z9 err=0", "w: event NodeDataChanged \"/p\" state=3 zxid=<notification>", "w: ping xid=-2 zxid=z9 err=0", "v: ping xid=-2 zxid=z9 err=0"}, false)
			h.create("a", "/p/c", nil, 0) // the child half of the persistent watch survives on 3.8.0
			// recursive after a child watch on the same path: 3.8.0 drops the child watch
			h.children("v", "/q", true)
			h.addWatch("v", "/q", proto.AddWatchPersistentRecursive)
			h.known("watch-modes", &reqAct{conn: "a", op: proto.OpCreate, body: &proto.CreateRequest{Path: "/q/c", Acl: open}}, []string{"a: reply xid=8 zxid=z11 err=0 Create{path=\"/q/c\"}", "a: ping xid=-2 zxid=z11 err=0", "w: ping xid=-2 zxid=z11 err=0", "v: event NodeCreated \"/q/c\" state=3 zxid=<notification>", "v: ping xid=-2 zxid=z11 err=0"}, []string{"a: reply xid=8 zxid=z11 err=0 Create{path=\"/q/c\"}", "a: ping xid=-2 zxid=z11 err=0", "w: ping xid=-2 zxid=z11 err=0", "v: event NodeCreated \"/q/c\" state=3 zxid=<notification>", "v: event NodeChildrenChanged \"/q\" state=3 zxid=<notification>", "v: ping xid=-2 zxid=z11 err=0"}, false)
		}},
		{"watches/set-watches-catch-up", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.create("a", "/d", b("0"), 0)
			h.create("a", "/z", nil, 0)
			h.create("a", "/gone", nil, 0)
			h.create("a", "/same", nil, 0)
			h.getData("w", "/d", true)
			h.exists("w", "/e", true)
			h.children("w", "/z", true)
			h.getData("w", "/gone", true)
			h.getData("w", "/same", true)
			h.drop("w")
			h.setData("a", "/d", b("1"), -1)
			h.create("a", "/e", nil, 0)
			h.create("a", "/z/c", nil, 0)
			h.del("a", "/gone", -1)
			h.reconnect("w", "w")
			h.do(&reqAct{conn: "w", op: proto.OpSetWatches, bodyFn: setWatchesFor("w",
				[]string{"/d", "/gone", "/same", "/never"}, []string{"/e", "/stillmissing"}, []string{"/z", "/gone", "/"})})
			h.setData("a", "/same", b("now"), -1)
			h.create("a", "/stillmissing", nil, 0)
			h.create("a", "/q", nil, 0)
		}},
		{"watches/set-watches-zero-and-future-zxid", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.create("a", "/d", nil, 0)
			h.create("a", "/d/c", nil, 0)
			h.req("w", proto.OpSetWatches, &proto.SetWatches{RelativeZxid: 0, DataWatches: []string{"/d"}, ExistWatches: []string{"/d"}, ChildWatches: []string{"/d"}})
			h.do(&reqAct{conn: "w", op: proto.OpSetWatches, bodyFn: func(s *side) proto.Record {
				return &proto.SetWatches{RelativeZxid: s.last + 100, DataWatches: []string{"/d"}, ChildWatches: []string{"/d"}}
			}})
			h.setData("a", "/d", b("1"), -1)
			h.create("a", "/d/e", nil, 0)
			h.req("w", proto.OpSetWatches, &proto.SetWatches{RelativeZxid: -1, DataWatches: []string{}, ExistWatches: []string{}, ChildWatches: []string{}})
			h.req("w", proto.OpSetWatches, &proto.SetWatches{RelativeZxid: 0, DataWatches: []string{"relative", ""}, ExistWatches: []string{"", "x"}, ChildWatches: []string{""}})
		}},
		{"watches/set-watches2-persistent", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.create("a", "/p", nil, 0)
			h.create("a", "/d", nil, 0)
			h.do(&reqAct{conn: "w", op: proto.OpSetWatches2, bodyFn: setWatches2For("w",
				[]string{"/d"}, []string{"/nope"}, nil, []string{"/p", "/missing"}, []string{"/r"})})
			h.create("a", "/p/c", nil, 0)
			h.setData("a", "/p", b("1"), -1)
			h.create("a", "/r", nil, 0)
			h.create("a", "/r/deep", nil, 0)
			h.create("a", "/missing", nil, 0)
			h.setData("a", "/d", b("1"), -1)
			h.create("a", "/nope", nil, 0)
		}},
		{"watches/dropped-with-connection", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.create("a", "/x", nil, 0)
			h.getData("w", "/x", true)
			h.addWatch("w", "/", proto.AddWatchPersistentRecursive)
			h.reconnect("w", "w") // a new connection for the session: the watches stay behind
			h.setData("a", "/x", b("1"), -1)
			h.checkWatches("w", "/x", proto.WatcherAny)
		}},
		{"watches/acl-filtered-events", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.connect("r")
			h.connect("super")
			h.auth("a", "digest", "bob:secret")
			h.auth("super", "digest", superAuth)
			h.create("a", "/s", nil, 0)
			h.children("w", "/s", true)
			h.exists("w", "/s/secret", true)
			h.exists("super", "/s/secret", true)
			h.addWatch("r", "/s", proto.AddWatchPersistentRecursive)
			h.addWatch("super", "/", proto.AddWatchPersistentRecursive)
			// NodeCreated needs READ on the new node; NodeChildrenChanged on the parent.
			h.create("a", "/s/secret", b("x"), 0, bobAll...)
			h.create("a", "/s/open", nil, 0)
			h.getData("w", "/s/open", true)
			h.setACL("a", "/s/open", -1, bobAll...)
			h.setData("a", "/s/open", b("1"), -1)
			h.setData("a", "/s/secret", b("1"), -1)
			h.create("a", "/s/secret/c", nil, 0)
			h.exists("w", "/s/secret/c", true)
			h.del("a", "/s/secret/c", -1)
			h.del("a", "/s/secret", -1)
			h.setACL("a", "/s", -1, bobAll...)
			h.create("a", "/s/x", nil, 0) // the parent is no longer readable
			h.del("a", "/s/x", -1)
			h.create("a", "/s/y", nil, 0, readAll...)
		}},
		{"watches/acl-filtered-ip-and-world", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.addWatch("w", "/", proto.AddWatchPersistentRecursive)
			h.create("a", "/ip", nil, 0, proto.ACL{Perms: proto.PermRead, Id: proto.Id{Scheme: "ip", Id: "127.0.0.1"}})
			h.create("a", "/ip8", nil, 0, proto.ACL{Perms: proto.PermRead, Id: proto.Id{Scheme: "ip", Id: "127.0.0.0/8"}})
			h.create("a", "/ipother", nil, 0, proto.ACL{Perms: proto.PermAll, Id: proto.Id{Scheme: "ip", Id: "10.1.2.3"}})
			h.create("a", "/w", nil, 0, worldACL(proto.PermWrite))
			h.create("a", "/empty", nil, 0, worldACL(0))
		}},
		{"watches/session-close-fires", func(h *H) {
			h.connect("a")
			h.connect("w")
			h.create("a", "/p", nil, 0)
			h.create("a", "/p/e1", nil, proto.ModeEphemeral)
			h.create("a", "/p/e2", nil, proto.ModeEphemeralSequential)
			h.create("a", "/e3", nil, proto.ModeEphemeral)
			h.exists("w", "/p/e1", true)
			h.getData("w", "/e3", true)
			h.children("w", "/p", true)
			h.children("w", "/", true)
			h.connect("r")
			h.addWatch("r", "/p", proto.AddWatchPersistentRecursive)
			h.closeSession("a")
			h.exists("w", "/p", false)
			h.exists("w", "/", false)
			h.req("w", proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: "/"})
		}},
	}
}
