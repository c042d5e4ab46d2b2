// Package wal is Warren's write-ahead log: the durable copy of the raft log
// (entries and HardState) in a directory of preallocated segment files.
//
// # Files
//
// Segments are named wal-<seq>-<firstIndex>.wal (both 16 lowercase hex
// digits): seq counts segments from 1, firstIndex is the raft index of the
// first entry that may be written to it.
//
// # Preallocation
//
// A segment is preallocated to Options.SegmentSize bytes (zoo.cfg
// preAllocSize) so that appends do not change the file size, and it is
// filled with written zeros ahead of the write offset, 256 KiB at a time
// (each fill ends on a 256 KiB boundary of the file; never past the segment
// size, never below the write offset). Preallocated space that was never
// written is "unwritten" to file systems such as ext4 and XFS: the first
// write into it changes the file's extent map, a metadata change the next
// fdatasync must commit to the file system's journal. Appends into blocks
// already written need no metadata, so one fdatasync in every 256 KiB of log
// pays for the conversion and the others only write data (measured on ext4:
// an append and fdatasync 190-210 µs into fallocated space, 125-135 µs into
// written zeros, and about 40% less CPU).
//
// # Records
//
// A segment is a sequence of records, each starting at an 8-byte-aligned
// offset:
//
//	offset 0  uint32 big-endian  CRC-32C (Castagnoli) of bytes 4 .. 9+len
//	offset 4  uint32 big-endian  len: payload length
//	offset 8  uint8              type
//	offset 9  len bytes          payload
//	          zero padding to the next multiple of 8
//
// The checksum covers the length, so a torn or zeroed length cannot pass for
// a record. Types and payloads:
//
//	1 segment header  magic "WRNWAL02", uint64 seq, uint64 firstIndex
//	2 entry           a raftpb.Entry in protobuf encoding
//	3 hard state      a raftpb.HardState in protobuf encoding
//	4 commit          uint64 batch number (strictly increasing across the log)
//	5 snapshot        uint64 index, uint64 term: a snapshot at that index is durable
//	6 segment end     uint64 seq: nothing follows in this segment
//
// A segment's header is followed, in the same write, by the state the log
// carries into it when there is any: the newest HardState and the newest
// snapshot mark, closed by a commit record (one batch). Every segment thus
// holds the log's state as of its creation, so recovery need not read the
// segments before it. (Segments of format "WRNWAL01", written before this
// rule, carry nothing: recovery reads every segment when it meets one
// where it would start.)
//
// A batch is the records written by one Save, closed by a commit record, and
// made durable by one fdatasync (group commit: every client write that
// arrived while the previous fsync ran shares the next one). Records after
// the last commit record of the log belong to a batch that never completed
// and are ignored.
//
// # Recovery
//
// Open reads the segments in order. With Options.SkipThrough (the index of
// the snapshot the caller loaded) it starts at the newest segment S such that
// every segment before S matters only for entries at or below that index,
// and S is a "WRNWAL02" segment (if S is the newest segment, its first batch
// must also be complete: a crash while cutting it can leave the header
// without the carried state, and then S is the segment before it, which was
// complete before the newest was cut); the segments before S are neither
// read nor checked. (A segment is cut with the index of the first entry of the batch
// that opens it, so the entries of segment i that survive lie below the
// firstIndex of segment i+1: any at or above it were overwritten by that
// batch.) Entries at or below SkipThrough are checked but not decoded (their
// index is read from the protobuf bytes) and not returned. A batch never
// spans segments.
//
// The first record of a segment must be its header; every segment but the
// last must end with a segment-end record.
// A last segment with neither a valid header nor a valid commit record was
// created at a crash before its header was durable (all zeros, or a torn
// header): it holds nothing and is removed.
// In the last segment, reading stops at the first position holding no valid
// record (zero bytes, a checksum mismatch, a length that overruns the file).
// If a valid commit record appears anywhere after that position, committed
// data was damaged: Open refuses with an error naming the file and offset.
// Otherwise the damage is a torn tail from a crash during an unfinished
// batch: it is cut off (the file is truncated there and preallocated again,
// so no stale bytes survive) with a log line. A damaged record in an earlier
// segment is always refused.
//
// Entries are replayed with raft's overwrite rule: an entry at index i
// replaces any entry at i or later.
//
// # Errors
//
// A failed write, fdatasync or preallocation leaves the log in an unknown
// state; the WAL reports it and accepts no more writes. The server treats it
// as fatal and exits (it never retries an fsync).
package wal
