package proto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/warren-zk/warren/internal/jute"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func encode(r Record) []byte {
	e := jute.NewEncoder(nil)
	r.Encode(e)
	return e.Bytes()
}

var (
	sampleStat = Stat{
		Czxid: 0x100000001, Mzxid: 0x100000002, Ctime: 1700000000000, Mtime: 1700000000500,
		Version: 3, Cversion: -1, Aversion: 2, EphemeralOwner: 0x0100a1b2c3d40000,
		DataLength: 5, NumChildren: 1, Pzxid: 0x100000003,
	}
	sampleACL = []ACL{
		{Perms: PermAll, Id: AnyoneID},
		{Perms: PermRead | PermAdmin, Id: Id{Scheme: "digest", Id: "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="}},
		{Perms: PermCreate, Id: Id{Scheme: "ip", Id: "10.0.0.0/8"}},
	}
)

// filledRecords has one record of every class in records.jute with every
// field set to a non-zero value.
func filledRecords() []Record {
	return []Record{
		&Id{Scheme: "digest", Id: "bob:x"},
		&ACL{Perms: PermRead | PermWrite, Id: Id{Scheme: "world", Id: "anyone"}},
		&sampleStat,
		&ClientInfo{AuthScheme: "ip", User: "127.0.0.1"},
		&RequestHeader{Xid: 7, Type: int32(OpCreate2)},
		&ReplyHeader{Xid: -2, Zxid: 0x500000007, Err: int32(ErrNoNode)},
		&MultiHeader{Type: int32(OpSetData), Done: true, Err: -1},
		&AuthPacket{Type: 0, Scheme: "digest", Auth: []byte("bob:secret")},
		&WatcherEvent{Type: EventNodeCreated, State: StateSyncConnected, Path: "/w1"},
		&ErrorResponse{Err: int32(ErrNodeExists)},
		&GetDataRequest{Path: "/a/b", Watch: true},
		&GetDataResponse{Data: []byte("hello"), Stat: sampleStat},
		&SetDataRequest{Path: "/a", Data: []byte{0, 1, 2}, Version: -1},
		&SetDataResponse{Stat: sampleStat},
		&CreateRequest{Path: "/s-", Data: []byte("d"), Acl: sampleACL, Flags: ModeEphemeralSequential},
		&CreateTTLRequest{Path: "/t", Data: []byte{}, Acl: sampleACL[:1], Flags: ModePersistentWithTTL, Ttl: 0xFFFFFFFFFF},
		&CreateResponse{Path: "/s-0000000001"},
		&Create2Response{Path: "/x", Stat: sampleStat},
		&DeleteRequest{Path: "/x", Version: 42},
		&ExistsRequest{Path: "/e", Watch: true},
		&ExistsResponse{Stat: sampleStat},
		&GetChildrenRequest{Path: "/", Watch: true},
		&GetChildrenResponse{Children: []string{"a", "zookeeper"}},
		&GetChildren2Request{Path: "/p", Watch: true},
		&GetChildren2Response{Children: []string{"c1"}, Stat: sampleStat},
		&GetAllChildrenNumberRequest{Path: "/"},
		&GetAllChildrenNumberResponse{TotalNumber: 3},
		&CheckVersionRequest{Path: "/c", Version: 9},
		&SyncRequest{Path: "/chroot/x"},
		&SyncResponse{Path: "/chroot/x"},
		&GetACLRequest{Path: "/zookeeper/config"},
		&GetACLResponse{Acl: sampleACL, Stat: sampleStat},
		&SetACLRequest{Path: "/a", Acl: sampleACL[1:], Version: 4},
		&SetACLResponse{Stat: sampleStat},
		&SetWatches{RelativeZxid: 0x100000009, DataWatches: []string{"/d"}, ExistWatches: []string{"/e1", "/e2"}, ChildWatches: []string{"/"}},
		&SetWatches2{RelativeZxid: 5, DataWatches: []string{"/d"}, ExistWatches: []string{"/e"}, ChildWatches: []string{"/c"},
			PersistentWatches: []string{"/p"}, PersistentRecursiveWatches: []string{"/r", "/r2"}},
		&AddWatchRequest{Path: "/r", Mode: AddWatchPersistentRecursive},
		&CheckWatchesRequest{Path: "/w", Type: WatcherData},
		&RemoveWatchesRequest{Path: "/w", Type: WatcherAny},
		&GetEphemeralsRequest{PrefixPath: "/e"},
		&GetEphemeralsResponse{Ephemerals: []string{"/e1", "/e2x"}},
		&WhoAmIResponse{ClientInfo: []ClientInfo{{AuthScheme: "digest", User: "bob"}, {AuthScheme: "ip", User: "127.0.0.1"}}},
		&ReconfigRequest{JoiningServers: "server.5=h:1:2;3", LeavingServers: "4", NewMembers: "", CurConfigId: -1},
		&GetSASLRequest{Token: []byte{0xde, 0xad}},
		&SetSASLResponse{Token: []byte{0xbe, 0xef}},
		&DeleteContainerRequest{Path: []byte("/c")},
	}
}

func typeName(r Record) string { return reflect.TypeOf(r).Elem().Name() }

// TestFilledRecordsCoverSchema fails when records.jute gains a class that the
// round-trip table does not exercise.
func TestFilledRecordsCoverSchema(t *testing.T) {
	schema, err := os.ReadFile("records.jute")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^class (\w+)`).FindAllStringSubmatch(string(schema), -1) {
		want = append(want, m[1])
	}
	var got []string
	for _, r := range filledRecords() {
		got = append(got, typeName(r))
	}
	sort.Strings(want)
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("table covers %v\nschema has    %v", got, want)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, in := range filledRecords() {
		t.Run(typeName(in), func(t *testing.T) {
			b := encode(in)
			out := reflect.New(reflect.TypeOf(in).Elem()).Interface().(Record)
			d := jute.NewDecoder(b)
			out.Decode(d)
			if d.Err() != nil {
				t.Fatalf("decode: %v", d.Err())
			}
			if d.Remaining() != 0 {
				t.Errorf("%d bytes left over", d.Remaining())
			}
			if !reflect.DeepEqual(in, out) {
				t.Errorf("round trip:\n in %+v\nout %+v", in, out)
			}
			// Every field is mandatory: each strict prefix must fail to decode.
			for n := 0; n < len(b); n++ {
				r := reflect.New(reflect.TypeOf(in).Elem()).Interface().(Record)
				d := jute.NewDecoder(b[:n])
				r.Decode(d)
				if d.Err() == nil {
					t.Fatalf("prefix of %d/%d bytes decoded without error", n, len(b))
				}
			}
		})
	}
}

func TestRecordZeroValuesRoundTrip(t *testing.T) {
	// Null buffers stay null, empty buffers stay empty; nil vectors are sent
	// as empty vectors (Warren never sends null vectors).
	for _, in := range filledRecords() {
		zero := reflect.New(reflect.TypeOf(in).Elem()).Interface().(Record)
		b := encode(zero)
		out := reflect.New(reflect.TypeOf(in).Elem()).Interface().(Record)
		d := jute.NewDecoder(b)
		out.Decode(d)
		if d.Err() != nil || d.Remaining() != 0 {
			t.Errorf("%s: zero value: err %v, %d left", typeName(in), d.Err(), d.Remaining())
		}
		if !bytes.Equal(encode(out), b) {
			t.Errorf("%s: zero value re-encodes differently", typeName(in))
		}
	}
	// A null data buffer in a request survives as nil (zkCli "create /x").
	in := &CreateRequest{Path: "/x", Data: nil, Acl: OpenACLUnsafe}
	var out CreateRequest
	d := jute.NewDecoder(encode(in))
	out.Decode(d)
	if out.Data != nil {
		t.Errorf("null data decoded as %#v", out.Data)
	}
	in.Data = []byte{}
	d = jute.NewDecoder(encode(in))
	out.Decode(d)
	if out.Data == nil || len(out.Data) != 0 {
		t.Errorf("empty data decoded as %#v", out.Data)
	}
	// A null ACL vector decodes as nil.
	d = jute.NewDecoder(unhex(t, "00000002 2f78 ffffffff ffffffff 00000000"))
	out.Decode(d)
	if d.Err() != nil || out.Acl != nil || out.Data != nil || out.Path != "/x" {
		t.Errorf("null vector: %+v %v", out, d.Err())
	}
}

func TestKnownEncodings(t *testing.T) {
	tests := []struct {
		name string
		r    Record
		want string
	}{
		{"ping header", &RequestHeader{Xid: XidPing, Type: int32(OpPing)}, "fffffffe 0000000b"},
		{"ping reply", &ReplyHeader{Xid: XidPing, Zxid: 0x12, Err: 0}, "fffffffe 0000000000000012 00000000"},
		{"notification NodeCreated /w1 (3.8)", &WatcherEvent{Type: EventNodeCreated, State: StateSyncConnected, Path: "/w1"},
			"00000001 00000003 00000003 2f7731"},
		{"addWatch reply body", &ErrorResponse{Err: 0}, "00000000"},
		{"stat", &Stat{Czxid: 1, Mzxid: 2, Ctime: 3, Mtime: 4, Version: 5, Cversion: 6, Aversion: 7, EphemeralOwner: 8, DataLength: 9, NumChildren: 10, Pzxid: 11},
			"0000000000000001 0000000000000002 0000000000000003 0000000000000004 00000005 00000006 00000007 0000000000000008 00000009 0000000a 000000000000000b"},
		{"acl", &ACL{Perms: PermAll, Id: AnyoneID}, "0000001f 00000005 776f726c64 00000006 616e796f6e65"},
		{"multi header", &MultiHeader{Type: -1, Done: true, Err: -1}, "ffffffff 01 ffffffff"},
	}
	for _, tc := range tests {
		if got, want := encode(tc.r), unhex(t, tc.want); !bytes.Equal(got, want) {
			t.Errorf("%s: got %x, want %x", tc.name, got, want)
		}
	}
	// The full 3.8 notification frame of §26: length 31, header, event.
	e := jute.NewEncoder(nil)
	(&ReplyHeader{Xid: XidNotification, Zxid: -1, Err: 0}).Encode(e)
	(&WatcherEvent{Type: EventNodeCreated, State: StateSyncConnected, Path: "/w1"}).Encode(e)
	want := unhex(t, "ffffffff | ffffffffffffffff | 00000000 | 00000001 | 00000003 | 00000003 2f7731")
	if e.Len() != 31 || !bytes.Equal(e.Bytes(), want) {
		t.Errorf("notification frame body (%d bytes): %x", e.Len(), e.Bytes())
	}
}

// javaConnectRequest is §26's Java new-session ConnectRequest frame (timeout 30000).
const javaConnectRequest = "0000002d | 00000000 | 0000000000000000 | 00007530 | 0000000000000000 | 00000010 | 00000000000000000000000000000000 | 00"

func TestConnectRequest(t *testing.T) {
	frame := unhex(t, javaConnectRequest)
	body := frame[4:]
	if len(body) != 45 || int(frame[3]) != 45 {
		t.Fatalf("example body %d bytes", len(body))
	}
	var r ConnectRequest
	d := jute.NewDecoder(body)
	r.Decode(d)
	want := ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), HasReadOnly: true}
	if d.Err() != nil || !reflect.DeepEqual(r, want) {
		t.Fatalf("decoded %+v (err %v), want %+v", r, d.Err(), want)
	}
	if !bytes.Equal(encode(&r), body) {
		t.Errorf("re-encoded %x", encode(&r))
	}

	// go-zookeeper form: 44 bytes, no readOnly byte.
	var r44 ConnectRequest
	d = jute.NewDecoder(body[:44])
	r44.Decode(d)
	want.HasReadOnly = false
	if d.Err() != nil || !reflect.DeepEqual(r44, want) {
		t.Fatalf("44-byte request: %+v (err %v)", r44, d.Err())
	}
	if b := encode(&r44); len(b) != 44 {
		t.Errorf("44-byte request re-encoded to %d bytes", len(b))
	}

	// readOnly = 1, reattach with a real session id and last zxid.
	r1 := ConnectRequest{LastZxidSeen: 0x100000005, TimeOut: 4000, SessionID: 0x0100a1b2c3d40000,
		Passwd: bytes.Repeat([]byte{0xab}, 16), ReadOnly: true, HasReadOnly: true}
	b := encode(&r1)
	if len(b) != 45 || b[44] != 1 {
		t.Fatalf("readOnly request: %x", b)
	}
	var r2 ConnectRequest
	r2.ReadOnly, r2.HasReadOnly = true, true // Decode must reset them
	r2.Decode(jute.NewDecoder(b[:44]))
	if r2.ReadOnly || r2.HasReadOnly {
		t.Errorf("stale readOnly after decoding a 44-byte request")
	}
	d = jute.NewDecoder(b)
	r2.Decode(d)
	if d.Err() != nil || !reflect.DeepEqual(r1, r2) {
		t.Errorf("readOnly round trip: %+v", r2)
	}

	// Every strict prefix of the mandatory part fails.
	for n := 0; n < 44; n++ {
		var r ConnectRequest
		d := jute.NewDecoder(body[:n])
		r.Decode(d)
		if d.Err() == nil {
			t.Errorf("%d-byte request decoded", n)
		}
	}
	// A hostile password length fails cleanly.
	bad := append([]byte(nil), body...)
	copy(bad[24:28], []byte{0x7f, 0xff, 0xff, 0xff})
	var rb ConnectRequest
	d = jute.NewDecoder(bad)
	rb.Decode(d)
	if !errors.Is(d.Err(), jute.ErrLength) {
		t.Errorf("password length 0x7fffffff: %v", d.Err())
	}
}

func TestConnectResponse(t *testing.T) {
	pw := bytes.Repeat([]byte{7}, 16)
	for _, tc := range []struct {
		r    ConnectResponse
		size int
	}{
		{ConnectResponse{TimeOut: 30000, SessionID: 0x0100a1b2c3d40000, Passwd: pw}, 36},
		{ConnectResponse{TimeOut: 30000, SessionID: 0x0100a1b2c3d40000, Passwd: pw, HasReadOnly: true}, 37},
		{ConnectResponse{TimeOut: 30000, SessionID: 1, Passwd: pw, HasReadOnly: true, ReadOnly: true}, 37},
		{ConnectResponse{Passwd: make([]byte, 16), HasReadOnly: true}, 37}, // expired session
	} {
		b := encode(&tc.r)
		if len(b) != tc.size {
			t.Errorf("%+v: %d bytes, want %d", tc.r, len(b), tc.size)
		}
		var out ConnectResponse
		d := jute.NewDecoder(b)
		out.Decode(d)
		if d.Err() != nil || !reflect.DeepEqual(out, tc.r) {
			t.Errorf("round trip %+v -> %+v (%v)", tc.r, out, d.Err())
		}
	}
	// Exact layout of §4.2.
	r := ConnectResponse{TimeOut: 4000, SessionID: 0x0102030405060708, Passwd: bytes.Repeat([]byte{0xee}, 16), HasReadOnly: true, ReadOnly: true}
	want := unhex(t, "00000000 00000fa0 0102030405060708 00000010 eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee 01")
	if got := encode(&r); !bytes.Equal(got, want) {
		t.Errorf("layout: %x\nwant    %x", got, want)
	}
}

func TestMultiRequestEncoding(t *testing.T) {
	req := MultiRequest{Ops: []MultiOp{
		{Type: OpCreate, Body: &CreateRequest{Path: "/a", Data: []byte("x"), Acl: OpenACLUnsafe, Flags: 0}},
		{Type: OpCheck, Body: &CheckVersionRequest{Path: "/a", Version: 0}},
		{Type: OpDelete, Body: &DeleteRequest{Path: "/a", Version: -1}},
	}}
	want := unhex(t, `
		00000001 00 ffffffff  00000002 2f61 00000001 78 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00000000
		0000000d 00 ffffffff  00000002 2f61 00000000
		00000002 00 ffffffff  00000002 2f61 ffffffff
		ffffffff 01 ffffffff`)
	if got := encode(&req); !bytes.Equal(got, want) {
		t.Fatalf("multi request:\n got %x\nwant %x", got, want)
	}
	var out MultiRequest
	d := jute.NewDecoder(want)
	out.Decode(d)
	if d.Err() != nil || !reflect.DeepEqual(out, req) || d.Remaining() != 0 {
		t.Fatalf("decode: %+v err %v", out, d.Err())
	}

	// Every op type allowed in a multi or multiRead round-trips with its body type.
	all := MultiRequest{Ops: []MultiOp{
		{Type: OpCreate, Body: &CreateRequest{Path: "/1", Acl: OpenACLUnsafe}},
		{Type: OpCreate2, Body: &CreateRequest{Path: "/2", Acl: OpenACLUnsafe}},
		{Type: OpCreateContainer, Body: &CreateRequest{Path: "/3", Acl: OpenACLUnsafe, Flags: ModeContainer}},
		{Type: OpCreateTTL, Body: &CreateTTLRequest{Path: "/4", Acl: OpenACLUnsafe, Flags: ModePersistentWithTTL, Ttl: 10}},
		{Type: OpDelete, Body: &DeleteRequest{Path: "/5", Version: 1}},
		{Type: OpSetData, Body: &SetDataRequest{Path: "/6", Data: []byte("d"), Version: 2}},
		{Type: OpCheck, Body: &CheckVersionRequest{Path: "/7", Version: 3}},
	}}
	reads := MultiRequest{Ops: []MultiOp{
		{Type: OpGetData, Body: &GetDataRequest{Path: "/r1", Watch: true}},
		{Type: OpGetChildren, Body: &GetChildrenRequest{Path: "/r2"}},
	}}
	for _, m := range []MultiRequest{all, reads, {}} {
		var out MultiRequest
		d := jute.NewDecoder(encode(&m))
		out.Decode(d)
		if d.Err() != nil || !reflect.DeepEqual(out, m) {
			t.Errorf("round trip %+v -> %+v (%v)", m, out, d.Err())
		}
	}
	// Empty multi: the terminator alone.
	if got := encode(&MultiRequest{}); !bytes.Equal(got, unhex(t, "ffffffff 01 ffffffff")) {
		t.Errorf("empty multi: %x", got)
	}
}

func TestMultiRequestBad(t *testing.T) {
	create := "00000001 00 ffffffff  00000002 2f61 ffffffff 00000000 00000000"
	getData := "00000004 00 ffffffff  00000002 2f61 00"
	term := "ffffffff 01 ffffffff"
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"unknown op type", "00000063 00 ffffffff " + term, ErrBadMulti},
		{"setACL is not a multi op", "00000007 00 ffffffff  00000002 2f61 00000000 00000000 " + term, ErrBadMulti},
		{"exists is not a multi op", "00000003 00 ffffffff  00000002 2f61 00 " + term, ErrBadMulti},
		{"getChildren2 is not a multiRead op", "0000000c 00 ffffffff  00000002 2f61 00 " + term, ErrBadMulti},
		{"nested multi", "0000000e 00 ffffffff " + term + term, ErrBadMulti},
		{"write then read", create + getData + term, ErrBadMulti},
		{"read then write", getData + create + term, ErrBadMulti},
		{"no terminator", create, jute.ErrShort},
		{"truncated body", "00000001 00 ffffffff 00000002 2f", jute.ErrShort},
		{"empty input", "", jute.ErrShort},
		{"hostile path length", "00000001 00 ffffffff 7fffffff", jute.ErrLength},
	}
	for _, tc := range tests {
		var r MultiRequest
		d := jute.NewDecoder(unhex(t, tc.in))
		r.Decode(d)
		if !errors.Is(d.Err(), tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, d.Err(), tc.want)
		}
	}
	// The terminator is any header with done=true, whatever its type.
	var r MultiRequest
	d := jute.NewDecoder(unhex(t, create+"00000001 01 ffffffff"))
	r.Decode(d)
	if d.Err() != nil || len(r.Ops) != 1 {
		t.Errorf("done=true with type 1: %v, %d ops", d.Err(), len(r.Ops))
	}
	// Decode resets previous ops.
	d = jute.NewDecoder(unhex(t, term))
	r.Decode(d)
	if len(r.Ops) != 0 {
		t.Errorf("stale ops after decoding an empty multi: %d", len(r.Ops))
	}
	// An op count beyond what MaxBuffer allows is refused.
	var many bytes.Buffer
	for range 20 {
		many.Write(unhex(t, "0000000d 00 ffffffff 00000000 00000000"))
	}
	many.Write(unhex(t, term))
	d = jute.NewDecoder(many.Bytes())
	d.MaxBuffer = 120
	r.Decode(d)
	if !errors.Is(d.Err(), ErrBadMulti) {
		t.Errorf("20 ops with MaxBuffer 120: %v", d.Err())
	}
}

func TestMultiResponseEncoding(t *testing.T) {
	// §26: failed multi (create ok, create NodeExists, setData).
	failed := MultiResponse{Results: []MultiResult{
		{Type: OpError, Err: ErrOK},
		{Type: OpError, Err: ErrNodeExists},
		{Type: OpError, Err: ErrRuntimeInconsistency},
	}}
	want := unhex(t, `ffffffff 00 00000000 00000000
		ffffffff 00 ffffff92 ffffff92
		ffffffff 00 fffffffe fffffffe
		ffffffff 01 ffffffff`)
	if got := encode(&failed); !bytes.Equal(got, want) {
		t.Fatalf("failed multi:\n got %x\nwant %x", got, want)
	}
	var out MultiResponse
	d := jute.NewDecoder(want)
	out.Decode(d)
	if d.Err() != nil || !reflect.DeepEqual(out, failed) {
		t.Fatalf("decode failed multi: %+v %v", out, d.Err())
	}

	ok := MultiResponse{Results: []MultiResult{
		{Type: OpCreate, Body: &CreateResponse{Path: "/a"}},
		{Type: OpCreate2, Body: &Create2Response{Path: "/b", Stat: sampleStat}},
		{Type: OpDelete},
		{Type: OpSetData, Body: &SetDataResponse{Stat: sampleStat}},
		{Type: OpCheck},
	}}
	b := encode(&ok)
	d = jute.NewDecoder(b)
	out.Decode(d)
	if d.Err() != nil || !reflect.DeepEqual(out, ok) {
		t.Fatalf("decode ok multi: %+v %v", out, d.Err())
	}
	// Headers of successful results carry the op type and err 0.
	if !bytes.HasPrefix(b, unhex(t, "00000001 00 00000000 00000002 2f61 0000000f 00 00000000")) {
		t.Errorf("ok multi prefix: %x", b[:30])
	}

	reads := MultiResponse{Results: []MultiResult{
		{Type: OpGetData, Body: &GetDataResponse{Data: []byte("v"), Stat: sampleStat}},
		{Type: OpError, Err: ErrNoNode},
		{Type: OpGetChildren, Body: &GetChildrenResponse{Children: []string{"x"}}},
	}}
	d = jute.NewDecoder(encode(&reads))
	out.Decode(d)
	if d.Err() != nil || !reflect.DeepEqual(out, reads) {
		t.Fatalf("decode multiRead: %+v %v", out, d.Err())
	}
	// Empty multi reply.
	if got := encode(&MultiResponse{}); !bytes.Equal(got, unhex(t, "ffffffff 01 ffffffff")) {
		t.Errorf("empty multi reply: %x", got)
	}
	// Unknown result type.
	d = jute.NewDecoder(unhex(t, "00000007 00 00000000 ffffffff 01 ffffffff"))
	out.Decode(d)
	if !errors.Is(d.Err(), ErrBadMulti) {
		t.Errorf("result type 7: %v", d.Err())
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		flags int32
		want  ModeInfo
		ok    bool
	}{
		{0, ModeInfo{}, true},
		{1, ModeInfo{Ephemeral: true}, true},
		{2, ModeInfo{Sequential: true}, true},
		{3, ModeInfo{Ephemeral: true, Sequential: true}, true},
		{4, ModeInfo{Container: true}, true},
		{5, ModeInfo{TTL: true}, true},
		{6, ModeInfo{Sequential: true, TTL: true}, true},
		{7, ModeInfo{}, false},
		{-1, ModeInfo{}, false},
		{8, ModeInfo{}, false},
		{1 << 30, ModeInfo{}, false},
	}
	for _, tc := range tests {
		got, ok := ParseMode(tc.flags)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseMode(%d) = %+v %v, want %+v %v", tc.flags, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCodesAndNames(t *testing.T) {
	errs := map[Err]string{
		ErrOK: "ok", ErrNoNode: "NoNode", ErrNotEmpty: "Directory not empty", ErrBadArguments: "BadArguments",
		ErrUnknownSession: "Unknown error -12", ErrRequestTimeout: "Unknown error -122",
		ErrSessionExpired: "Session expired", ErrNoWatcher: "No such watcher", ErrQuotaExceeded: "Quota has exceeded",
		ErrMarshallingError: "MarshallingError", ErrRuntimeInconsistency: "RuntimeInconsistency",
	}
	for e, msg := range errs {
		if e.Message() != msg {
			t.Errorf("%d.Message() = %q, want %q", int32(e), e.Message(), msg)
		}
	}
	if ErrNoNode.Error() != "KeeperErrorCode = NoNode" {
		t.Errorf("Error() = %q", ErrNoNode.Error())
	}
	var err error = ErrNodeExists
	var ze Err
	if !errors.As(err, &ze) || ze != -110 {
		t.Errorf("errors.As: %v", ze)
	}
	codes := map[Err]int32{ErrSystemError: -1, ErrRuntimeInconsistency: -2, ErrMarshallingError: -5, ErrUnimplemented: -6,
		ErrBadArguments: -8, ErrUnknownSession: -12, ErrNoNode: -101, ErrNoAuth: -102, ErrBadVersion: -103,
		ErrNoChildrenForEphemerals: -108, ErrNodeExists: -110, ErrNotEmpty: -111, ErrSessionExpired: -112,
		ErrInvalidACL: -114, ErrAuthFailed: -115, ErrSessionMoved: -118, ErrNotReadOnly: -119, ErrNoWatcher: -121,
		ErrReconfigDisabled: -123, ErrQuotaExceeded: -125, ErrThrottledOp: -127}
	for e, v := range codes {
		if int32(e) != v {
			t.Errorf("code %s = %d, want %d", e.Message(), int32(e), v)
		}
	}
	ops := map[OpCode]string{OpCreate: "create", OpMulti: "multi", OpCreateTTL: "createTTL", OpWhoAmI: "whoAmI",
		OpCloseSession: "closeSession", OpError: "error", OpCode(10): "op(10)", OpCode(999): "op(999)"}
	for o, s := range ops {
		if o.String() != s {
			t.Errorf("OpCode(%d).String() = %q, want %q", int32(o), o.String(), s)
		}
	}
	short := map[OpCode]string{OpPing: "PING", OpCreate2: "CREA", OpDeleteContainer: "DELE", OpGetChildren2: "GETC",
		OpCreateSession: "SESS", OpCode(10): "NA"}
	for o, s := range short {
		if o.ShortName() != s {
			t.Errorf("OpCode(%d).ShortName() = %q, want %q", int32(o), o.ShortName(), s)
		}
	}
	if !IsReadOp(OpGetData) || !IsReadOp(OpGetChildren) || IsReadOp(OpGetChildren2) || IsReadOp(OpExists) || IsReadOp(OpCreate) {
		t.Error("IsReadOp")
	}
}
