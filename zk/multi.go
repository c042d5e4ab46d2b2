package zk

import (
	"context"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// Op is one operation of a Multi: a CreateOp, DeleteOp, SetDataOp or CheckOp.
type Op interface {
	opPath() string
	multiOp(c *Conn) proto.MultiOp
}

// CreateOp creates a node. ModeContainer makes a container; a TTL (or a TTL
// mode) a TTL node (see CreateTTL).
type CreateOp struct {
	Path string
	Data []byte
	ACL  []ACL
	Mode CreateMode
	TTL  time.Duration
}

// DeleteOp deletes a node if its version matches (-1: any).
type DeleteOp struct {
	Path    string
	Version int32
}

// SetDataOp sets a node's data if its version matches (-1: any).
type SetDataOp struct {
	Path    string
	Data    []byte
	Version int32
}

// CheckOp fails the Multi unless the node exists with this version (-1: any).
type CheckOp struct {
	Path    string
	Version int32
}

func (o CreateOp) opPath() string  { return o.Path }
func (o DeleteOp) opPath() string  { return o.Path }
func (o SetDataOp) opPath() string { return o.Path }
func (o CheckOp) opPath() string   { return o.Path }

func (o CreateOp) multiOp(c *Conn) proto.MultiOp {
	sp, acl := c.serverPath(o.Path), aclsToProto(o.ACL)
	switch {
	case o.TTL > 0 || o.Mode == ModePersistentWithTTL || o.Mode == ModePersistentSequentialWithTTL:
		return proto.MultiOp{Type: proto.OpCreateTTL, Body: &proto.CreateTTLRequest{Path: sp, Data: o.Data,
			Acl: acl, Flags: int32(ttlMode(o.Mode)), Ttl: o.TTL.Milliseconds()}}
	case o.Mode == ModeContainer:
		return proto.MultiOp{Type: proto.OpCreateContainer, Body: &proto.CreateRequest{Path: sp, Data: o.Data,
			Acl: acl, Flags: int32(o.Mode)}}
	}
	return proto.MultiOp{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: sp, Data: o.Data, Acl: acl,
		Flags: int32(o.Mode)}}
}

func (o DeleteOp) multiOp(c *Conn) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: c.serverPath(o.Path), Version: o.Version}}
}

func (o SetDataOp) multiOp(c *Conn) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: c.serverPath(o.Path),
		Data: o.Data, Version: o.Version}}
}

func (o CheckOp) multiOp(c *Conn) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpCheck, Body: &proto.CheckVersionRequest{Path: c.serverPath(o.Path), Version: o.Version}}
}

// OpResult is the result of one op of a Multi.
type OpResult struct {
	Path string // CreateOp: the created node's path
	Stat *Stat  // SetDataOp, and CreateOp when the server returns one
	// Err is the op's code when the Multi failed: nil for the ops before the
	// failing one (rolled back nonetheless), the failing op's code, and
	// ErrRuntimeInconsistency for the ops after it.
	Err error
}

// Multi runs ops atomically: all take effect or none does. On failure the
// error is an *Error for the first failing op (Op "multi", that op's Path,
// its Code) and the results say what happened to each op.
func (c *Conn) Multi(ctx context.Context, ops ...Op) ([]OpResult, error) {
	const op = "multi"
	req := &proto.MultiRequest{Ops: make([]proto.MultiOp, len(ops))}
	for i, o := range ops {
		if err := checkPath(o.opPath()); err != nil {
			return nil, opError(op, o.opPath(), err)
		}
		req.Ops[i] = o.multiOp(c)
	}
	resp := &proto.MultiResponse{}
	if err := c.call(ctx, proto.OpMulti, "", req, resp); err != nil {
		return nil, err
	}
	results := make([]OpResult, len(resp.Results))
	var first error
	for i, r := range resp.Results {
		switch body := r.Body.(type) {
		case *proto.CreateResponse:
			results[i].Path = c.clientPath(body.Path)
		case *proto.Create2Response:
			st := statFrom(&body.Stat)
			results[i].Path, results[i].Stat = c.clientPath(body.Path), &st
		case *proto.SetDataResponse:
			st := statFrom(&body.Stat)
			results[i].Stat = &st
		}
		if r.Type == proto.OpError && r.Err != 0 {
			results[i].Err = Code(r.Err)
			if first == nil && r.Err != proto.ErrRuntimeInconsistency {
				path := ""
				if i < len(ops) {
					path = ops[i].opPath()
				}
				first = &Error{Op: op, Path: path, Code: Code(r.Err)}
			}
		}
	}
	if first == nil {
		for _, r := range results {
			if r.Err != nil {
				first = &Error{Op: op, Code: ErrRuntimeInconsistency}
				break
			}
		}
	}
	return results, first
}

// ReadOp is one operation of a MultiRead: a GetDataOp or GetChildrenOp.
type ReadOp interface {
	opPath() string
	readOp(c *Conn) proto.MultiOp
}

// GetDataOp reads a node's data and Stat.
type GetDataOp struct{ Path string }

// GetChildrenOp lists a node's children.
type GetChildrenOp struct{ Path string }

func (o GetDataOp) opPath() string     { return o.Path }
func (o GetChildrenOp) opPath() string { return o.Path }

func (o GetDataOp) readOp(c *Conn) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpGetData, Body: &proto.GetDataRequest{Path: c.serverPath(o.Path)}}
}

func (o GetChildrenOp) readOp(c *Conn) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpGetChildren, Body: &proto.GetChildrenRequest{Path: c.serverPath(o.Path)}}
}

// ReadResult is the result of one op of a MultiRead.
type ReadResult struct {
	Data     []byte   // GetDataOp
	Stat     Stat     // GetDataOp
	Children []string // GetChildrenOp
	Err      error    // this op's error code, if it failed
}

// MultiRead runs read ops in one round trip (ZooKeeper 3.6+). It is not
// atomic: each op succeeds or fails on its own, as its ReadResult says; the
// returned error is only for the request as a whole. It sets no watches.
func (c *Conn) MultiRead(ctx context.Context, ops ...ReadOp) ([]ReadResult, error) {
	const op = "multiRead"
	req := &proto.MultiRequest{Ops: make([]proto.MultiOp, len(ops))}
	for i, o := range ops {
		if err := checkPath(o.opPath()); err != nil {
			return nil, opError(op, o.opPath(), err)
		}
		req.Ops[i] = o.readOp(c)
	}
	resp := &proto.MultiResponse{}
	if err := c.call(ctx, proto.OpMultiRead, "", req, resp); err != nil {
		return nil, err
	}
	results := make([]ReadResult, len(resp.Results))
	for i, r := range resp.Results {
		switch body := r.Body.(type) {
		case *proto.GetDataResponse:
			results[i].Data, results[i].Stat = body.Data, statFrom(&body.Stat)
		case *proto.GetChildrenResponse:
			results[i].Children = body.Children
		}
		if r.Type == proto.OpError {
			results[i].Err = codeErr(int32(r.Err))
		}
	}
	return results, nil
}
