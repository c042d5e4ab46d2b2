// Package compat holds Warren's differential compatibility suite: the same raw-socket request
// sequences are sent to a real Apache ZooKeeper 3.8.0 (internal/testutil/zkoracle) and to an
// in-process Warren (internal/testutil/warrentest), and the replies, notifications and
// connection closes are compared field by field after normalising what legitimately differs
// between two runs (zxid values, times, session ids, passwords, child order).
//
// Where Warren deliberately implements ZooKeeper 3.9 behaviour that 3.8.0 lacks, the test file
// known_test.go lists the difference once (knownDifferences) together with the exact expectation
// applied to each server. Every other difference fails the suite.
//
// Layout: rawzk/ is the raw protocol client; harness_test.go drives both servers in lock step
// (every step is followed by a ping on every open connection, so the notifications a step caused
// are collected deterministically) and normalises and renders the outcomes; scen_*_test.go hold
// the scenarios; random_test.go the seeded random sequences.
//
// Flags: -compat.seqs (number of random sequences), -compat.seed (base seed; sequence i uses
// seed+i) and -compat.trace (log every step of every scenario with both servers' answers).
package compat
