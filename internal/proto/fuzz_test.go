package proto

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/warren-zk/warren/internal/jute"
)

// requestBody returns an empty record for the body of a client request with
// opcode op, as the server decodes it, or nil for body-less or unknown ops.
func requestBody(op OpCode) Record {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}
	case OpCreateTTL:
		return &CreateTTLRequest{}
	case OpDelete:
		return &DeleteRequest{}
	case OpExists:
		return &ExistsRequest{}
	case OpGetData:
		return &GetDataRequest{}
	case OpSetData:
		return &SetDataRequest{}
	case OpGetACL:
		return &GetACLRequest{}
	case OpSetACL:
		return &SetACLRequest{}
	case OpGetChildren:
		return &GetChildrenRequest{}
	case OpSync:
		return &SyncRequest{}
	case OpGetChildren2:
		return &GetChildren2Request{}
	case OpCheck:
		return &CheckVersionRequest{}
	case OpMulti, OpMultiRead:
		return &MultiRequest{}
	case OpReconfig:
		return &ReconfigRequest{}
	case OpCheckWatches:
		return &CheckWatchesRequest{}
	case OpRemoveWatches:
		return &RemoveWatchesRequest{}
	case OpDeleteContainer:
		return &DeleteContainerRequest{}
	case OpAuth:
		return &AuthPacket{}
	case OpSetWatches:
		return &SetWatches{}
	case OpSASL:
		return &GetSASLRequest{}
	case OpGetEphemerals:
		return &GetEphemeralsRequest{}
	case OpGetAllChildrenNumber:
		return &GetAllChildrenNumberRequest{}
	case OpSetWatches2:
		return &SetWatches2{}
	case OpAddWatch:
		return &AddWatchRequest{}
	}
	return nil
}

// checkDecode decodes data into fresh() and, if that succeeds, checks that
// the decoder consumed a sane number of bytes, that re-encoding produces the
// same number of bytes, and that encode/decode is then a fixed point.
func checkDecode(t *testing.T, fresh func() Record, data []byte, maxBuffer int) {
	t.Helper()
	r := fresh()
	d := jute.NewDecoder(data)
	if maxBuffer > 0 {
		d.MaxBuffer = maxBuffer
	}
	r.Decode(d)
	if d.Offset() < 0 || d.Offset() > len(data) {
		t.Fatalf("%T: offset %d of %d", r, d.Offset(), len(data))
	}
	if d.Err() != nil {
		return
	}
	enc1 := encode(r)
	if len(enc1) != d.Offset() {
		t.Fatalf("%T: consumed %d bytes, re-encodes to %d: %+v", r, d.Offset(), len(enc1), r)
	}
	r2 := fresh()
	d2 := jute.NewDecoder(enc1)
	r2.Decode(d2)
	if d2.Err() != nil || d2.Remaining() != 0 {
		t.Fatalf("%T: re-encoding does not decode: %v, %d left", r, d2.Err(), d2.Remaining())
	}
	if enc2 := encode(r2); !bytes.Equal(enc1, enc2) {
		t.Fatalf("%T: encode/decode not stable:\n%x\n%x", r, enc1, enc2)
	}
}

func freshOf(r Record) func() Record {
	typ := reflect.TypeOf(r).Elem()
	return func() Record { return reflect.New(typ).Interface().(Record) }
}

func FuzzConnectRequest(f *testing.F) {
	body := unhex(f, javaConnectRequest)[4:]
	f.Add(body)
	f.Add(body[:44])
	f.Add(append(append([]byte(nil), body...), 0xff, 0xff))
	f.Add(encode(&ConnectRequest{LastZxidSeen: 0x100000005, TimeOut: 4000, SessionID: 0x0100a1b2c3d40000,
		Passwd: bytes.Repeat([]byte{0xab}, 16), ReadOnly: true, HasReadOnly: true}))
	f.Add([]byte("abcd"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, func() Record { return &ConnectRequest{} }, data, 0)
		var r ConnectRequest
		d := jute.NewDecoder(data)
		r.Decode(d)
		if d.Err() != nil {
			return
		}
		// readOnly is present exactly when a byte follows the password.
		mandatory := 4 + 8 + 4 + 8 + 4 + len(r.Passwd)
		if r.HasReadOnly != (len(data) > mandatory) {
			t.Fatalf("HasReadOnly %v with %d bytes, mandatory %d", r.HasReadOnly, len(data), mandatory)
		}
		if r.ReadOnly && !r.HasReadOnly {
			t.Fatal("ReadOnly without HasReadOnly")
		}
	})
}

func FuzzRequestHeader(f *testing.F) {
	f.Add(unhex(f, "fffffffe 0000000b"))                                                             // ping
	f.Add(unhex(f, "00000001 00000004 00000002 2f61 01"))                                            // getData /a watch
	f.Add(unhex(f, "fffffffc 00000064 00000000 00000006 64696765737400000009 626f623a736563726574")) // auth
	f.Add(unhex(f, "00000003 0000000e ffffffff 01 ffffffff"))                                        // empty multi
	f.Add(unhex(f, "00000005 00000065 0000000000000000 00000000 00000000 00000000"))
	for _, r := range filledRecords() {
		var op OpCode
		for o := OpCode(-11); o <= 110; o++ {
			if b := requestBody(o); b != nil && reflect.TypeOf(b) == reflect.TypeOf(r) {
				op = o
				break
			}
		}
		if op != 0 {
			f.Add(append(encode(&RequestHeader{Xid: 1, Type: int32(op)}), encode(r)...))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var h RequestHeader
		d := jute.NewDecoder(data)
		h.Decode(d)
		if d.Err() != nil {
			if len(data) >= 8 {
				t.Fatalf("8+ bytes but header decode failed: %v", d.Err())
			}
			return
		}
		if d.Offset() != 8 {
			t.Fatalf("header consumed %d bytes", d.Offset())
		}
		body := requestBody(OpCode(h.Type))
		if body == nil {
			return
		}
		checkDecode(t, freshOf(body), d.Rest(), 0)
	})
}

func FuzzMultiRequest(f *testing.F) {
	f.Add(unhex(f, "ffffffff 01 ffffffff"))
	f.Add(unhex(f, `00000001 00 ffffffff  00000002 2f61 00000001 78 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00000000
		0000000d 00 ffffffff  00000002 2f61 00000000
		00000002 00 ffffffff  00000002 2f61 ffffffff
		ffffffff 01 ffffffff`))
	f.Add(unhex(f, "00000004 00 ffffffff 00000002 2f61 00 00000008 00 ffffffff 00000002 2f61 01 ffffffff 01 ffffffff"))
	f.Add(unhex(f, "00000001 00 ffffffff 00000002 2f61 ffffffff 00000000 00000000 00000004 00 ffffffff 00000002 2f61 00 ffffffff 01 ffffffff"))
	f.Add(unhex(f, "00000015 00 ffffffff 00000002 2f74 00000000 00000000 00000005 0000000000000064 ffffffff 01 ffffffff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, func() Record { return &MultiRequest{} }, data, 0)
		checkDecode(t, func() Record { return &MultiRequest{} }, data, 64)
		var r MultiRequest
		d := jute.NewDecoder(data)
		r.Decode(d)
		if d.Err() != nil {
			return
		}
		reads, writes := 0, 0
		for _, op := range r.Ops {
			want := NewMultiOpBody(op.Type)
			if want == nil || reflect.TypeOf(want) != reflect.TypeOf(op.Body) {
				t.Fatalf("op %v has body %T", op.Type, op.Body)
			}
			if IsReadOp(op.Type) {
				reads++
			} else {
				writes++
			}
		}
		if reads > 0 && writes > 0 {
			t.Fatalf("decoded a multi mixing %d reads and %d writes", reads, writes)
		}
		// Any multi response decoder must also survive the same bytes.
		checkDecode(t, func() Record { return &MultiResponse{} }, data, 0)
	})
}

func FuzzRequestBodies(f *testing.F) {
	for _, r := range filledRecords() {
		f.Add(encode(r))
	}
	f.Add(unhex(f, javaConnectRequest)[4:])
	f.Add(unhex(f, "7fffffff"))
	f.Add(unhex(f, "00000002 2f78 ffffffff ffffffff 00000000"))
	records := filledRecords()
	records = append(records, &ConnectRequest{}, &ConnectResponse{}, &MultiRequest{}, &MultiResponse{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range records {
			checkDecode(t, freshOf(r), data, 0)
		}
	})
}
