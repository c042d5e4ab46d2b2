// Package jute implements the primitives of ZooKeeper's binary record
// encoding ("jute"), as spoken on the client port and stored in Warren's log.
//
// Format (all integers big-endian two's complement, no tags, no padding):
//
//	int      4 bytes
//	long     8 bytes
//	boolean  1 byte: 0x00 false, anything else true (writers emit 0x01)
//	buffer   int length, then the bytes; length -1 is null (distinct from empty)
//	ustring  int length of the UTF-8 bytes, then the bytes; -1 is null
//	vector   int element count, then the elements; -1 is null
//
// Records are the concatenation of their fields in declaration order.
//
// Invariants:
//   - A Decoder never panics on any input. The first failure is sticky: every
//     later read returns a zero value and Err reports the first error.
//   - Every length read from the wire is checked against the bytes actually
//     remaining and against the Decoder's MaxBuffer before anything is
//     allocated, so a hostile length cannot make the reader allocate.
//   - An Encoder appends to one growing slice; encoding a record does not
//     allocate per field.
package jute
