package compat

import (
	"errors"
	"fmt"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/tests/compat/rawzk"
)

// Shorthands for scenarios.

var (
	open    = proto.OpenACLUnsafe
	readAll = proto.ReadACLUnsafe
)

func (h *H) connect(name string) { h.t.Helper(); h.do(&connectAct{name: name}) }

func (h *H) req(conn string, op proto.OpCode, body proto.Record) {
	h.t.Helper()
	h.do(&reqAct{conn: conn, op: op, body: body})
}

func (h *H) reqXid(conn string, xid int32, op proto.OpCode, body proto.Record) {
	h.t.Helper()
	h.do(&reqAct{conn: conn, xid: &xid, op: op, body: body})
}

// raw writes bytes as they are and reads one reply (or the close).
func (h *H) raw(conn string, b []byte, desc string) {
	h.t.Helper()
	h.do(&reqAct{conn: conn, raw: b, desc: desc})
}

// rawNoReply writes bytes and reads until the server closes (or the deadline passes).
func (h *H) rawNoReply(conn string, b []byte, desc string) {
	h.t.Helper()
	h.do(&reqAct{conn: conn, raw: b, desc: desc, readAll: true})
}

func (h *H) create(conn, path string, d []byte, flags int32, acl ...proto.ACL) {
	h.t.Helper()
	if acl == nil {
		acl = open
	}
	h.req(conn, proto.OpCreate, &proto.CreateRequest{Path: path, Data: d, Acl: acl, Flags: flags})
}

func (h *H) create2(conn, path string, d []byte, flags int32, acl ...proto.ACL) {
	h.t.Helper()
	if acl == nil {
		acl = open
	}
	h.req(conn, proto.OpCreate2, &proto.CreateRequest{Path: path, Data: d, Acl: acl, Flags: flags})
}

func (h *H) del(conn, path string, version int32) {
	h.t.Helper()
	h.req(conn, proto.OpDelete, &proto.DeleteRequest{Path: path, Version: version})
}

func (h *H) setData(conn, path string, d []byte, version int32) {
	h.t.Helper()
	h.req(conn, proto.OpSetData, &proto.SetDataRequest{Path: path, Data: d, Version: version})
}

func (h *H) getData(conn, path string, watch bool) {
	h.t.Helper()
	h.req(conn, proto.OpGetData, &proto.GetDataRequest{Path: path, Watch: watch})
}

func (h *H) exists(conn, path string, watch bool) {
	h.t.Helper()
	h.req(conn, proto.OpExists, &proto.ExistsRequest{Path: path, Watch: watch})
}

func (h *H) children(conn, path string, watch bool) {
	h.t.Helper()
	h.req(conn, proto.OpGetChildren, &proto.GetChildrenRequest{Path: path, Watch: watch})
}

func (h *H) children2(conn, path string, watch bool) {
	h.t.Helper()
	h.req(conn, proto.OpGetChildren2, &proto.GetChildren2Request{Path: path, Watch: watch})
}

func (h *H) getACL(conn, path string) {
	h.t.Helper()
	h.req(conn, proto.OpGetACL, &proto.GetACLRequest{Path: path})
}

func (h *H) setACL(conn, path string, version int32, acl ...proto.ACL) {
	h.t.Helper()
	h.req(conn, proto.OpSetACL, &proto.SetACLRequest{Path: path, Acl: acl, Version: version})
}

func (h *H) auth(conn, scheme, cred string) {
	h.t.Helper()
	h.reqXid(conn, proto.XidAuth, proto.OpAuth, &proto.AuthPacket{Scheme: scheme, Auth: []byte(cred)})
}

func (h *H) whoAmI(conn string) { h.t.Helper(); h.req(conn, proto.OpWhoAmI, nil) }

func (h *H) closeSession(conn string) { h.t.Helper(); h.req(conn, proto.OpCloseSession, nil) }

func (h *H) addWatch(conn, path string, mode int32) {
	h.t.Helper()
	h.req(conn, proto.OpAddWatch, &proto.AddWatchRequest{Path: path, Mode: mode})
}

func (h *H) multi(conn string, ops ...proto.MultiOp) {
	h.t.Helper()
	h.req(conn, proto.OpMulti, &proto.MultiRequest{Ops: ops})
}

func (h *H) multiRead(conn string, ops ...proto.MultiOp) {
	h.t.Helper()
	h.req(conn, proto.OpMultiRead, &proto.MultiRequest{Ops: ops})
}

// drop closes the client's socket without closing the session.
func (h *H) drop(conn string) {
	h.t.Helper()
	h.do(&dropAct{conn: conn})
}

type dropAct struct{ conn string }

func (a *dropAct) describe() string { return a.conn + ": client closes the socket" }

func (a *dropAct) run(h *H, s *side) ([]string, int64) {
	c := s.conns[a.conn]
	if c == nil {
		return []string{"harness: no connection " + a.conn}, 0
	}
	c.c.Close()
	c.closed = true
	return []string{a.conn + ": dropped"}, 0
}

// Multi op builders.

func opCreate(path string, d []byte, flags int32) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: path, Data: d, Acl: open, Flags: flags}}
}

func opCreateT(t proto.OpCode, path string, d []byte, flags int32) proto.MultiOp {
	return proto.MultiOp{Type: t, Body: &proto.CreateRequest{Path: path, Data: d, Acl: open, Flags: flags}}
}

func opCreateTTL(path string, d []byte, flags int32, ttl int64) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpCreateTTL, Body: &proto.CreateTTLRequest{Path: path, Data: d, Acl: open, Flags: flags, Ttl: ttl}}
}

func opDelete(path string, v int32) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: path, Version: v}}
}

func opSetData(path string, d []byte, v int32) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: path, Data: d, Version: v}}
}

func opCheck(path string, v int32) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpCheck, Body: &proto.CheckVersionRequest{Path: path, Version: v}}
}

func opGetData(path string) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpGetData, Body: &proto.GetDataRequest{Path: path}}
}

func opGetChildren(path string) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpGetChildren, Body: &proto.GetChildrenRequest{Path: path}}
}

func b(s string) []byte { return []byte(s) }

func digestACL(perms int32, id string) proto.ACL {
	return proto.ACL{Perms: perms, Id: proto.Id{Scheme: "digest", Id: id}}
}

func worldACL(perms int32) proto.ACL {
	return proto.ACL{Perms: perms, Id: proto.AnyoneID}
}

// frame prefixes payload with its length.
func frame(payload []byte) []byte { return append(be32(len(payload)), payload...) }

// reqBytes is a whole request frame.
func reqBytes(xid int32, op proto.OpCode, body proto.Record) []byte {
	return frame(rawzk.RequestBytes(xid, op, body))
}

// dialAct opens a connection and writes raw bytes as its first frame(s), without a handshake,
// then reads whatever the server sends until it closes.
type dialAct struct {
	name string
	raw  []byte
}

func (a *dialAct) describe() string {
	return fmt.Sprintf("%s: new connection, first bytes %x", a.name, a.raw)
}

func (a *dialAct) run(h *H, s *side) ([]string, int64) {
	c, err := rawzk.Dial(s.addr, ioTimeout)
	if err != nil {
		return []string{"dial failed: " + err.Error()}, 0
	}
	sc := &sconn{name: a.name, c: c, closed: true}
	s.conns[a.name] = sc
	defer c.Close()
	if err := c.WriteRaw(a.raw); err != nil {
		return []string{a.name + ": write failed: " + err.Error()}, 0
	}
	got, err := c.ReadAll()
	l := fmt.Sprintf("%s: server sent %d bytes %q", a.name, len(got), got)
	if err == nil || errors.Is(err, rawzk.ErrClosed) {
		l += " then closed"
	} else {
		l += " and kept the connection open (" + err.Error() + ")"
	}
	return []string{l}, 0
}

func (h *H) dialRaw(name string, raw []byte) { h.t.Helper(); h.do(&dialAct{name: name, raw: raw}) }

// reconnect attaches session sess on a new connection called name, sending the session's last
// zxid, as a client does.
func (h *H) reconnect(name, sess string) {
	h.t.Helper()
	h.do(&connectAct{name: name, reattach: sess, lastZxid: "session"})
}
