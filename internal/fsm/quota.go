package fsm

import (
	"sort"
	"strconv"
	"strings"

	"github.com/warren-zk/warren/internal/znode"
)

// Quotas, as ZooKeeper's DataTree keeps them (reference/zk-protocol.md §18). A quota on path P
// is the node /zookeeper/quota + P + /zookeeper_limits; the server keeps the data of its sibling
// /zookeeper/quota + P + /zookeeper_stats equal to the usage of P's subtree (P included),
// "count=<nodes>,bytes=<data bytes>", without changing that node's stat. Creating the stats node
// makes the server count the subtree; afterwards every create, delete (also of ephemerals and by
// the reaper) and setData below P adjusts it. The longest quota prefix of a path applies; the
// root never has one. ZooKeeper keeps the quota roots in a trie fed by limits-node creations and
// deletions; here they are read from the tree itself, which is equivalent and leaves nothing to
// rebuild after a snapshot. Quotas are counted, never enforced (enforceQuota is off by default).

const (
	quotaLimitNode = "zookeeper_limits"
	quotaStatNode  = "zookeeper_stats"
)

// quotaRoot returns the longest path that is path or one of its ancestors (whole components)
// and has a quota, or "" if none does.
func (f *FSM) quotaRoot(path string) string {
	if q := f.tree.Get(znode.QuotaPath); q == nil || q.NumChildren() == 0 {
		return ""
	}
	for p := path; p != "/" && p != ""; p, _ = znode.Split(p) {
		if f.tree.Get(znode.QuotaPath+p+"/"+quotaLimitNode) != nil {
			return p
		}
	}
	return ""
}

// quotaCreated accounts for the creation of path with dataLen bytes of data.
func (f *FSM) quotaCreated(path string, dataLen int, u *undoLog) {
	if parent, name := znode.Split(path); name == quotaStatNode &&
		(parent == znode.QuotaPath || strings.HasPrefix(parent, znode.QuotaPath+"/")) {
		// A new stats node: count the quota root's subtree ("" is ZooKeeper's name for "/").
		root := strings.TrimPrefix(parent, znode.QuotaPath)
		if root == "" {
			root = "/"
		}
		var count, bytes int64
		f.tree.Walk(root, func(_ string, n *znode.Node) bool {
			count++
			bytes += int64(len(n.Data))
			return true
		})
		st := statsTrack{}
		st.set("count", count)
		st.set("bytes", bytes)
		f.setQuotaStats(path, st, u)
	}
	f.quotaAdd(path, int64(dataLen), 1, u)
}

// quotaAdd adds to the usage recorded for the quota that covers path, if any.
func (f *FSM) quotaAdd(path string, bytesDiff, countDiff int64, u *undoLog) {
	root := f.quotaRoot(path)
	if root == "" {
		return
	}
	statPath := znode.QuotaPath + root + "/" + quotaStatNode
	n := f.tree.Get(statPath)
	if n == nil {
		return // ZooKeeper logs "Missing count node for stat" and goes on
	}
	st := parseStatsTrack(n.Data)
	st.set("count", st.get("count")+countDiff)
	st.set("bytes", st.get("bytes")+bytesDiff)
	f.setQuotaStats(statPath, st, u)
}

// setQuotaStats replaces a stats node's data, leaving its stat alone. u, when not nil, records
// the old data for a multi's rollback.
func (f *FSM) setQuotaStats(path string, st statsTrack, u *undoLog) {
	n := f.tree.Get(path)
	if n == nil {
		return
	}
	if u != nil {
		u.dataSet(path, n)
	}
	f.tree.ReplaceData(path, []byte(st.String()))
}

// statsTrack is ZooKeeper's StatsTrack: key=value pairs (count, bytes, countHardLimit,
// byteHardLimit, …). A missing key reads as -1.
type statsTrack map[string]int64

// parseStatsTrack reads "k=v" pairs separated by ',' or ';'. An empty value reads as -1; pairs
// that do not parse are skipped.
func parseStatsTrack(data []byte) statsTrack {
	st := statsTrack{}
	for _, kv := range strings.FieldsFunc(string(data), func(r rune) bool { return r == ',' || r == ';' }) {
		parts := strings.Split(kv, "=")
		if parts[0] == "" {
			continue
		}
		v := int64(-1)
		if len(parts) > 1 && parts[1] != "" {
			n, err := strconv.ParseInt(parts[1], 10, 64)
			if err != nil {
				continue
			}
			v = n
		}
		st[parts[0]] = v
	}
	return st
}

func (st statsTrack) get(k string) int64 {
	if v, ok := st[k]; ok {
		return v
	}
	return -1
}

func (st statsTrack) set(k string, v int64) { st[k] = v }

// String is StatsTrack.toString: count and bytes first, then, if there are other keys, "=" and
// ";key=value" for each in key order (so "count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=-1").
func (st statsTrack) String() string {
	var b strings.Builder
	b.WriteString("count=")
	b.WriteString(strconv.FormatInt(st.get("count"), 10))
	b.WriteString(",bytes=")
	b.WriteString(strconv.FormatInt(st.get("bytes"), 10))
	var keys []string
	for k := range st {
		if k != "count" && k != "bytes" {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		b.WriteByte('=')
		for _, k := range keys {
			b.WriteByte(';')
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(strconv.FormatInt(st[k], 10))
		}
	}
	return b.String()
}
