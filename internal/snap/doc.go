// Package snap stores snapshots of Warren's state machine as files.
//
// A snapshot file is named snap-<index>-<term>.snap (16 lowercase hex digits
// each: the raft index and term of the last entry it includes) and holds:
//
//	8 bytes   magic "WRNSNAP1"
//	8 bytes   index, 8 bytes term (big-endian)
//	...       the body, written by the state machine (fsm.Snapshot.WriteTo)
//	4 bytes   magic "WEND"
//	4 bytes   CRC-32C (Castagnoli) of every byte before it
//
// Writing is streamed (never one buffer for the whole tree) to a
// ".tmp" file that is fsynced, renamed into place, and followed by an fsync
// of the directory, so a snapshot file either exists whole or not at all.
// While it is written, the disk write of every 8 MiB is started as soon as
// they are written, and the 8 MiB before them are waited for
// (sync_file_range on Linux): the final fsync then has little to write, and
// the write-ahead log's fdatasyncs on the same disk do not queue behind a
// snapshot's hundreds of megabytes of dirty pages.
// Loading streams too and checks the checksum at the end; a snapshot that
// fails any check is skipped with a log line and the next older one is tried.
package snap
