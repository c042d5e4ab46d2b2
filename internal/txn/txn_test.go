package txn

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

func sampleEntries() []Entry {
	return []Entry{
		{},
		{Op: proto.OpCreateSession, Session: 0x0100a1b2c3d40000, Time: 1700000000000, Origin: 1, ReqID: 1, Timeout: 30000},
		{Op: proto.OpCloseSession, Session: 0x0100a1b2c3d40000, Cxid: 9, Time: 1, Origin: 3, ReqID: math.MaxUint64},
		{Op: proto.OpDeleteContainer, Body: []byte("/c")},
		{Op: proto.OpCreate, Session: -1, Cxid: math.MinInt32, Time: math.MinInt64, Origin: math.MaxInt64, ReqID: 1 << 63,
			Auth:    []proto.Id{{Scheme: "ip", Id: "127.0.0.1"}, {Scheme: "digest", Id: "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="}},
			Timeout: -1, Body: []byte{0, 1, 2, 3, 0xff}},
		{Op: proto.OpSetData, Body: []byte{}},
		{Op: proto.OpMulti, Auth: []proto.Id{{Scheme: "", Id: ""}}, Body: bytes.Repeat([]byte{7}, 4096)},
	}
}

func TestEntryRoundTrip(t *testing.T) {
	for i, in := range sampleEntries() {
		b := in.Marshal()
		if len(b) != cap(b) {
			t.Errorf("entry %d: Marshal allocated %d bytes for %d", i, cap(b), len(b))
		}
		out, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if !reflect.DeepEqual(*out, in) {
			t.Errorf("entry %d:\n in %+v\nout %+v", i, in, *out)
		}
		// Null and empty bodies stay distinct.
		if (in.Body == nil) != (out.Body == nil) {
			t.Errorf("entry %d: body nil %v -> %v", i, in.Body == nil, out.Body == nil)
		}
		// Encode into an existing encoder gives the same bytes.
		e := jute.NewEncoder([]byte("prefix"))
		in.Encode(e)
		if !bytes.Equal(e.Bytes()[6:], b) {
			t.Errorf("entry %d: Encode and Marshal differ", i)
		}
	}
}

func TestEntryLayout(t *testing.T) {
	x := Entry{Op: proto.OpCreate, Session: 2, Cxid: 3, Time: 4, Origin: 5, ReqID: 6,
		Auth: []proto.Id{{Scheme: "ip", Id: "a"}}, Timeout: 7, Body: []byte("B")}
	want := "00000001 00000001 0000000000000002 00000003 0000000000000004 0000000000000005 0000000000000006" +
		" 00000001 00000002 6970 00000001 61 00000007 00000001 42"
	if got := hex.EncodeToString(x.Marshal()); got != strings.ReplaceAll(want, " ", "") {
		t.Errorf("layout:\n got %s\nwant %s", got, strings.ReplaceAll(want, " ", ""))
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good := sampleEntries()[4].Marshal()
	// Every strict prefix is an error, never a panic.
	for n := 0; n < len(good); n++ {
		if _, err := Unmarshal(good[:n]); err == nil {
			t.Fatalf("prefix of %d/%d bytes accepted", n, len(good))
		}
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, jute.ErrShort},
		{"version 0", append([]byte{0, 0, 0, 0}, good[4:]...), nil},
		{"version 2", append([]byte{0, 0, 0, 2}, good[4:]...), nil},
		{"version -1", append([]byte{0xff, 0xff, 0xff, 0xff}, good[4:]...), nil},
		{"garbage", []byte("this is not an entry at all, just text"), nil},
	}
	for _, tc := range tests {
		x, err := Unmarshal(tc.b)
		if err == nil || x != nil {
			t.Errorf("%s: accepted: %+v", tc.name, x)
			continue
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	// Hostile lengths: the auth count and the body length are bounded by the input.
	hostile := Entry{Op: proto.OpCreate, Auth: []proto.Id{{Scheme: "ip", Id: "x"}}, Body: []byte("body")}
	b := hostile.Marshal()
	authAt := 4 + 4 + 8 + 4 + 8 + 8 + 8
	for _, v := range [][]byte{{0x7f, 0xff, 0xff, 0xff}, {0, 0, 0, 100}, {0xff, 0xff, 0xff, 0xfe}} {
		c := append([]byte(nil), b...)
		copy(c[authAt:], v)
		if _, err := Unmarshal(c); err == nil {
			t.Errorf("auth count %x accepted", v)
		}
		c = append([]byte(nil), b...)
		copy(c[len(c)-8:], v)
		if _, err := Unmarshal(c); err == nil {
			t.Errorf("body length %x accepted", v)
		}
	}
	// A null (-1) auth vector decodes as no auth ids.
	c := append([]byte(nil), b[:authAt]...)
	c = append(c, 0xff, 0xff, 0xff, 0xff)
	c = append(c, b[authAt+4+4+2+4+1:]...)
	x, err := Unmarshal(c)
	if err != nil || x.Auth != nil || string(x.Body) != "body" {
		t.Errorf("null auth vector: %+v %v", x, err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, x := range sampleEntries() {
		f.Add(x.Marshal())
	}
	f.Add([]byte{0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := Unmarshal(b)
		if err != nil {
			if x != nil {
				t.Fatal("entry returned with an error")
			}
			return
		}
		if len(x.Body) > len(b) || len(x.Auth) > len(b)/8 {
			t.Fatalf("decoded more than the input holds: body %d auth %d from %d bytes", len(x.Body), len(x.Auth), len(b))
		}
		// Re-marshalling is a fixed point and never longer than the input.
		m := x.Marshal()
		if len(m) > len(b) {
			t.Fatalf("re-marshalled to %d bytes from %d", len(m), len(b))
		}
		y, err := Unmarshal(m)
		if err != nil {
			t.Fatalf("re-marshalled entry does not decode: %v", err)
		}
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("not a fixed point:\n%+v\n%+v", x, y)
		}
	})
}

func TestZxidNewTerm(t *testing.T) {
	type step struct {
		term, index uint64
		want        int64
	}
	tests := []struct {
		name  string
		start ZxidState
		steps []step
	}{
		{"first term", ZxidState{}, []step{
			{1, 1, 1<<32 | 0}, {1, 2, 1<<32 | 1}, {1, 3, 1<<32 | 2},
		}},
		{"new term: new epoch, counter from the epoch start", ZxidState{}, []step{
			{1, 1, 1 << 32}, {1, 2, 1<<32 | 1}, {2, 3, 2 << 32}, {2, 4, 2<<32 | 1}, {2, 10, 2<<32 | 7},
		}},
		{"term jump: epoch = term", ZxidState{}, []step{
			{1, 1, 1 << 32}, {7, 2, 7 << 32}, {7, 3, 7<<32 | 1},
		}},
		{"epoch ahead of term: epoch = E+1", ZxidState{Epoch: 9, EpochStart: 100, LastTerm: 3}, []step{
			{3, 101, 9<<32 | 1}, {4, 102, 10 << 32}, {5, 103, 11 << 32}, {20, 104, 20 << 32},
		}},
		{"restart mid-term", ZxidState{Epoch: 5, EpochStart: 50, LastTerm: 5}, []step{
			{5, 60, 5<<32 | 10},
		}},
	}
	for _, tc := range tests {
		z := tc.start
		for _, s := range tc.steps {
			if got := z.Next(s.term, s.index); got != s.want {
				t.Errorf("%s: Next(%d, %d) = %#x, want %#x", tc.name, s.term, s.index, got, s.want)
			}
			if z.LastTerm != s.term {
				t.Errorf("%s: LastTerm %d after term %d", tc.name, z.LastTerm, s.term)
			}
		}
	}
}

func TestZxidCounterOverflow(t *testing.T) {
	z := ZxidState{Epoch: 3, EpochStart: 10, LastTerm: 3}
	last := z.Next(3, 10+0xFFFFFFFE)
	if last != 3<<32|0xFFFFFFFE {
		t.Fatalf("got %#x", last)
	}
	if got := z.Next(3, 10+0xFFFFFFFF); got != 3<<32|0xFFFFFFFF {
		t.Fatalf("counter 0xFFFFFFFF: got %#x", got)
	}
	// The next one would overflow the counter: new epoch, same term.
	if got := z.Next(3, 10+0x100000000); got != 4<<32 {
		t.Fatalf("overflow: got %#x, want %#x", got, int64(4<<32))
	}
	if z.Epoch != 4 || z.LastTerm != 3 || z.EpochStart != 10+0x100000000 {
		t.Errorf("state after overflow: %+v", z)
	}
	if got := z.Next(3, 10+0x100000001); got != 4<<32|1 {
		t.Errorf("after overflow: %#x", got)
	}
	// A later new term still moves to max(term, E+1).
	if got := z.Next(4, 10+0x100000002); got != 5<<32 {
		t.Errorf("new term after overflow: %#x, want %#x", got, int64(5<<32))
	}
}

// TestZxidStrictlyIncreasing drives random (term, index) sequences, with
// occasional counter overflows, and checks zxids only go up.
func TestZxidStrictlyIncreasing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for run := range 200 {
		var z ZxidState
		term, index := uint64(1), uint64(1)
		prev := int64(math.MinInt64)
		for range 500 {
			switch r := rng.IntN(100); {
			case r < 5:
				term += 1 + uint64(rng.IntN(3))
			case r < 7:
				index += 0xFFFFFFFF - uint64(rng.IntN(3))
			}
			index++
			zx := z.Next(term, index)
			if zx <= prev {
				t.Fatalf("run %d: zxid %#x after %#x (term %d index %d)", run, zx, prev, term, index)
			}
			if zx>>32 < int64(term) {
				t.Fatalf("run %d: epoch %d below term %d", run, zx>>32, term)
			}
			prev = zx
		}
	}
}
