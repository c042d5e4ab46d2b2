package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/warren-zk/warren/internal/acl"
	"github.com/warren-zk/warren/internal/fsm"
	"github.com/warren-zk/warren/internal/proto"
)

// execute produces the reply of an item. The caller holds the tree lock (read
// or write) and c.mu.
func (c *conn) execute(it *item) {
	c.trackOut()
	f := c.s.fsm
	zxid := f.LastZxid()
	switch {
	case it.write && it.op == proto.OpSync:
		c.sendReply(it.xid, it.res.Zxid, proto.ErrOK, it.res.Body)
	case it.write && it.res.Err == proto.ErrSessionMoved:
		// The session moved to another server while this write was on its
		// way: ZooKeeper closes the connection instead of answering.
		c.s.log.Info("session moved to another server; closing its old connection",
			"session", fmt.Sprintf("0x%x", c.sessionID.Load()))
		go c.close()
		return
	case it.write:
		c.sendReply(it.xid, it.res.Zxid, it.res.Err, it.res.Body)
		zxid = it.res.Zxid
	case it.err != proto.ErrOK:
		z := zxid
		switch it.err {
		case proto.ErrUnimplemented:
			z = -1
		case proto.ErrAuthFailed, proto.ErrSessionClosedRequireSASLAuth:
			z = 0
		}
		c.sendReply(it.xid, z, it.err, nil)
	default:
		code, body := c.read(it)
		z := zxid
		if it.op == proto.OpAuth || it.op == proto.OpSASL {
			z = 0
		}
		xid := it.xid
		if it.op == proto.OpPing {
			// ZooKeeper answers every ping with xid -2, whatever xid it carried.
			xid = proto.XidPing
		}
		c.sendReply(xid, z, code, body)
	}
	c.stats.record(it, zxid, time.Since(it.recv))
	c.s.stats.recordLatency(time.Since(it.recv))
	if it.closeAfter {
		c.markCloseAfterFlush()
	}
}

// read executes a read-like request.
func (c *conn) read(it *item) (proto.Err, proto.Record) {
	f := c.s.fsm
	rd := fsm.Reader{Auth: it.auth, Watcher: c}
	switch r := it.req.(type) {
	case nil:
		switch it.op {
		case proto.OpWhoAmI:
			return proto.ErrOK, &proto.WhoAmIResponse{ClientInfo: clientInfo(it.auth)}
		case proto.OpSASL:
			return proto.ErrOK, &proto.SetSASLResponse{}
		}
		return proto.ErrOK, nil // ping, auth
	case *saslReply:
		return r.code, r.body
	case *proto.ExistsRequest:
		st, code := f.Exists(rd, r.Path, r.Watch)
		if code != proto.ErrOK {
			return code, nil
		}
		return code, &proto.ExistsResponse{Stat: st}
	case *proto.GetDataRequest:
		data, st, code := f.GetData(rd, r.Path, r.Watch)
		if code != proto.ErrOK {
			return code, nil
		}
		return code, &proto.GetDataResponse{Data: data, Stat: st}
	case *proto.GetChildrenRequest:
		ch, _, code := f.GetChildren(rd, r.Path, r.Watch)
		if code != proto.ErrOK {
			return code, nil
		}
		return code, &proto.GetChildrenResponse{Children: ch}
	case *proto.GetChildren2Request:
		ch, st, code := f.GetChildren(rd, r.Path, r.Watch)
		if code != proto.ErrOK {
			return code, nil
		}
		return code, &proto.GetChildren2Response{Children: ch, Stat: st}
	case *proto.GetACLRequest:
		list, st, code := f.GetACL(rd, r.Path)
		if code != proto.ErrOK {
			return code, nil
		}
		return code, &proto.GetACLResponse{Acl: list, Stat: st}
	case *proto.GetAllChildrenNumberRequest:
		n, code := f.GetAllChildrenNumber(rd, r.Path)
		if code != proto.ErrOK {
			return code, nil
		}
		return code, &proto.GetAllChildrenNumberResponse{TotalNumber: n}
	case *proto.GetEphemeralsRequest:
		return proto.ErrOK, &proto.GetEphemeralsResponse{Ephemerals: f.GetEphemerals(c.sessionID.Load(), r.PrefixPath)}
	case *proto.SetWatches:
		for _, ev := range f.SetWatches(c, r.RelativeZxid, r.DataWatches, r.ExistWatches, r.ChildWatches, nil, nil) {
			c.Notify(ev)
		}
		return proto.ErrOK, nil
	case *proto.SetWatches2:
		for _, ev := range f.SetWatches(c, r.RelativeZxid, r.DataWatches, r.ExistWatches, r.ChildWatches,
			r.PersistentWatches, r.PersistentRecursiveWatches) {
			c.Notify(ev)
		}
		return proto.ErrOK, nil
	case *proto.AddWatchRequest:
		switch r.Mode {
		case proto.AddWatchPersistent:
			f.Watches().AddPersistent(r.Path, c)
		case proto.AddWatchPersistentRecursive:
			f.Watches().AddRecursive(r.Path, c)
		default:
			return proto.ErrMarshallingError, nil
		}
		return proto.ErrOK, &proto.ErrorResponse{Err: 0}
	case *proto.CheckWatchesRequest:
		if r.Type < proto.WatcherChildren || r.Type > proto.WatcherPersistentRecursive {
			return proto.ErrMarshallingError, nil
		}
		if !f.Watches().Check(r.Path, c, r.Type) {
			return proto.ErrNoWatcher, nil
		}
		return proto.ErrOK, nil
	case *proto.RemoveWatchesRequest:
		if r.Type < proto.WatcherChildren || r.Type > proto.WatcherPersistentRecursive {
			return proto.ErrMarshallingError, nil
		}
		if !f.Watches().Remove(r.Path, c, r.Type) {
			return proto.ErrNoWatcher, nil
		}
		return proto.ErrOK, nil
	case *proto.MultiRequest:
		return c.multiRead(rd, r)
	}
	return proto.ErrUnimplemented, nil
}

func (c *conn) multiRead(rd fsm.Reader, r *proto.MultiRequest) (proto.Err, proto.Record) {
	f := c.s.fsm
	rd.Watcher = nil // multiRead never sets watches
	resp := &proto.MultiResponse{Results: make([]proto.MultiResult, 0, len(r.Ops))}
	for _, op := range r.Ops {
		switch q := op.Body.(type) {
		case *proto.GetDataRequest:
			data, st, code := f.GetData(rd, q.Path, false)
			if code != proto.ErrOK {
				resp.Results = append(resp.Results, proto.MultiResult{Type: proto.OpError, Err: code})
				continue
			}
			resp.Results = append(resp.Results, proto.MultiResult{Type: proto.OpGetData, Body: &proto.GetDataResponse{Data: data, Stat: st}})
		case *proto.GetChildrenRequest:
			ch, _, code := f.GetChildren(rd, q.Path, false)
			if code != proto.ErrOK {
				resp.Results = append(resp.Results, proto.MultiResult{Type: proto.OpError, Err: code})
				continue
			}
			resp.Results = append(resp.Results, proto.MultiResult{Type: proto.OpGetChildren, Body: &proto.GetChildrenResponse{Children: ch}})
		default:
			// ZooKeeper fails the request at the first op that is not a
			// read, but still sends the results gathered so far.
			return proto.ErrMarshallingError, bodyWithError{resp}
		}
	}
	return proto.ErrOK, resp
}

// clientInfo builds a whoAmI reply from auth ids.
func clientInfo(ids []proto.Id) []proto.ClientInfo {
	out := make([]proto.ClientInfo, 0, len(ids))
	for _, id := range ids {
		user := id.Id
		switch id.Scheme {
		case "digest":
			if i := strings.IndexByte(user, ':'); i >= 0 {
				user = user[:i]
			}
		case "super":
			user = ""
		}
		out = append(out, proto.ClientInfo{AuthScheme: id.Scheme, User: user})
	}
	return out
}

// authenticate runs an auth packet through its provider.
func (s *Server) authenticate(scheme string, auth []byte, ip string) ([]proto.Id, bool) {
	switch scheme {
	case "digest":
		id := acl.DigestID(string(auth))
		ids := []proto.Id{{Scheme: "digest", Id: id}}
		if s.cfg.SuperDigest != "" && id == s.cfg.SuperDigest {
			ids = append(ids, proto.Id{Scheme: "super", Id: ""})
		}
		return ids, true
	case "ip":
		return []proto.Id{{Scheme: "ip", Id: ip}}, true
	}
	return nil, false
}

func (s *Server) canRead(list []proto.ACL, ids []proto.Id) bool {
	return acl.Check(list, proto.PermRead, ids, s.cfg.SkipACL)
}
