package zk

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// Every operation takes a context: if it ends before the reply arrives, the
// operation returns the context's error (wrapped in *Error). A request that
// had not been sent yet is then dropped; one already sent may still take
// effect on the server, as with ErrConnectionLoss.
//
// Errors are *Error values: errors.Is(err, ErrNoNode) tests the ZooKeeper
// code; an operation in flight when the connection breaks fails with
// ErrConnectionLoss (the Conn reconnects by itself); after the session
// expired every operation fails with ErrSessionExpired; after Close, with
// ErrClosed.

// call runs one request whose path is checked and wrapped into errors.
func (c *Conn) call(ctx context.Context, op proto.OpCode, path string, body, resp proto.Record) error {
	return opError(op.String(), path, c.do(ctx, newRequest(op, body, resp)))
}

// Create creates a node and returns its path (with the sequence number
// appended for sequential modes). ModeContainer uses the createContainer
// operation; for TTL modes use CreateTTL.
func (c *Conn) Create(ctx context.Context, path string, data []byte, acl []ACL, mode CreateMode) (string, error) {
	if mode == ModeContainer {
		return c.CreateContainer(ctx, path, data, acl)
	}
	if err := checkPath(path); err != nil {
		return "", opError("create", path, err)
	}
	resp := &proto.CreateResponse{}
	req := &proto.CreateRequest{Path: c.serverPath(path), Data: data, Acl: aclsToProto(acl), Flags: int32(mode)}
	if err := c.call(ctx, proto.OpCreate, path, req, resp); err != nil {
		return "", err
	}
	return c.clientPath(resp.Path), nil
}

// Create2 is Create returning the new node's Stat too.
func (c *Conn) Create2(ctx context.Context, path string, data []byte, acl []ACL, mode CreateMode) (string, Stat, error) {
	op := proto.OpCreate2
	if mode == ModeContainer {
		op = proto.OpCreateContainer
	}
	return c.create2(ctx, op, path, &proto.CreateRequest{Path: c.serverPath(path), Data: data,
		Acl: aclsToProto(acl), Flags: int32(mode)})
}

func (c *Conn) create2(ctx context.Context, op proto.OpCode, path string, req proto.Record) (string, Stat, error) {
	if err := checkPath(path); err != nil {
		return "", Stat{}, opError(op.String(), path, err)
	}
	resp := &proto.Create2Response{}
	if err := c.call(ctx, op, path, req, resp); err != nil {
		return "", Stat{}, err
	}
	return c.clientPath(resp.Path), statFrom(&resp.Stat), nil
}

// CreateContainer creates a container node: the server deletes it some time
// after its last child is deleted.
func (c *Conn) CreateContainer(ctx context.Context, path string, data []byte, acl []ACL) (string, error) {
	p, _, err := c.create2(ctx, proto.OpCreateContainer, path, &proto.CreateRequest{Path: c.serverPath(path),
		Data: data, Acl: aclsToProto(acl), Flags: int32(ModeContainer)})
	return p, err
}

// CreateTTL creates a persistent node that the server deletes once it has
// had no children and no data change for ttl (rounded down to ms). mode is
// ModePersistentWithTTL or ModePersistentSequentialWithTTL; ModePersistent
// and ModePersistentSequential are taken to mean those. The server must have
// extendedTypesEnabled, else it answers ErrUnimplemented.
func (c *Conn) CreateTTL(ctx context.Context, path string, data []byte, acl []ACL, mode CreateMode, ttl time.Duration) (string, error) {
	p, _, err := c.create2(ctx, proto.OpCreateTTL, path, &proto.CreateTTLRequest{Path: c.serverPath(path),
		Data: data, Acl: aclsToProto(acl), Flags: int32(ttlMode(mode)), Ttl: ttl.Milliseconds()})
	return p, err
}

func ttlMode(m CreateMode) CreateMode {
	switch m {
	case ModePersistent:
		return ModePersistentWithTTL
	case ModePersistentSequential:
		return ModePersistentSequentialWithTTL
	}
	return m
}

// Delete deletes the node at path if its version is version (-1 matches any).
func (c *Conn) Delete(ctx context.Context, path string, version int32) error {
	if err := checkPath(path); err != nil {
		return opError("delete", path, err)
	}
	return c.call(ctx, proto.OpDelete, path, &proto.DeleteRequest{Path: c.serverPath(path), Version: version}, nil)
}

// Exists reports whether path exists, with its Stat if it does.
func (c *Conn) Exists(ctx context.Context, path string) (bool, Stat, error) {
	ok, st, _, err := c.exists(ctx, path, false)
	return ok, st, err
}

// ExistsW is Exists that also sets a one-shot watch, whether or not the
// node exists: the channel receives NodeCreated, NodeDeleted or
// NodeDataChanged, once, and is then closed.
func (c *Conn) ExistsW(ctx context.Context, path string) (bool, Stat, <-chan Event, error) {
	return c.exists(ctx, path, true)
}

func (c *Conn) exists(ctx context.Context, path string, watch bool) (bool, Stat, <-chan Event, error) {
	const op = "exists"
	if err := checkPath(path); err != nil {
		return false, Stat{}, nil, opError(op, path, err)
	}
	resp := &proto.ExistsResponse{}
	r := newRequest(proto.OpExists, &proto.ExistsRequest{Path: c.serverPath(path), Watch: watch}, resp)
	var ch chan Event
	if watch {
		ch = make(chan Event, 1)
		r.onReply = func(err error) {
			switch {
			case err == nil:
				c.addOneShot(kindData, path, ch)
			case errors.Is(err, ErrNoNode):
				c.addOneShot(kindExist, path, ch)
			}
		}
	}
	err := c.do(ctx, r)
	if errors.Is(err, ErrNoNode) {
		return false, Stat{}, ch, nil
	}
	if err != nil {
		return false, Stat{}, nil, opError(op, path, err)
	}
	return true, statFrom(&resp.Stat), ch, nil
}

// Get returns the node's data (nil if the node was created with nil data)
// and Stat.
func (c *Conn) Get(ctx context.Context, path string) ([]byte, Stat, error) {
	data, st, _, err := c.get(ctx, path, false)
	return data, st, err
}

// GetW is Get that also sets a one-shot watch (only if the node exists):
// the channel receives NodeDataChanged or NodeDeleted, once, and is then
// closed.
func (c *Conn) GetW(ctx context.Context, path string) ([]byte, Stat, <-chan Event, error) {
	return c.get(ctx, path, true)
}

func (c *Conn) get(ctx context.Context, path string, watch bool) ([]byte, Stat, <-chan Event, error) {
	const op = "getData"
	if err := checkPath(path); err != nil {
		return nil, Stat{}, nil, opError(op, path, err)
	}
	resp := &proto.GetDataResponse{}
	r := newRequest(proto.OpGetData, &proto.GetDataRequest{Path: c.serverPath(path), Watch: watch}, resp)
	var ch chan Event
	if watch {
		ch = make(chan Event, 1)
		r.onReply = func(err error) {
			if err == nil {
				c.addOneShot(kindData, path, ch)
			}
		}
	}
	if err := c.do(ctx, r); err != nil {
		return nil, Stat{}, nil, opError(op, path, err)
	}
	return resp.Data, statFrom(&resp.Stat), ch, nil
}

// Set replaces the node's data if its version is version (-1 matches any)
// and returns the new Stat.
func (c *Conn) Set(ctx context.Context, path string, data []byte, version int32) (Stat, error) {
	if err := checkPath(path); err != nil {
		return Stat{}, opError("setData", path, err)
	}
	resp := &proto.SetDataResponse{}
	err := c.call(ctx, proto.OpSetData, path, &proto.SetDataRequest{Path: c.serverPath(path), Data: data, Version: version}, resp)
	if err != nil {
		return Stat{}, err
	}
	return statFrom(&resp.Stat), nil
}

// Children returns the names of the node's children, in no particular order.
func (c *Conn) Children(ctx context.Context, path string) ([]string, error) {
	if err := checkPath(path); err != nil {
		return nil, opError("getChildren", path, err)
	}
	resp := &proto.GetChildrenResponse{}
	if err := c.call(ctx, proto.OpGetChildren, path, &proto.GetChildrenRequest{Path: c.serverPath(path)}, resp); err != nil {
		return nil, err
	}
	return resp.Children, nil
}

// Children2 is Children returning the node's Stat too.
func (c *Conn) Children2(ctx context.Context, path string) ([]string, Stat, error) {
	ch, st, _, err := c.children2(ctx, path, false)
	return ch, st, err
}

// ChildrenW is Children2 that also sets a one-shot watch (only if the node
// exists): the channel receives NodeChildrenChanged or NodeDeleted, once,
// and is then closed.
func (c *Conn) ChildrenW(ctx context.Context, path string) ([]string, Stat, <-chan Event, error) {
	return c.children2(ctx, path, true)
}

func (c *Conn) children2(ctx context.Context, path string, watch bool) ([]string, Stat, <-chan Event, error) {
	const op = "getChildren2"
	if err := checkPath(path); err != nil {
		return nil, Stat{}, nil, opError(op, path, err)
	}
	resp := &proto.GetChildren2Response{}
	r := newRequest(proto.OpGetChildren2, &proto.GetChildren2Request{Path: c.serverPath(path), Watch: watch}, resp)
	var ch chan Event
	if watch {
		ch = make(chan Event, 1)
		r.onReply = func(err error) {
			if err == nil {
				c.addOneShot(kindChild, path, ch)
			}
		}
	}
	if err := c.do(ctx, r); err != nil {
		return nil, Stat{}, nil, opError(op, path, err)
	}
	return resp.Children, statFrom(&resp.Stat), ch, nil
}

// GetACL returns the node's ACL and Stat. Without ADMIN permission on the
// node, the server masks digest password hashes.
func (c *Conn) GetACL(ctx context.Context, path string) ([]ACL, Stat, error) {
	if err := checkPath(path); err != nil {
		return nil, Stat{}, opError("getACL", path, err)
	}
	resp := &proto.GetACLResponse{}
	if err := c.call(ctx, proto.OpGetACL, path, &proto.GetACLRequest{Path: c.serverPath(path)}, resp); err != nil {
		return nil, Stat{}, err
	}
	return aclsFromProto(resp.Acl), statFrom(&resp.Stat), nil
}

// SetACL replaces the node's ACL if its ACL version (Stat.Aversion) is
// version (-1 matches any) and returns the new Stat.
func (c *Conn) SetACL(ctx context.Context, path string, acl []ACL, version int32) (Stat, error) {
	if err := checkPath(path); err != nil {
		return Stat{}, opError("setACL", path, err)
	}
	resp := &proto.SetACLResponse{}
	err := c.call(ctx, proto.OpSetACL, path, &proto.SetACLRequest{Path: c.serverPath(path), Acl: aclsToProto(acl), Version: version}, resp)
	if err != nil {
		return Stat{}, err
	}
	return statFrom(&resp.Stat), nil
}

// Sync waits until the server the session is attached to has applied every
// change committed before the call, so that a read after it sees them. It
// returns path.
func (c *Conn) Sync(ctx context.Context, path string) (string, error) {
	if err := checkPath(path); err != nil {
		return "", opError("sync", path, err)
	}
	resp := &proto.SyncResponse{}
	if err := c.call(ctx, proto.OpSync, path, &proto.SyncRequest{Path: c.serverPath(path)}, resp); err != nil {
		return "", err
	}
	return c.clientPath(resp.Path), nil
}

// GetAllChildrenNumber returns the number of descendants of path (ZooKeeper
// 3.6+).
func (c *Conn) GetAllChildrenNumber(ctx context.Context, path string) (int, error) {
	if err := checkPath(path); err != nil {
		return 0, opError("getAllChildrenNumber", path, err)
	}
	resp := &proto.GetAllChildrenNumberResponse{}
	err := c.call(ctx, proto.OpGetAllChildrenNumber, path, &proto.GetAllChildrenNumberRequest{Path: c.serverPath(path)}, resp)
	if err != nil {
		return 0, err
	}
	return int(resp.TotalNumber), nil
}

// GetEphemerals returns the paths of this session's ephemeral nodes whose
// path starts with prefix (a string prefix, not only a subtree; "/" for
// all) (ZooKeeper 3.6+).
func (c *Conn) GetEphemerals(ctx context.Context, prefix string) ([]string, error) {
	if err := checkPath(prefix); err != nil {
		return nil, opError("getEphemerals", prefix, err)
	}
	sp := c.serverPath(prefix)
	if prefix == "/" && c.chroot != "" {
		sp = c.chroot + "/"
	}
	resp := &proto.GetEphemeralsResponse{}
	err := c.call(ctx, proto.OpGetEphemerals, prefix, &proto.GetEphemeralsRequest{PrefixPath: sp}, resp)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(resp.Ephemerals))
	for _, p := range resp.Ephemerals {
		if c.chroot != "" && p != c.chroot && !strings.HasPrefix(p, c.chroot+"/") {
			continue
		}
		out = append(out, c.clientPath(p))
	}
	return out, nil
}

// WhoAmI returns the identities the server associates with this connection
// (ZooKeeper 3.7+).
func (c *Conn) WhoAmI(ctx context.Context) ([]ClientInfo, error) {
	resp := &proto.WhoAmIResponse{}
	if err := c.call(ctx, proto.OpWhoAmI, "", nil, resp); err != nil {
		return nil, err
	}
	out := make([]ClientInfo, len(resp.ClientInfo))
	for i, ci := range resp.ClientInfo {
		out[i] = ClientInfo{AuthScheme: ci.AuthScheme, User: ci.User}
	}
	return out, nil
}

// AddAuth authenticates the connection (for example "digest",
// "user:password"). Once accepted, the credentials are sent again on every
// reconnect. If the server refuses them it answers ErrAuthFailed and drops
// the connection; the Conn reconnects without them.
func (c *Conn) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	a := authInfo{scheme, append([]byte(nil), auth...)}
	r := newRequest(proto.OpAuth, &proto.AuthPacket{Scheme: scheme, Auth: a.auth}, nil)
	r.onReply = func(err error) {
		if err != nil {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, x := range c.auth {
			if x.scheme == a.scheme && string(x.auth) == string(a.auth) {
				return
			}
		}
		c.auth = append(c.auth, a)
	}
	return opError("auth", "", c.do(ctx, r))
}
