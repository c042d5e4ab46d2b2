package proto

import (
	"errors"
	"fmt"

	"github.com/warren-zk/warren/internal/jute"
)

// Record is any encodable/decodable record.
type Record interface {
	Encode(e *jute.Encoder)
	Decode(d *jute.Decoder)
}

// ConnectRequest is the first frame of a connection. The trailing readOnly
// byte is optional on the wire; HasReadOnly tells whether it was present so
// the reply can mirror the client's form.
type ConnectRequest struct {
	ProtocolVersion int32
	LastZxidSeen    int64
	TimeOut         int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool
	HasReadOnly     bool
}

// Encode appends the request; the readOnly byte only if HasReadOnly.
func (r *ConnectRequest) Encode(e *jute.Encoder) {
	e.Int(r.ProtocolVersion)
	e.Long(r.LastZxidSeen)
	e.Int(r.TimeOut)
	e.Long(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

// Decode reads the mandatory fields and, if a byte remains, readOnly.
func (r *ConnectRequest) Decode(d *jute.Decoder) {
	r.ProtocolVersion = d.Int()
	r.LastZxidSeen = d.Long()
	r.TimeOut = d.Int()
	r.SessionID = d.Long()
	r.Passwd = d.Buffer()
	r.HasReadOnly = false
	r.ReadOnly = false
	if d.Err() == nil && d.Remaining() > 0 {
		r.HasReadOnly = true
		r.ReadOnly = d.Bool()
	}
}

// ConnectResponse answers a ConnectRequest; readOnly is written only if
// HasReadOnly (mirroring the request).
type ConnectResponse struct {
	ProtocolVersion int32
	TimeOut         int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool
	HasReadOnly     bool
}

// Encode appends the response.
func (r *ConnectResponse) Encode(e *jute.Encoder) {
	e.Int(r.ProtocolVersion)
	e.Int(r.TimeOut)
	e.Long(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

// Decode reads the response; a trailing readOnly byte is optional.
func (r *ConnectResponse) Decode(d *jute.Decoder) {
	r.ProtocolVersion = d.Int()
	r.TimeOut = d.Int()
	r.SessionID = d.Long()
	r.Passwd = d.Buffer()
	r.HasReadOnly = false
	r.ReadOnly = false
	if d.Err() == nil && d.Remaining() > 0 {
		r.HasReadOnly = true
		r.ReadOnly = d.Bool()
	}
}

// ErrBadMulti reports an undecodable multi request (unknown op type or a
// mix of read and write ops); ZooKeeper answers it with MarshallingError.
var ErrBadMulti = errors.New("proto: bad multi request")

// MultiOp is one operation of a multi or multiRead request. Body is one of
// *CreateRequest (create, create2, createContainer), *CreateTTLRequest,
// *DeleteRequest, *SetDataRequest, *CheckVersionRequest (multi) or
// *GetDataRequest, *GetChildrenRequest (multiRead).
type MultiOp struct {
	Type OpCode
	Body Record
}

// MultiRequest is the body of a multi (14) or multiRead (22) request.
type MultiRequest struct {
	Ops []MultiOp
}

// Encode appends the ops and the terminator.
func (r *MultiRequest) Encode(e *jute.Encoder) {
	for _, op := range r.Ops {
		h := MultiHeader{Type: int32(op.Type), Done: false, Err: -1}
		h.Encode(e)
		op.Body.Encode(e)
	}
	h := MultiHeader{Type: -1, Done: true, Err: -1}
	h.Encode(e)
}

// IsReadOp reports whether op is allowed in a multiRead.
func IsReadOp(op OpCode) bool { return op == OpGetData || op == OpGetChildren }

// NewMultiOpBody returns an empty request record for a multi op type, or nil
// if the type is not allowed in a multi or multiRead.
func NewMultiOpBody(op OpCode) Record {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}
	case OpCreateTTL:
		return &CreateTTLRequest{}
	case OpDelete:
		return &DeleteRequest{}
	case OpSetData:
		return &SetDataRequest{}
	case OpCheck:
		return &CheckVersionRequest{}
	case OpGetData:
		return &GetDataRequest{}
	case OpGetChildren:
		return &GetChildrenRequest{}
	}
	return nil
}

// Decode reads ops until the terminator. An unknown op type or a mix of read
// and write ops fails with ErrBadMulti.
func (r *MultiRequest) Decode(d *jute.Decoder) {
	r.Ops = r.Ops[:0]
	sawRead, sawWrite := false, false
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if d.Err() != nil || h.Done {
			return
		}
		op := OpCode(h.Type)
		body := NewMultiOpBody(op)
		if body == nil {
			d.Fail(fmt.Errorf("%w: op type %d", ErrBadMulti, h.Type))
			return
		}
		if IsReadOp(op) {
			sawRead = true
		} else {
			sawWrite = true
		}
		if sawRead && sawWrite {
			d.Fail(fmt.Errorf("%w: mixed read and write ops", ErrBadMulti))
			return
		}
		body.Decode(d)
		r.Ops = append(r.Ops, MultiOp{Type: op, Body: body})
		if len(r.Ops) > d.MaxBuffer/12 { // each op takes at least a 9-byte header plus a body
			d.Fail(fmt.Errorf("%w: too many ops", ErrBadMulti))
			return
		}
	}
}

// MultiResult is one result of a multi or multiRead. For Type == OpError,
// Err is the code (0 for ops before a failure) and Body is nil.
type MultiResult struct {
	Type OpCode
	Err  Err
	Body Record
}

// MultiResponse is the body of a multi/multiRead reply.
type MultiResponse struct {
	Results []MultiResult
}

// Encode appends the results and the terminator.
func (r *MultiResponse) Encode(e *jute.Encoder) {
	for _, res := range r.Results {
		if res.Type == OpError {
			h := MultiHeader{Type: -1, Done: false, Err: int32(res.Err)}
			h.Encode(e)
			e.Int(int32(res.Err))
			continue
		}
		h := MultiHeader{Type: int32(res.Type), Done: false, Err: 0}
		h.Encode(e)
		if res.Body != nil {
			res.Body.Encode(e)
		}
	}
	h := MultiHeader{Type: -1, Done: true, Err: -1}
	h.Encode(e)
}

// Decode reads results until the terminator.
func (r *MultiResponse) Decode(d *jute.Decoder) {
	r.Results = r.Results[:0]
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if d.Err() != nil || h.Done {
			return
		}
		res := MultiResult{Type: OpCode(h.Type)}
		switch res.Type {
		case OpError:
			res.Err = Err(d.Int())
		case OpCreate:
			res.Body = &CreateResponse{}
		case OpCreate2, OpCreateContainer, OpCreateTTL:
			res.Body = &Create2Response{}
		case OpSetData:
			res.Body = &SetDataResponse{}
		case OpGetData:
			res.Body = &GetDataResponse{}
		case OpGetChildren:
			res.Body = &GetChildrenResponse{}
		case OpDelete, OpCheck:
		default:
			d.Fail(fmt.Errorf("%w: result type %d", ErrBadMulti, h.Type))
			return
		}
		if res.Body != nil {
			res.Body.Decode(d)
		}
		r.Results = append(r.Results, res)
		if len(r.Results) > d.MaxBuffer/9 {
			d.Fail(fmt.Errorf("%w: too many results", ErrBadMulti))
			return
		}
	}
}
