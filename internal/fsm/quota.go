package fsm

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/warren-zk/warren/internal/proto"
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
// rebuild after a snapshot. With Options.EnforceQuota (zookeeper.enforceQuota) a create or
// setData that would take the usage past a hard limit fails with QuotaExceeded; soft limits
// are only reported (checkQuota).

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
			bytes += int64(n.DataLen())
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
	st := parseStatsTrack(n.Data())
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

// checkQuota is ZooKeeperServer.checkQuota for a create (countDiff 1, oldLen 0) or a setData
// (countDiff 0) of path: the longest quota prefix's limits and usage decide, a hard limit
// (countHardLimit, byteHardLimit) that would be exceeded fails the op with QuotaExceeded, a
// soft one (count, bytes; used when no hard limit is set) is only reported. ZooKeeper checks
// in its PrepRequestProcessor against the committed tree, so inside a multi the limits and
// usage are read as they were before the multi (u records what the multi has changed so far).
func (f *FSM) checkQuota(path string, oldLen, newLen int, countDiff int64, u *undoLog) proto.Err {
	if !f.opts.EnforceQuota {
		return proto.ErrOK
	}
	root := f.committedQuotaRoot(path, u)
	if root == "" {
		return proto.ErrOK
	}
	limitData, ok := f.committedData(znode.QuotaPath+root+"/"+quotaLimitNode, u)
	if !ok {
		return proto.ErrOK
	}
	limits := parseStatsTrack(limitData)
	bytesDiff := int64(newLen - oldLen)
	checkCount := countDiff != 0 && (limits.get("count") > -1 || limits.get("countHardLimit") > -1)
	checkBytes := bytesDiff != 0 && (limits.get("bytes") > -1 || limits.get("byteHardLimit") > -1)
	if !checkCount && !checkBytes {
		return proto.ErrOK
	}
	statData, ok := f.committedData(znode.QuotaPath+root+"/"+quotaStatNode, u)
	if !ok {
		return proto.ErrOK
	}
	cur := parseStatsTrack(statData)
	check := func(name, what string, usage, soft, hard int64) bool {
		isHard := hard > -1
		limit := soft
		if isHard {
			limit = hard
		}
		if usage <= limit {
			return true
		}
		if f.opts.QuotaLog != nil {
			kind := "soft"
			if isHard {
				kind = "hard"
			}
			f.opts.QuotaLog(fmt.Sprintf("Quota exceeded: %s [current %s=%d, %s%sLimit=%d]", root, name, usage, kind, what, limit))
		}
		return !isHard
	}
	if checkCount && !check("count", "Count", cur.get("count")+countDiff, limits.get("count"), limits.get("countHardLimit")) {
		return proto.ErrQuotaExceeded
	}
	if checkBytes && !check("bytes", "Byte", cur.get("bytes")+bytesDiff, limits.get("bytes"), limits.get("byteHardLimit")) {
		return proto.ErrQuotaExceeded
	}
	return proto.ErrOK
}

// committedQuotaRoot is quotaRoot on the tree as it was before the current multi.
func (f *FSM) committedQuotaRoot(path string, u *undoLog) string {
	touched := false
	if u != nil {
		for _, st := range u.steps {
			if strings.HasPrefix(st.path, znode.QuotaPath+"/") {
				touched = true
				break
			}
		}
	}
	if !touched {
		return f.quotaRoot(path)
	}
	for p := path; p != "/" && p != ""; p, _ = znode.Split(p) {
		if _, ok := f.committedData(znode.QuotaPath+p+"/"+quotaLimitNode, u); ok {
			return p
		}
	}
	return ""
}

// committedData returns the data of path as it was before the steps recorded in u.
func (f *FSM) committedData(path string, u *undoLog) ([]byte, bool) {
	if u != nil {
		for _, st := range u.steps {
			if st.path != path {
				continue
			}
			switch st.kind {
			case undoCreate:
				return nil, false
			case undoDelete:
				return st.node.Data(), true
			case undoSetData:
				return st.data, true
			}
		}
	}
	n := f.tree.Get(path)
	if n == nil {
		return nil, false
	}
	return n.Data(), true
}
