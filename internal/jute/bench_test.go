package jute_test

import (
	"bytes"
	"testing"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

var benchStat = proto.Stat{
	Czxid: 0x100000001, Mzxid: 0x100000abc, Ctime: 1700000000000, Mtime: 1700000001234,
	Version: 7, Cversion: 3, Aversion: 1, EphemeralOwner: 0x0100abcdef000001,
	DataLength: 128, NumChildren: 2, Pzxid: 0x100000abd,
}

var benchGetData = proto.GetDataResponse{Data: bytes.Repeat([]byte("x"), 128), Stat: benchStat}

func TestStatIs68Bytes(t *testing.T) {
	e := jute.NewEncoder(nil)
	benchStat.Encode(e)
	if e.Len() != 68 {
		t.Fatalf("Stat encodes to %d bytes, want 68", e.Len())
	}
	var got proto.Stat
	d := jute.NewDecoder(e.Bytes())
	got.Decode(d)
	if d.Err() != nil || got != benchStat {
		t.Fatalf("round trip: %+v, %v", got, d.Err())
	}
	e.Reset()
	benchGetData.Encode(e)
	if e.Len() != 4+128+68 {
		t.Fatalf("GetDataResponse encodes to %d bytes", e.Len())
	}
}

func BenchmarkEncodeStat(b *testing.B) {
	b.ReportAllocs()
	e := jute.NewEncoder(make([]byte, 0, 128))
	for b.Loop() {
		e.Reset()
		benchStat.Encode(e)
	}
	b.SetBytes(int64(e.Len()))
}

func BenchmarkDecodeStat(b *testing.B) {
	b.ReportAllocs()
	e := jute.NewEncoder(nil)
	benchStat.Encode(e)
	in := e.Bytes()
	b.SetBytes(int64(len(in)))
	var d jute.Decoder
	var s proto.Stat
	for b.Loop() {
		d.Reset(in)
		s.Decode(&d)
	}
	if d.Err() != nil || s != benchStat {
		b.Fatal("bad decode")
	}
}

func BenchmarkEncodeGetDataResponse(b *testing.B) {
	b.ReportAllocs()
	e := jute.NewEncoder(make([]byte, 0, 512))
	for b.Loop() {
		e.Reset()
		benchGetData.Encode(e)
	}
	b.SetBytes(int64(e.Len()))
}

func BenchmarkDecodeGetDataResponse(b *testing.B) {
	b.ReportAllocs()
	e := jute.NewEncoder(nil)
	benchGetData.Encode(e)
	in := e.Bytes()
	b.SetBytes(int64(len(in)))
	var d jute.Decoder
	var r proto.GetDataResponse
	for b.Loop() {
		d.Reset(in)
		r.Decode(&d)
	}
	if d.Err() != nil || !bytes.Equal(r.Data, benchGetData.Data) {
		b.Fatal("bad decode")
	}
}
