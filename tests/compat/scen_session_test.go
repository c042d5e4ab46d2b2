package compat

import (
	"fmt"
	"time"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/tests/compat/rawzk"
)

// waitGoneAct polls exists(path) on a connection until the node is gone (session expiry runs
// on the server's own schedule), then reports the first NoNode reply.
type waitGoneAct struct {
	conn, path string
	limit      time.Duration
}

func (a *waitGoneAct) describe() string {
	return fmt.Sprintf("%s: poll exists %s until it is gone (≤ %v)", a.conn, a.path, a.limit)
}

func (a *waitGoneAct) run(h *H, s *side) ([]string, int64) {
	c := s.conns[a.conn]
	deadline := time.Now().Add(a.limit)
	var evs []rawzk.Frame
	for time.Now().Before(deadline) {
		// A fixed xid: the number of polls differs between the servers.
		f, e, err := c.c.Call(1000, proto.OpExists, &proto.ExistsRequest{Path: a.path})
		evs = append(evs, e...)
		if err != nil {
			return []string{a.conn + ": " + replyErr(c, err)}, 0
		}
		if f.Header.Err == int32(proto.ErrNoNode) {
			s.seen(c.sess, f.Header.Zxid)
			// The expiry is the last transaction: the NoNode reply carries its zxid, which is
			// what Warren stamps on the events it fired.
			txn := f.Header.Zxid
			lines := []string{}
			for _, ev := range evs {
				lines = append(lines, a.conn+": "+s.event(ev, txn))
			}
			return append(lines, a.conn+": "+s.reply(proto.OpExists, nil, f, c)), txn
		}
		time.Sleep(100 * time.Millisecond)
	}
	return []string{a.conn + ": still there after " + a.limit.String()}, 0
}

// sessionScenarios cover §16 (sessions) and opcodes whose handling is session-level.
func sessionScenarios() []scenario {
	return []scenario{
		{"session/close-deletes-ephemerals", func(h *H) {
			h.connect("a")
			h.connect("b")
			h.create("a", "/p", nil, 0)
			h.create("a", "/p/e", b("e"), proto.ModeEphemeral)
			h.create("b", "/p/eb", nil, proto.ModeEphemeral)
			h.exists("b", "/p/e", false)
			h.exists("b", "/p", false)
			h.closeSession("a")
			h.exists("b", "/p", false)
			h.children("b", "/p", false)
			h.req("b", proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: "/"})
		}},
		{"session/close-pipelined", func(h *H) {
			h.connect("a")
			h.connect("b")
			// (A request pipelined after closeSession is answered SessionExpired or dropped by
			// ZooKeeper depending on timing, so none is sent.)
			raw := append(reqBytes(1, proto.OpCreate, &proto.CreateRequest{Path: "/e", Acl: open, Flags: proto.ModeEphemeral}),
				reqBytes(2, proto.OpCloseSession, nil)...)
			h.do(&reqAct{conn: "a", op: proto.OpCreate, raw: raw, more: []proto.OpCode{proto.OpCloseSession},
				desc: "create /e (ephemeral), closeSession in one write"})
			h.exists("b", "/e", false)
		}},
		{"session/close-with-body-and-xids", func(h *H) {
			h.connect("a")
			h.reqXid("a", 0, proto.OpCloseSession, &proto.GetDataRequest{Path: "/ignored"})
		}},
		{"session/reattach-keeps-ephemerals", func(h *H) {
			h.connect("a")
			h.connect("b")
			h.create("a", "/e", nil, proto.ModeEphemeral)
			h.drop("a")
			h.exists("b", "/e", false)
			h.reconnect("a", "a")
			h.create("a", "/e2", nil, proto.ModeEphemeral)
			h.req("a", proto.OpGetEphemerals, &proto.GetEphemeralsRequest{})
			h.closeSession("a")
			h.exists("b", "/e", false)
			h.exists("b", "/e2", false)
		}},
		{"session/expiry-deletes-ephemerals", func(h *H) {
			h.connect("w")
			h.do(&connectAct{name: "a", timeout: 4000})
			h.create("a", "/p", nil, 0)
			h.create("a", "/p/e", nil, proto.ModeEphemeral)
			h.exists("w", "/p/e", true)
			h.children("w", "/p", true)
			h.drop("a")
			h.do(&waitGoneAct{conn: "w", path: "/p/e", limit: 20 * time.Second})
			h.exists("w", "/p", false)
			h.do(&connectAct{name: "a2", reattach: "a"})
		}},
		{"opcodes/sasl-without-sasl", func(h *H) {
			h.connect("a")
			h.create("a", "/x", nil, 0)
			h.req("a", proto.OpSASL, &proto.GetSASLRequest{Token: b("token")})
			h.req("a", proto.OpSASL, &proto.GetSASLRequest{Token: []byte{}})
			h.whoAmI("a")
			h.reqXid("a", 9, proto.OpSASL, rawzk.RawBody{0, 0})
			h.connect("b")
			h.req("b", proto.OpSASL, &proto.GetSASLRequest{Token: nil})
		}},
		{"opcodes/top-level-check", func(h *H) {
			h.connect("a")
			h.create("a", "/c", nil, 0)
			h.known("top-level-check", &reqAct{conn: "a", op: proto.OpCheck, body: &proto.CheckVersionRequest{Path: "/c", Version: 5}}, []string{
				"a: reply xid=2 zxid=z3 err=-103(BadVersion)",
				"a: ping xid=-2 zxid=z3 err=0",
			}, []string{
				"a: reply xid=2 zxid=-1 err=-6(Unimplemented)",
				"a: closed",
			}, true)
		}},
		{"opcodes/deleteContainer-from-client", func(h *H) {
			h.connect("a")
			createContainer(h, "a", "/c", nil, proto.ModeContainer)
			h.req("a", proto.OpDeleteContainer, &proto.DeleteContainerRequest{Path: b("/missing")})
			h.req("a", proto.OpDeleteContainer, &proto.DeleteContainerRequest{Path: b("/c")})
			h.req("a", proto.OpDeleteContainer, rawzk.RawBody("/c"))
			h.reqXid("a", 0x2f630000, proto.OpDeleteContainer, nil)
			h.exists("a", "/c", false)
		}},
		{"opcodes/createSession-from-client", func(h *H) {
			h.connect("a")
			h.reqXid("a", 4, proto.OpCreateSession, nil)
		}},
	}
}
