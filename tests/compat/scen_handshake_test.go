package compat

import (
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/tests/compat/rawzk"
)

// §4 handshake, §1 framing, §5 headers and unknown opcodes.
func handshakeScenarios() []scenario {
	return append(baseHandshakeScenarios(), undecodableScenarios()...)
}

// undecodableScenarios send every opcode that has a request body with a body too short to
// decode (3 bytes, then none).
func undecodableScenarios() []scenario {
	var out []scenario
	for _, op := range []proto.OpCode{
		proto.OpCreate, proto.OpDelete, proto.OpExists, proto.OpGetData, proto.OpSetData, proto.OpGetACL,
		proto.OpSetACL, proto.OpGetChildren, proto.OpSync, proto.OpGetChildren2, proto.OpMulti, proto.OpCreate2,
		proto.OpCheckWatches, proto.OpRemoveWatches, proto.OpCreateContainer, proto.OpCreateTTL,
		proto.OpMultiRead, proto.OpAuth, proto.OpSetWatches, proto.OpGetEphemerals,
		proto.OpGetAllChildrenNumber, proto.OpSetWatches2, proto.OpAddWatch,
	} {
		out = append(out, scenario{"framing/undecodable-" + op.String(), func(h *H) {
			h.connect("a")
			h.connect("b")
			h.reqXid("a", 1, op, rawzk.RawBody{0, 0, 0})
			h.exists("b", "/", false)
			h.reqXid("b", 2, op, nil)
			h.exists("b", "/", false)
		}})
	}
	return out
}

func baseHandshakeScenarios() []scenario {
	return []scenario{
		{"initial-tree", func(h *H) {
			h.connect("a")
			h.exists("a", "/", false)
			h.children2("a", "/", false)
			h.getData("a", "/", false)
			h.getData("a", "/zookeeper", false)
			h.children2("a", "/zookeeper", false)
			h.getACL("a", "/")
			h.getACL("a", "/zookeeper")
			h.getACL("a", "/zookeeper/config")
			h.getData("a", "/zookeeper/config", false)
			h.exists("a", "/zookeeper/quota", false)
			h.req("a", proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: "/"})
			h.req("a", proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: "/zookeeper"})
			h.create("a", "/a", nil, 0)
			h.exists("a", "/", false)
			h.create("a", "/a/b", nil, 0)
			h.del("a", "/a/b", -1)
			h.exists("a", "/a", false)
		}},
		{"handshake/45-byte-request-37-byte-response", func(h *H) {
			h.connect("a")
			h.whoAmI("a")
		}},
		{"handshake/44-byte-request-36-byte-response", func(h *H) {
			h.do(&connectAct{name: "a", noRO: true})
			h.whoAmI("a")
			h.req("a", proto.OpPing, nil)
			h.reqXid("a", 77, proto.OpPing, nil)
		}},
		{"handshake/readonly-flag-set", func(h *H) {
			h.do(&connectAct{name: "a"})
			h.do(&connectAct{name: "b", roFlag: true})
			h.exists("b", "/", false)
		}},
		{"handshake/protocol-version-ignored", func(h *H) {
			h.do(&connectAct{name: "a", protoVer: 7})
			h.exists("a", "/", false)
		}},
		{"handshake/timeout-negotiation", func(h *H) {
			h.do(&connectAct{name: "a", timeout: 1000})
			h.do(&connectAct{name: "b", timeout: 100000})
			h.do(&connectAct{name: "c", timeout: 0x7fffffff})
			h.do(&connectAct{name: "d", timeout: 10000})
			h.do(&connectAct{name: "e", timeout: -5})
		}},
		{"handshake/reconnect-same-session-closes-old-connection", func(h *H) {
			h.connect("a")
			h.create("a", "/e", b("x"), proto.ModeEphemeral)
			h.reconnect("a", "a")
			h.exists("a", "/e", false)
			h.do(&connectAct{name: "a", reattach: "a", noRO: true, lastZxid: "session"})
			h.exists("a", "/e", false)
		}},
		{"handshake/reconnect-bad-password", func(h *H) {
			h.connect("a")
			h.create("a", "/e", nil, proto.ModeEphemeral)
			h.do(&connectAct{name: "b", reattach: "a", badPW: true})
			h.do(&connectAct{name: "c", reattach: "a", badPW: true, noRO: true})
			h.connect("d")
			h.exists("d", "/e", false)
		}},
		{"handshake/reconnect-unknown-session", func(h *H) {
			h.do(&connectAct{name: "a", unknown: true})
			h.do(&connectAct{name: "b", unknown: true, noRO: true})
		}},
		{"handshake/reconnect-closed-session", func(h *H) {
			h.connect("a")
			h.connect("keep")
			h.do(&connectAct{name: "a2", reattach: "a"}) // moves a's session, closes "a"
			h.closeSession("a2")
			h.do(&connectAct{name: "a3", reattach: "keep", lastZxid: "session"})
			h.exists("a3", "/", false)
		}},
		{"handshake/last-zxid-ahead-closes-without-answer", func(h *H) {
			h.connect("a")
			h.create("a", "/x", nil, 0)
			h.do(&connectAct{name: "b", lastZxid: "ahead"})
			h.do(&connectAct{name: "c", reattach: "a", lastZxid: "ahead"})
			h.exists("a", "/x", false)
			h.do(&connectAct{name: "d", reattach: "a", lastZxid: "session"})
			h.exists("d", "/x", false)
		}},
		{"handshake/pipelined-requests-after-connect", func(h *H) {
			h.connect("w")
			h.create("w", "/p", b("data"), 0)
			h.do(&connectAct{name: "a", then: []struct {
				op   proto.OpCode
				body proto.Record
			}{
				{proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: b("bob:secret")}},
				{proto.OpGetData, &proto.GetDataRequest{Path: "/p"}},
				{proto.OpWhoAmI, nil},
				{proto.OpCreate, &proto.CreateRequest{Path: "/p/c", Acl: open}},
			}})
		}},
		{"framing/garbage-first-frame", func(h *H) {
			h.dialRaw("a", []byte("abcd"))
		}},
		{"framing/oversize-first-frame", func(h *H) {
			h.dialRaw("a", []byte{0x00, 0x10, 0x00, 0x00, 1, 2, 3, 4})
		}},
		{"framing/negative-first-frame", func(h *H) {
			h.dialRaw("a", []byte{0xff, 0xff, 0xff, 0xfb})
		}},
		{"framing/short-connect-request", func(h *H) {
			h.dialRaw("a", frame(make([]byte, 10)))
		}},
		{"framing/connect-request-long-password", func(h *H) {
			h.do(&connectAct{name: "a", passwd: make([]byte, 40)})
			h.do(&connectAct{name: "b", passwd: []byte{}})
			h.do(&connectAct{name: "c", passwd: []byte{1, 2, 3}, noRO: true})
		}},
		{"framing/ruok", func(h *H) {
			h.dialRaw("a", []byte("ruok"))
		}},
		{"framing/oversize-frame-after-handshake", func(h *H) {
			h.connect("a")
			h.connect("b")
			h.rawNoReply("a", []byte{0x00, 0x10, 0x00, 0x00, 0, 0, 0, 1, 0, 0, 0, 4}, "frame length 0x100000 (jute.maxbuffer+1)")
		}},
		{"framing/max-frame-accepted", func(h *H) {
			h.connect("a")
			h.create("a", "/big", nil, 0)
			// A setData frame of exactly jute.maxbuffer bytes is read; the write itself succeeds.
			n := 0xfffff - (8 + 4 + 4 + 4 + 4)
			h.req("a", proto.OpSetData, &proto.SetDataRequest{Path: "/big", Data: make([]byte, n), Version: -1})
			h.exists("a", "/big", false)
		}},
		{"framing/negative-frame-after-handshake", func(h *H) {
			h.connect("a")
			h.rawNoReply("a", []byte{0xff, 0xff, 0xff, 0xff}, "frame length -1")
		}},
		{"framing/empty-frame-after-handshake", func(h *H) {
			h.connect("a")
			h.rawNoReply("a", frame(nil), "frame length 0")
		}},
		{"framing/short-header", func(h *H) {
			h.connect("a")
			h.rawNoReply("a", frame([]byte{0, 0, 0, 1, 0, 0}), "6-byte request header")
		}},
		{"framing/truncated-body", func(h *H) {
			h.connect("a")
			h.do(&reqAct{conn: "a", op: proto.OpGetData, raw: frame([]byte{0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 9, '/', 'x'}), desc: "getData with a truncated path"})
		}},
		{"framing/trailing-bytes-after-body", func(h *H) {
			h.connect("a")
			body := append(rawzk.RequestBytes(1, proto.OpExists, &proto.ExistsRequest{Path: "/"}), 0xde, 0xad)
			h.do(&reqAct{conn: "a", op: proto.OpExists, raw: frame(body), desc: "exists / with 2 extra bytes"})
			h.exists("a", "/zookeeper", false)
		}},
		{"framing/two-requests-one-write", func(h *H) {
			h.connect("a")
			h.create("a", "/x", b("1"), 0)
			two := append(reqBytes(10, proto.OpExists, &proto.ExistsRequest{Path: "/x"}),
				reqBytes(11, proto.OpGetData, &proto.GetDataRequest{Path: "/x"})...)
			h.do(&reqAct{conn: "a", op: proto.OpExists, raw: two, more: []proto.OpCode{proto.OpGetData}, desc: "exists+getData in one write"})
		}},
		{"opcodes/unknown-99", func(h *H) {
			h.connect("a")
			h.connect("b")
			h.reqXid("a", 5, 99, nil)
		}},
		{"opcodes/unknown-10", func(h *H) {
			h.connect("a")
			h.reqXid("a", 5, 10, nil)
		}},
		{"opcodes/unknown-0-notification", func(h *H) {
			h.connect("a")
			h.reqXid("a", 5, proto.OpNotification, nil)
		}},
		{"opcodes/unknown-negative", func(h *H) {
			h.connect("a")
			h.reqXid("a", 5, -7, nil)
		}},
		{"opcodes/reconfig-disabled", func(h *H) {
			h.connect("a")
			h.req("a", proto.OpReconfig, &proto.ReconfigRequest{JoiningServers: "server.2=127.0.0.1:2888:3888;2181", CurConfigId: -1})
			h.exists("a", "/", false)
		}},
		{"opcodes/xids-echoed", func(h *H) {
			h.connect("a")
			h.reqXid("a", 0, proto.OpExists, &proto.ExistsRequest{Path: "/"})
			h.reqXid("a", -8, proto.OpExists, &proto.ExistsRequest{Path: "/"})
			h.reqXid("a", -4, proto.OpExists, &proto.ExistsRequest{Path: "/"})
			h.reqXid("a", 0x7fffffff, proto.OpGetData, &proto.GetDataRequest{Path: "/nope"})
			h.reqXid("a", -100, proto.OpCreate, &proto.CreateRequest{Path: "/x", Acl: open})
			h.reqXid("a", 3, proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: b("u:p")})
			h.reqXid("a", 3, proto.OpSync, &proto.SyncRequest{Path: "/x"})
		}},
	}
}
