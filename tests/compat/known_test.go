package compat

import (
	"sync"
	"testing"
)

// knownDiff is a place where Warren implements ZooKeeper 3.9 behaviour and the 3.8.0 oracle
// answers differently (zk-protocol.md §25). The suite never skips these: each one has an
// explicit expectation for each server, applied where the difference shows.
type knownDiff struct {
	ID string
	// ZooKeeper380 is what the oracle must do, Warren39 what Warren must do.
	ZooKeeper380, Warren39 string
	// Rationale says why Warren follows 3.9 (with the upstream change).
	Rationale string
	// Where names the code that applies the expectation.
	Where string
}

// knownDifferences is the complete list. Any other difference between the servers fails.
//
// Not listed because the oracle does not differ: ACL filtering of watch events (CVE-2024-23944,
// upstream in 3.8.4/3.9.2). Debian's 3.8.0-11+deb12u2 backports that fix (ZOOKEEPER-4799:
// NIOServerCnxn.process checks READ against the node's ACL, the parent's for
// NodeChildrenChanged), so both servers must filter alike; the watches/acl-* scenarios compare it.
var knownDifferences = []knownDiff{
	{
		ID:           "notification-zxid",
		ZooKeeper380: "every notification's ReplyHeader.zxid is -1",
		Warren39:     "the zxid of the transaction that fired the watch; -1 only for setWatches catch-up events",
		Rationale: "ZOOKEEPER-4655 (3.9.0) stamps notifications with the zxid of the triggering transaction, so an " +
			"event can be ordered against replies; clients only record zxids from replies, so both forms work (§5, §15.3)",
		Where: "side.event: the zookeeper side must show -1, the warren side the step's reply zxid",
	},
	{
		ID: "multi-create-ops",
		ZooKeeper380: "inside multi the op kind comes from the flags (MultiOperationRecord → Op.create): create2 runs as " +
			"create and is answered type 1 (path only); createContainer without the container flag makes a plain node " +
			"(type 1)",
		Warren39: "the op kind is the header's unless the flags say container: create2 is answered type 15 with the new " +
			"node's stat, createContainer always makes a container (type 15). (Unknown flags fail that op alone with " +
			"BadArguments as on 3.8.0, not the whole multi as on 3.9: no difference, compared directly.)",
		Rationale: "ZOOKEEPER-4026 (3.8.2, 3.9.0) made create2 work inside multi and decodes the op kind from the " +
			"multi header with CreateMode.fromFlag(flags, null) (§9.1, §9.2, §25)",
		Where: "side.multiCreate2 for create2 results (zookeeper {1, path}; warren {15, path, stat} with " +
			"czxid=mzxid=pzxid=the multi's zxid, versions 0, dataLength and owner from the request); scenario " +
			"multi/create-op-kinds for the rest",
	},
	{
		ID:           "top-level-check",
		ZooKeeper380: "opcode 13 outside multi is processed as a write: consumes a zxid, answers OK/NoNode/BadVersion…, keeps the connection",
		Warren39:     "{xid, -1, Unimplemented} and the connection is closed",
		Rationale:    "ZOOKEEPER-2623 (3.8.5, 3.9.3) forbids check outside multi: Request.isValid rejects opcode 13 (§12.5, §25)",
		Where:        "scenario opcodes/top-level-check",
	},
	{
		ID: "watcher-types",
		ZooKeeper380: "checkWatches/removeWatches with WatcherType 4 (Persistent) or 5 (PersistentRecursive) → " +
			"MarshallingError; Children/Data/Any match a watch of any mode in that table (removeWatches Children " +
			"drops a persistent watch's child half)",
		Warren39: "types 4 and 5 check/remove persistent and persistent-recursive watches; Children and Data match " +
			"standard watches only, Any everything (OK or NoWatcher)",
		Rationale: "ZOOKEEPER-4471 (3.9.0) matched WatcherType to watch modes and added Persistent and " +
			"PersistentRecursive (§8.3, §15.6, §25)",
		Where: "scenarios watches/remove-persistent-types and watches/check-remove-with-persistent",
	},
	{
		ID: "watch-modes",
		ZooKeeper380: "one watch mode per (path, connection): the last of exists/getData/getChildren(watch) and " +
			"addWatch wins; checkWatches reports a watch when any connection watches the path",
		Warren39: "standard, persistent and recursive watches on one path coexist (standard fires once, the others " +
			"stay); checkWatches looks at the caller's own watches",
		Rationale: "ZOOKEEPER-4466 (3.9.0) keeps a set of modes per (path, watcher) (§15.1, §25)",
		Where:     "scenarios watches/standard-and-persistent-same-path and watches/check-and-remove",
	},
	{
		ID:           "exists-acl-check",
		ZooKeeper380: "exists returns the Stat of a node the caller cannot READ (and sets the watch)",
		Warren39:     "exists of an existing node without READ → NoAuth, no watch set",
		Rationale: "ZOOKEEPER-2590 (3.8.4, 3.9.2) made exists() check READ; the Debian 3.8.0 build did not take it " +
			"(it took only the event filtering of CVE-2024-23944), and reverting it would reopen the leak (§12.6)",
		Where: "scenario read/exists",
	},
}

var (
	kdMu     sync.Mutex
	kdCounts = map[string]int{}
)

func knownDifference(id string) knownDiff {
	for _, kd := range knownDifferences {
		if kd.ID == id {
			return kd
		}
	}
	panic("no known difference " + id)
}

// kdUsed records that the expectation of a known difference was applied.
func kdUsed(id string) {
	knownDifference(id)
	kdMu.Lock()
	kdCounts[id]++
	kdMu.Unlock()
}

// checkKnownDifferencesExercised fails t unless every known difference's expectation was applied.
func checkKnownDifferencesExercised(t *testing.T) {
	kdMu.Lock()
	defer kdMu.Unlock()
	for _, kd := range knownDifferences {
		if kdCounts[kd.ID] == 0 {
			t.Errorf("known difference %q was never exercised: its expectation was not checked", kd.ID)
		} else {
			t.Logf("known difference %q exercised %d times", kd.ID, kdCounts[kd.ID])
		}
	}
}
