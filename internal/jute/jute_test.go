package jute

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestPrimitiveEncodings(t *testing.T) {
	tests := []struct {
		name string
		enc  func(e *Encoder)
		want string
	}{
		{"int 0", func(e *Encoder) { e.Int(0) }, "00000000"},
		{"int 1", func(e *Encoder) { e.Int(1) }, "00000001"},
		{"int -1", func(e *Encoder) { e.Int(-1) }, "ffffffff"},
		{"int 30000", func(e *Encoder) { e.Int(30000) }, "00007530"},
		{"int max", func(e *Encoder) { e.Int(math.MaxInt32) }, "7fffffff"},
		{"int min", func(e *Encoder) { e.Int(math.MinInt32) }, "80000000"},
		{"long 0", func(e *Encoder) { e.Long(0) }, "0000000000000000"},
		{"long -1", func(e *Encoder) { e.Long(-1) }, "ffffffffffffffff"},
		{"long big-endian", func(e *Encoder) { e.Long(0x0102030405060708) }, "0102030405060708"},
		{"long min", func(e *Encoder) { e.Long(math.MinInt64) }, "8000000000000000"},
		{"bool false", func(e *Encoder) { e.Bool(false) }, "00"},
		{"bool true", func(e *Encoder) { e.Bool(true) }, "01"},
		{"buffer null", func(e *Encoder) { e.Buffer(nil) }, "ffffffff"},
		{"buffer empty", func(e *Encoder) { e.Buffer([]byte{}) }, "00000000"},
		{"buffer abc", func(e *Encoder) { e.Buffer([]byte("abc")) }, "00000003 616263"},
		{"string empty", func(e *Encoder) { e.String("") }, "00000000"},
		{"string /w1", func(e *Encoder) { e.String("/w1") }, "00000003 2f7731"},
		{"string utf8", func(e *Encoder) { e.String("é") }, "00000002 c3a9"},
		{"strings nil", func(e *Encoder) { e.Strings(nil) }, "00000000"},
		{"strings empty", func(e *Encoder) { e.Strings([]string{}) }, "00000000"},
		{"strings two", func(e *Encoder) { e.Strings([]string{"a", ""}) }, "00000002 00000001 61 00000000"},
		{"raw", func(e *Encoder) { e.Raw([]byte{9, 8}) }, "0908"},
		{"sequence", func(e *Encoder) { e.Int(-2); e.Int(11) }, "fffffffe 0000000b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEncoder(nil)
			tc.enc(e)
			if want := unhex(t, tc.want); !bytes.Equal(e.Bytes(), want) {
				t.Errorf("got %x, want %x", e.Bytes(), want)
			}
			if e.Len() != len(e.Bytes()) {
				t.Errorf("Len %d != len(Bytes) %d", e.Len(), len(e.Bytes()))
			}
		})
	}
}

func TestRoundTripPrimitives(t *testing.T) {
	ints := []int32{0, 1, -1, 2, -2, 255, 256, 1 << 24, math.MaxInt32, math.MinInt32}
	longs := []int64{0, 1, -1, 1 << 32, -1 << 32, math.MaxInt64, math.MinInt64, 0x0123456789abcdef}
	bufs := [][]byte{nil, {}, {0}, {0xff}, []byte("hello"), bytes.Repeat([]byte{0xab}, 1000)}
	strs := []string{"", "/", "/a/b", "héllo", "\x00", strings.Repeat("x", 4096)}
	vecs := [][]string{{}, {""}, {"a", "b", "c"}, {"/zookeeper", "", "/x/y"}}

	e := NewEncoder(nil)
	for _, v := range ints {
		e.Int(v)
	}
	for _, v := range longs {
		e.Long(v)
	}
	e.Bool(true)
	e.Bool(false)
	for _, v := range bufs {
		e.Buffer(v)
	}
	for _, v := range strs {
		e.String(v)
	}
	for _, v := range vecs {
		e.Strings(v)
	}

	d := NewDecoder(e.Bytes())
	for _, want := range ints {
		if got := d.Int(); got != want {
			t.Errorf("Int: got %d, want %d", got, want)
		}
	}
	for _, want := range longs {
		if got := d.Long(); got != want {
			t.Errorf("Long: got %d, want %d", got, want)
		}
	}
	if !d.Bool() || d.Bool() {
		t.Errorf("Bool round trip failed")
	}
	for _, want := range bufs {
		got := d.Buffer()
		if (got == nil) != (want == nil) || !bytes.Equal(got, want) {
			t.Errorf("Buffer: got %x (nil %v), want %x (nil %v)", got, got == nil, want, want == nil)
		}
	}
	for _, want := range strs {
		if got := d.String(); got != want {
			t.Errorf("String: got %q, want %q", got, want)
		}
	}
	for _, want := range vecs {
		got := d.Strings()
		if got == nil || len(got) != len(want) {
			t.Errorf("Strings: got %q (nil %v), want %q", got, got == nil, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("Strings[%d]: got %q, want %q", i, got[i], want[i])
			}
		}
	}
	if err := d.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	if d.Remaining() != 0 || d.Offset() != len(e.Bytes()) {
		t.Errorf("Remaining %d Offset %d, want 0 and %d", d.Remaining(), d.Offset(), len(e.Bytes()))
	}
}

func TestNullVersusEmpty(t *testing.T) {
	// Buffer: null (-1) decodes to nil, empty (0) to a non-nil empty slice, and
	// both re-encode to the original bytes.
	for _, tc := range []struct {
		in      string
		wantNil bool
	}{
		{"ffffffff", true},
		{"00000000", false},
	} {
		for _, noCopy := range []bool{false, true} {
			d := NewDecoder(unhex(t, tc.in))
			var b []byte
			if noCopy {
				b = d.BufferNoCopy()
			} else {
				b = d.Buffer()
			}
			if d.Err() != nil {
				t.Fatalf("%s: %v", tc.in, d.Err())
			}
			if (b == nil) != tc.wantNil || len(b) != 0 {
				t.Errorf("%s (noCopy %v): got %#v, want nil=%v", tc.in, noCopy, b, tc.wantNil)
			}
			e := NewEncoder(nil)
			e.Buffer(b)
			if got := hex.EncodeToString(e.Bytes()); got != tc.in {
				t.Errorf("%s: re-encoded as %s", tc.in, got)
			}
		}
	}

	// ustring: null reports null and "", empty reports not null.
	d := NewDecoder(unhex(t, "ffffffff 00000000"))
	if s, null := d.NullableString(); s != "" || !null {
		t.Errorf("null ustring: got %q null=%v", s, null)
	}
	if s, null := d.NullableString(); s != "" || null {
		t.Errorf("empty ustring: got %q null=%v", s, null)
	}
	d = NewDecoder(unhex(t, "ffffffff"))
	if s := d.String(); s != "" || d.Err() != nil {
		t.Errorf("String on null: %q, %v", s, d.Err())
	}

	// vector: null decodes nil, empty decodes non-nil.
	d = NewDecoder(unhex(t, "ffffffff 00000000"))
	if v := d.Strings(); v != nil {
		t.Errorf("null vector: got %#v, want nil", v)
	}
	if v := d.Strings(); v == nil || len(v) != 0 {
		t.Errorf("empty vector: got %#v, want []string{}", v)
	}
	d = NewDecoder(unhex(t, "ffffffff 00000000 00000003"))
	if n := d.Count(1); n != -1 {
		t.Errorf("Count(null) = %d, want -1", n)
	}
	if n := d.Count(1); n != 0 {
		t.Errorf("Count(empty) = %d, want 0", n)
	}
	if n := d.Count(1); n != 0 || !errors.Is(d.Err(), ErrShort) {
		t.Errorf("Count(3) with no bytes left = %d, err %v; want ErrShort", n, d.Err())
	}
}

func TestBufferCopySemantics(t *testing.T) {
	in := unhex(t, "00000003 616263 00000003 646566")
	d := NewDecoder(in)
	cp := d.Buffer()
	alias := d.BufferNoCopy()
	in[4] = 'X'
	in[11] = 'Y'
	if string(cp) != "abc" {
		t.Errorf("Buffer result aliases the input: %q", cp)
	}
	if string(alias) != "Yef" {
		t.Errorf("BufferNoCopy result should alias the input: %q", alias)
	}
	if cap(alias) != len(alias) {
		t.Errorf("BufferNoCopy cap %d, want %d (appending must not overwrite the input)", cap(alias), len(alias))
	}
}

func TestBoolAnyNonZeroIsTrue(t *testing.T) {
	for _, b := range []byte{1, 2, 0x80, 0xff} {
		if !NewDecoder([]byte{b}).Bool() {
			t.Errorf("byte %#x decoded as false", b)
		}
	}
	if NewDecoder([]byte{0}).Bool() {
		t.Error("byte 0 decoded as true")
	}
}

func TestLengthChecks(t *testing.T) {
	type reader struct {
		name string
		read func(d *Decoder)
	}
	readers := []reader{
		{"Buffer", func(d *Decoder) { d.Buffer() }},
		{"BufferNoCopy", func(d *Decoder) { d.BufferNoCopy() }},
		{"String", func(d *Decoder) { _ = d.String() }},
		{"NullableString", func(d *Decoder) { d.NullableString() }},
		{"Strings", func(d *Decoder) { d.Strings() }},
		{"Count", func(d *Decoder) { d.Count(1) }},
	}
	tests := []struct {
		name    string
		in      string
		max     int
		wantErr error
	}{
		{"minus two", "fffffffe 00", 0, ErrLength},
		{"min int", "80000000 00", 0, ErrLength},
		{"max int over default limit", "7fffffff 00", 0, ErrLength},
		{"limit+1", "00100000 00", 0, ErrLength}, // 0xfffff + 1
		{"max int under a huge limit", "7fffffff 00", math.MaxInt32, ErrShort},
		{"longer than input", "00000002 00", 0, ErrShort},
		{"custom limit", "00000003 616263", 2, ErrLength},
		{"truncated length", "0000", 0, ErrShort},
		{"no length", "", 0, ErrShort},
	}
	for _, tc := range tests {
		for _, r := range readers {
			t.Run(tc.name+"/"+r.name, func(t *testing.T) {
				d := NewDecoder(unhex(t, tc.in))
				if tc.max != 0 {
					d.MaxBuffer = tc.max
				}
				r.read(d)
				if !errors.Is(d.Err(), tc.wantErr) {
					t.Fatalf("err = %v, want %v", d.Err(), tc.wantErr)
				}
			})
		}
	}

	// Exactly at the limit is fine.
	e := NewEncoder(nil)
	e.Buffer(make([]byte, 10))
	d := NewDecoder(e.Bytes())
	d.MaxBuffer = 10
	if b := d.Buffer(); len(b) != 10 || d.Err() != nil {
		t.Errorf("buffer at the limit: len %d err %v", len(b), d.Err())
	}
	// A count larger than the remaining bytes can hold is refused even below
	// the limit (each ustring needs at least 4 bytes).
	d = NewDecoder(unhex(t, "00000002 00000000 000000"))
	if v := d.Strings(); !errors.Is(d.Err(), ErrShort) {
		t.Errorf("Strings with count 2 and 7 bytes: %q, err %v", v, d.Err())
	}
}

// TestHostileLengthsDoNotAllocate checks that a huge length on a tiny input is
// refused before anything proportional to it is allocated.
func TestHostileLengthsDoNotAllocate(t *testing.T) {
	inputs := map[string][]byte{
		"7fffffff": {0x7f, 0xff, 0xff, 0xff, 1, 2, 3},
		"000fffff": {0x00, 0x0f, 0xff, 0xff, 1, 2, 3},
		"fffffffe": {0xff, 0xff, 0xff, 0xfe, 1},
		"80000000": {0x80, 0, 0, 0},
	}
	readers := map[string]func(d *Decoder){
		"Buffer":  func(d *Decoder) { d.Buffer() },
		"String":  func(d *Decoder) { _ = d.String() },
		"Strings": func(d *Decoder) { d.Strings() },
		"Count":   func(d *Decoder) { d.Count(12) },
	}
	for iname, in := range inputs {
		for rname, read := range readers {
			// With a limit above the length the check against the remaining
			// bytes must reject it: zero allocations.
			d := &Decoder{}
			allocs := testing.AllocsPerRun(100, func() {
				d.Reset(in)
				d.MaxBuffer = math.MaxInt32
				read(d)
			})
			if d.Err() == nil {
				t.Errorf("%s/%s: no error", iname, rname)
			}
			if allocs != 0 && in[0] != 0xff && in[0] != 0x80 {
				t.Errorf("%s/%s with huge limit: %v allocs per run, want 0", iname, rname, allocs)
			}

			// With the default limit the error may allocate its message, but
			// nothing proportional to the claimed length.
			var before, after runtime.MemStats
			const runs = 200
			runtime.ReadMemStats(&before)
			for range runs {
				read(NewDecoder(in))
			}
			runtime.ReadMemStats(&after)
			if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 512 {
				t.Errorf("%s/%s: %d bytes allocated per decode, want a small constant", iname, rname, per)
			}
		}
	}
}

func TestStickyErrors(t *testing.T) {
	// A truncated long, then reads that would succeed on their own.
	in := unhex(t, "00000001 00000005 61")
	d := NewDecoder(in)
	if v := d.Int(); v != 1 {
		t.Fatalf("first Int = %d", v)
	}
	off := d.Offset()
	if v := d.Long(); v != 0 || !errors.Is(d.Err(), ErrShort) {
		t.Fatalf("truncated Long = %d, err %v", v, d.Err())
	}
	first := d.Err()
	if d.Offset() != off {
		t.Errorf("failed read consumed bytes: offset %d -> %d", off, d.Offset())
	}
	// Every later read returns the zero value and keeps the first error.
	if d.Int() != 0 || d.Long() != 0 || d.Bool() || d.Buffer() != nil || d.BufferNoCopy() != nil ||
		d.String() != "" || d.Count(1) != 0 {
		t.Error("read after error returned a non-zero value")
	}
	if s, null := d.NullableString(); s != "" || null {
		t.Errorf("NullableString after error: %q %v", s, null)
	}
	if v := d.Strings(); len(v) != 0 {
		t.Errorf("Strings after error: %q", v)
	}
	d.Fail(errors.New("later"))
	if d.Err() != first {
		t.Errorf("error changed from %v to %v", first, d.Err())
	}
	if d.Offset() != off || d.Remaining() != len(in)-off {
		t.Errorf("offset moved after the error: %d", d.Offset())
	}

	// Fail sets the error on a clean decoder and stops further reads.
	d = NewDecoder(unhex(t, "00000001"))
	boom := errors.New("boom")
	d.Fail(boom)
	if d.Int() != 0 || d.Err() != boom {
		t.Errorf("after Fail: err %v", d.Err())
	}

	// Reset clears the error and rewinds; a zero MaxBuffer becomes the default.
	var z Decoder
	z.Reset(unhex(t, "00000007"))
	if z.MaxBuffer != DefaultMaxBuffer {
		t.Errorf("MaxBuffer after Reset = %d", z.MaxBuffer)
	}
	d.Reset(unhex(t, "00000007"))
	if v := d.Int(); v != 7 || d.Err() != nil {
		t.Errorf("after Reset: %d %v", v, d.Err())
	}
	// A length error is sticky too, and reported as ErrLength.
	d = NewDecoder(unhex(t, "fffffffe 00000001"))
	d.Buffer()
	d.Int()
	if !errors.Is(d.Err(), ErrLength) {
		t.Errorf("err = %v, want ErrLength", d.Err())
	}
}

func TestDecoderRest(t *testing.T) {
	d := NewDecoder(unhex(t, "00000001 0203"))
	d.Int()
	if got := d.Rest(); !bytes.Equal(got, []byte{2, 3}) {
		t.Errorf("Rest = %x", got)
	}
	if d.Remaining() != 2 {
		t.Errorf("Rest consumed bytes")
	}
}

func TestEncoderReuse(t *testing.T) {
	buf := make([]byte, 0, 64)
	e := NewEncoder(buf)
	e.Long(1)
	e.Reset()
	if e.Len() != 0 {
		t.Fatalf("Len after Reset = %d", e.Len())
	}
	e.Int(2)
	if &e.Bytes()[0] != &buf[:1][0] {
		t.Error("Reset did not keep the storage")
	}
	e.SetBytes([]byte{0xaa})
	e.Bool(true)
	if !bytes.Equal(e.Bytes(), []byte{0xaa, 1}) {
		t.Errorf("SetBytes then Bool: %x", e.Bytes())
	}
	// Appending to a preallocated encoder does not allocate.
	e = NewEncoder(make([]byte, 0, 256))
	allocs := testing.AllocsPerRun(100, func() {
		e.Reset()
		e.Int(1)
		e.Long(2)
		e.Bool(true)
		e.Buffer([]byte("data"))
		e.String("/path")
		e.Strings([]string{"a", "b"})
	})
	if allocs != 0 {
		t.Errorf("encoding into a preallocated buffer: %v allocs", allocs)
	}
}

// decodeProgram reads data as the primitive sequence prog describes (one
// primitive per byte of prog, cycling), for at most maxSteps reads, and
// checks the decoder's invariants.
func decodeProgram(t *testing.T, data, prog []byte, maxSteps int) {
	d := NewDecoder(data)
	if len(data) > 0 && data[0]&1 == 1 {
		d.MaxBuffer = int(data[0]) // sometimes use a tiny limit
	}
	if len(prog) == 0 {
		prog = []byte{0}
	}
	var firstErr error
	enc := NewEncoder(make([]byte, 0, 64))
	for step := 0; step < maxSteps; step++ {
		before := d.Offset()
		op := prog[step%len(prog)] % 9
		enc.Reset()
		reencoded := enc
		switch op {
		case 0:
			reencoded.Int(d.Int())
		case 1:
			reencoded.Long(d.Long())
		case 2:
			v := d.Bool()
			if d.Err() == nil && v != (data[before] != 0) {
				t.Fatalf("Bool at %d = %v for byte %#x", before, v, data[before])
			}
			reencoded = nil
		case 3:
			reencoded.Buffer(d.Buffer())
		case 4:
			reencoded.Buffer(d.BufferNoCopy())
		case 5:
			s, null := d.NullableString()
			if null {
				reencoded.Int(-1)
			} else {
				reencoded.String(s)
			}
		case 6:
			reencoded.String(d.String())
			if d.Err() == nil && bytes.Equal(data[before:before+4], []byte{0xff, 0xff, 0xff, 0xff}) {
				reencoded = nil // null reads as ""
			}
		case 7:
			v := d.Strings()
			if d.Err() == nil && v != nil && len(v) > (len(data)-before)/4 {
				t.Fatalf("Strings returned %d elements from %d bytes", len(v), len(data)-before)
			}
			if v == nil {
				reencoded.Int(-1)
			} else {
				// A null element reads as "" and re-encodes as length 0:
				// same size, different bytes.
				reencoded.Strings(v)
				if d.Err() == nil && reencoded.Len() != d.Offset()-before {
					t.Fatalf("Strings consumed %d bytes, re-encodes to %d", d.Offset()-before, reencoded.Len())
				}
				reencoded = nil
			}
		case 8:
			n := d.Count(1 + int(prog[0]%12))
			if d.Err() == nil && n > d.Remaining() {
				t.Fatalf("Count %d exceeds remaining %d", n, d.Remaining())
			}
			reencoded = nil
		}
		if d.Offset() < before || d.Offset() > len(data) || d.Remaining() != len(data)-d.Offset() {
			t.Fatalf("offset %d -> %d of %d", before, d.Offset(), len(data))
		}
		if err := d.Err(); err != nil {
			if firstErr != nil && err != firstErr {
				t.Fatalf("error changed: %v -> %v", firstErr, err)
			}
			if firstErr != nil && d.Offset() != before {
				t.Fatalf("read after the error consumed %d bytes", d.Offset()-before)
			}
			if !errors.Is(err, ErrShort) && !errors.Is(err, ErrLength) {
				t.Fatalf("unexpected error %v", err)
			}
			if firstErr != nil {
				return // the error stuck through one more read
			}
			firstErr = err
			continue
		}
		// A successful read re-encodes to exactly the bytes it consumed.
		if reencoded != nil && !bytes.Equal(reencoded.Bytes(), data[before:d.Offset()]) {
			t.Fatalf("op %d at %d: consumed %x, re-encoded %x", op, before, data[before:d.Offset()], reencoded.Bytes())
		}
	}
}

func FuzzDecoder(f *testing.F) {
	// The first byte of the input is the program length n; the next n bytes
	// are the program of the mixed sequence; the rest is decoded.
	seed := func(prog []byte, data string) []byte {
		return append(append([]byte{byte(len(prog))}, prog...), unhex(f, data)...)
	}
	f.Add([]byte{})
	f.Add(seed([]byte{3}, "ffffffff 00000000 00000003 616263"))
	f.Add(seed([]byte{3, 5, 7}, "7fffffff 00"))
	f.Add(seed([]byte{7}, "fffffffe 00"))
	f.Add(seed([]byte{7}, "00000002 00000001 61 00000000"))
	f.Add(seed([]byte{7}, "00000001 ffffffff"))
	f.Add(seed([]byte{0, 0}, "fffffffe 0000000b"))
	f.Add(seed([]byte{0, 1, 0, 1, 3, 2},
		"00000000 0000000000000000 00007530 0000000000000000 00000010 00000000000000000000000000000000 00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var prog, data []byte
		if len(in) > 0 {
			n := min(int(in[0]), len(in)-1)
			prog, data = in[1:1+n], in[1+n:]
		}
		// Each primitive alone, repeated over the whole input...
		for op := byte(0); op < 9; op++ {
			decodeProgram(t, data, []byte{op}, 16)
		}
		// ...and the mixed sequence the fuzzer chose, to the end of the input.
		decodeProgram(t, data, prog, len(data)+2)
	})
}
