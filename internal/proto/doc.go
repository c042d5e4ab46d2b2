// Package proto defines the records, opcodes and codes of ZooKeeper's client
// protocol (3.8/3.9 compatible).
//
// records_gen.go is generated from records.jute by jutegen (`go generate`);
// irregular.go holds the records whose layout is not a fixed field list:
// ConnectRequest/ConnectResponse (optional trailing readOnly byte) and the
// multi/multiRead encodings. Every decoder reports malformed input through the
// jute.Decoder's sticky error and never panics.
//
// Framing: every message is a 4-byte big-endian length N followed by N bytes.
// The first client frame is a ConnectRequest, later ones RequestHeader+body;
// the first server frame is a ConnectResponse, later ones ReplyHeader+body.
package proto
