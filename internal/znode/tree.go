package znode

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unsafe"

	"github.com/warren-zk/warren/internal/proto"
)

// Special EphemeralOwner encodings.
const (
	// ContainerOwner marks a container node.
	ContainerOwner int64 = -0x8000000000000000
	// TTLMask marks a TTL node; the low 40 bits hold the TTL in ms.
	TTLMask int64 = -0x100000000000000 // 0xFF00000000000000
	// MaxTTL is the largest TTL a node may have.
	MaxTTL int64 = 0xFFFFFFFFFF
)

// IsTTLOwner reports whether owner encodes a TTL node.
func IsTTLOwner(owner int64) bool { return owner != ContainerOwner && uint64(owner)>>56 == 0xFF }

// TTLOf returns the TTL encoded in a TTL node's owner field.
func TTLOf(owner int64) int64 { return owner & MaxTTL }

// IsSessionOwner reports whether owner is a real session (an ephemeral node).
func IsSessionOwner(owner int64) bool {
	return owner != 0 && owner != ContainerOwner && !IsTTLOwner(owner)
}

// Node is one znode. It is 96 bytes (TestNodeSize): a million znodes
// are a million of these, so the data and the ACL are held compactly (a
// pointer and a 32-bit length; a pointer to the tree's interned list)
// behind the Data and ACL methods.
type Node struct {
	// data and dlen are the data: nil data is a node created with null
	// data (getData answers length -1), a non-nil data with dlen 0 an
	// empty one. The bytes are never changed once stored.
	data *byte
	// acl is the tree's interned copy of the node's ACL (nil: none).
	acl *[]proto.ACL
	// children maps each child's name to the child (nil until the first
	// child). The tree holds no other index of its nodes: a path is looked
	// up one component at a time from the root.
	children       map[string]*Node
	Czxid, Mzxid   int64
	Ctime, Mtime   int64
	Pzxid          int64
	EphemeralOwner int64
	dlen           uint32
	// gen is the tree generation the node was created or cloned in; a node
	// with gen below the tree's is shared with a snapshot in progress and
	// must be cloned before it is changed. (32 bits: a capture a second
	// would take 136 years to wrap it.)
	gen      uint32
	Version  int32
	Cversion int32 // stored: child creations ever
	Aversion int32
	// nchildren is len(children), kept apart: a node captured by a
	// snapshot shares its children set with the copy that replaces it in
	// the tree (see mutable), so the snapshot reads only this count.
	nchildren int32
}

// Data returns the node's data: nil if it was created with null data. The
// caller must not change the bytes (snapshots and replies share them).
func (n *Node) Data() []byte {
	if n.data == nil {
		return nil
	}
	return unsafe.Slice(n.data, n.dlen)
}

// DataLen returns len(n.Data()).
func (n *Node) DataLen() int { return int(n.dlen) }

// PutData makes b the node's data (for a node not yet in a tree: snapshot
// loading, tests; Tree.SetData changes a node in the tree). The node keeps
// b, which must not be changed afterwards.
func (n *Node) PutData(b []byte) {
	n.data, n.dlen = unsafe.SliceData(b), uint32(len(b))
}

// ACL returns the node's ACL, shared with every node that has the same
// list: the caller must not change it.
func (n *Node) ACL() []proto.ACL {
	if n.acl == nil {
		return nil
	}
	return *n.acl
}

// ACLRef returns the tree's interned list the node points at (nil: no
// ACL). Nodes with equal lists return the same pointer.
func (n *Node) ACLRef() *[]proto.ACL { return n.acl }

// PutACL gives a node not yet in a tree the ACL list acl, which must come
// from the tree's InternACL.
func (n *Node) PutACL(acl *[]proto.ACL) { n.acl = acl }

// NumChildren returns the number of children.
func (n *Node) NumChildren() int { return int(n.nchildren) }

// addChild adds c as the child called name and reports whether the name
// was new (a name already there keeps its node). The map keeps name, so it
// must be a string of its own, not a slice of a longer path.
func (n *Node) addChild(name string, c *Node) bool {
	if n.children == nil {
		n.children = map[string]*Node{}
	} else if _, ok := n.children[name]; ok {
		return false
	}
	n.children[name] = c
	n.nchildren++
	return true
}

// removeChild removes name from the children, if there.
func (n *Node) removeChild(name string) {
	if _, ok := n.children[name]; ok {
		delete(n.children, name)
		n.nchildren--
	}
}

// setChildTable empties the children and sizes the table for size entries.
func (n *Node) setChildTable(size int) {
	n.children, n.nchildren = nil, 0
	if size > 0 {
		n.children = make(map[string]*Node, size)
	}
}

// Stat returns the node's Stat as clients see it.
func (n *Node) Stat() proto.Stat {
	owner := n.EphemeralOwner
	if !IsSessionOwner(owner) {
		owner = 0
	}
	nc := n.nchildren
	return proto.Stat{
		Czxid: n.Czxid, Mzxid: n.Mzxid, Ctime: n.Ctime, Mtime: n.Mtime,
		Version: n.Version, Cversion: 2*n.Cversion - nc, Aversion: n.Aversion,
		EphemeralOwner: owner, DataLength: int32(n.DataLen()), NumChildren: nc,
		Pzxid: n.Pzxid,
	}
}

// ChildNames returns the node's child names, sorted.
func (n *Node) ChildNames() []string {
	out := make([]string, 0, len(n.children))
	for c := range n.children {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Tree is the data tree.
type Tree struct {
	root       *Node
	count      int // nodes, counting the root
	ephemerals map[int64]map[string]struct{}
	containers map[string]struct{}
	ttls       map[string]struct{}
	acls       map[string]*[]proto.ACL
	dataSize   int64 // sum of pathLen(path)+len(data) over nodes
	// lastACL is the list intern returned last (a one-entry cache).
	lastACL *[]proto.ACL
	// gen is bumped when a snapshot captures the tree; cow is true while
	// that snapshot may still read captured nodes.
	gen uint32
	cow bool
}

// Special paths.
const (
	ZooKeeperPath = "/zookeeper"
	QuotaPath     = "/zookeeper/quota"
	ConfigPath    = "/zookeeper/config"
)

// New returns a tree with ZooKeeper's initial nodes.
func New() *Tree {
	t := &Tree{
		ephemerals: map[int64]map[string]struct{}{},
		containers: map[string]struct{}{},
		ttls:       map[string]struct{}{},
		acls:       map[string]*[]proto.ACL{},
	}
	t.root = &Node{data: unsafe.SliceData([]byte{}), acl: t.intern(proto.OpenACLUnsafe)}
	t.count = 1
	t.dataSize = 1
	t.addInitial(ZooKeeperPath, proto.OpenACLUnsafe, 0)
	t.addInitial(QuotaPath, proto.OpenACLUnsafe, 0)
	t.addInitial(ConfigPath, proto.ReadACLUnsafe, -1)
	// The initial nodes are not counted as child creations, so "/" shows
	// cversion -1 and /zookeeper -2, as on a fresh ZooKeeper.
	return t
}

func (t *Tree) addInitial(path string, acl []proto.ACL, aversion int32) {
	n := &Node{data: unsafe.SliceData([]byte{}), acl: t.intern(acl), Aversion: aversion}
	parent, name := Split(path)
	t.Get(parent).addChild(name, n)
	t.count++
	t.dataSize += pathLen(path)
}

// intern returns a shared copy of acl, or nil for an empty list.
func (t *Tree) intern(acl []proto.ACL) *[]proto.ACL {
	if len(acl) == 0 {
		return nil
	}
	// Most creates repeat the previous list (OPEN_ACL_UNSAFE...): compare
	// with it before building a key.
	if t.lastACL != nil && len(*t.lastACL) == len(acl) {
		last := *t.lastACL
		same := true
		for i := range acl {
			if acl[i] != last[i] {
				same = false
				break
			}
		}
		if same {
			return t.lastACL
		}
	}
	s := t.internSlow(acl)
	t.lastACL = s
	return s
}

func (t *Tree) internSlow(acl []proto.ACL) *[]proto.ACL {
	var b strings.Builder
	for _, a := range acl {
		// All four perms bytes and length-prefixed strings: ids may contain
		// NUL and perms are not range-checked, so a separator-based key would
		// let distinct lists collide.
		for _, v := range [3]uint32{uint32(a.Perms), uint32(len(a.Id.Scheme)), uint32(len(a.Id.Id))} {
			b.WriteByte(byte(v >> 24))
			b.WriteByte(byte(v >> 16))
			b.WriteByte(byte(v >> 8))
			b.WriteByte(byte(v))
		}
		b.WriteString(a.Id.Scheme)
		b.WriteString(a.Id.Id)
	}
	k := b.String()
	if s, ok := t.acls[k]; ok {
		return s
	}
	s := append([]proto.ACL(nil), acl...)
	t.acls[k] = &s
	return &s
}

// Split returns the parent path and the last component of a path. The parent
// of "/x" is "/".
func Split(path string) (parent, name string) {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/", path[i+1:]
	}
	return path[:i], path[i+1:]
}

// walk resolves the parent of the node at path, one component at a time
// from the root: it returns the parent (nil if it does not exist, or if
// path is "/", not absolute or has an empty component before its last),
// the parent's own parent and name in it (nil and "" when the parent is the
// root), and the last component. Every lookup and change of the tree finds
// its nodes through it.
func (t *Tree) walk(path string) (grand *Node, pname string, parent *Node, name string) {
	if len(path) < 2 || path[0] != '/' {
		return nil, "", nil, ""
	}
	parent = t.root
	rest := path[1:]
	for {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return grand, pname, parent, rest
		}
		next := parent.children[rest[:i]]
		if next == nil {
			return nil, "", nil, ""
		}
		grand, pname, parent = parent, rest[:i], next
		rest = rest[i+1:]
	}
}

// locate returns the node at path (nil if there is none), its parent (nil
// for the root) and its name in the parent's children.
func (t *Tree) locate(path string) (parent *Node, name string, n *Node) {
	if path == "/" {
		return nil, "", t.root
	}
	_, _, parent, name = t.walk(path)
	if parent == nil {
		return nil, "", nil
	}
	return parent, name, parent.children[name]
}

// mutableParent returns the parent of the node at path ready to be changed
// in place (see own) and the node's name, or a nil parent if there is none.
func (t *Tree) mutableParent(path string) (parent *Node, name string) {
	grand, pname, parent, name := t.walk(path)
	if parent == nil {
		return nil, ""
	}
	return t.own(grand, pname, parent), name
}

// own returns n (the child called name of parent, or the root when parent
// is nil) ready to be changed in place: while a snapshot is being written,
// a node it captured is first replaced by a copy.
func (t *Tree) own(parent *Node, name string, n *Node) *Node {
	if !t.cow || n.gen >= t.gen {
		return n
	}
	c := *n
	c.gen = t.gen
	// The copy shares the captured node's children map (copying it would
	// cost a pass over every child of a large directory at its first change
	// after each capture): the capture recorded the children it needs when
	// it was taken, and reads only the captured node's own count.
	if parent == nil {
		t.root = &c
	} else {
		// A fresh key: assigning to an existing string key stores the
		// given key, and name may be a slice of a longer path.
		parent.children[strings.Clone(name)] = &c
	}
	return &c
}

// mutable returns the node at path ready to be changed in place (see own),
// or nil if there is none.
func (t *Tree) mutable(path string) *Node {
	parent, name, n := t.locate(path)
	if n == nil {
		return nil
	}
	return t.own(parent, name, n)
}

// each calls fn for every node, parents before children.
func (t *Tree) each(fn func(n *Node)) {
	queue := []*Node{t.root}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		fn(n)
		for _, c := range n.children {
			queue = append(queue, c)
		}
	}
}

// Capture is a point-in-time view of the tree for a snapshot: its nodes in
// breadth-first order (every node after its parent, siblings one after
// another), each with its name and its parent's position. Its nodes must
// not be changed; the tree copies a node before changing it while the
// capture is open. A captured node's children map is shared with its copy
// in the tree and keeps changing: read NumChildren, never the names
// (ChildNames) of a captured node.
type Capture struct {
	// Nodes are the captured nodes, Nodes[0] the root.
	Nodes   []*Node
	names   []string
	parents []int32 // index of each node's parent in Nodes (-1 for the root)
	t       *Tree
	gen     uint32
}

// Capture records every node and switches the tree to copy-on-write until
// Release. The caller holds the write lock; the capture may then be read
// without any lock. It is one breadth-first pass over the children maps
// that records pointers and names (no paths): Each builds the paths
// afterwards, outside the lock.
func (t *Tree) Capture() *Capture {
	if t.gen == math.MaxUint32 {
		// Start the generations again rather than wrap: every node becomes
		// older than the new capture, so it is copied before a change.
		t.each(func(n *Node) { n.gen = 0 })
		t.gen = 0
	}
	t.gen++
	t.cow = true
	c := &Capture{
		Nodes: make([]*Node, 1, t.count), names: make([]string, 1, t.count), parents: make([]int32, 1, t.count),
		t: t, gen: t.gen,
	}
	c.Nodes[0], c.parents[0] = t.root, -1
	// (A capture of 2^31 nodes would not fit in memory.)
	for i := 0; i < len(c.Nodes); i++ {
		n := c.Nodes[i]
		if n.nchildren == 0 {
			continue
		}
		for name, ch := range n.children {
			c.Nodes = append(c.Nodes, ch)
			c.names = append(c.names, name)
			c.parents = append(c.parents, int32(i))
		}
	}
	return c
}

// Len returns the number of captured nodes.
func (c *Capture) Len() int { return len(c.Nodes) }

// Each calls fn with every captured node and its path, in the capture's
// order (parents first), and stops at fn's first error. The path is valid
// only during the call. It needs no lock.
func (c *Capture) Each(fn func(path []byte, n *Node) error) error {
	if len(c.Nodes) == 0 {
		return nil
	}
	if err := fn([]byte{'/'}, c.Nodes[0]); err != nil {
		return err
	}
	// The paths of the nodes with children, in capture order: children come
	// in their parents' order, so a parent's path is needed only until its
	// last child is written, and dirs is a queue.
	type dir struct {
		index int32
		path  string
	}
	dirs := []dir{{0, ""}} // the root's children join onto ""
	var buf []byte
	for i := 1; i < len(c.Nodes); i++ {
		pi := c.parents[i]
		for len(dirs) > 0 && dirs[0].index != pi {
			dirs = dirs[1:]
		}
		if len(dirs) == 0 {
			return fmt.Errorf("znode: captured node %q has no parent before it", c.names[i])
		}
		buf = append(append(append(buf[:0], dirs[0].path...), '/'), c.names[i]...)
		n := c.Nodes[i]
		if n.NumChildren() > 0 {
			dirs = append(dirs, dir{int32(i), string(buf)})
		}
		if err := fn(buf, n); err != nil {
			return err
		}
	}
	return nil
}

// Release ends copy-on-write for this capture. The caller holds the write lock.
func (c *Capture) Release() {
	if c.t.gen == c.gen {
		c.t.cow = false
	}
}

// ACLs returns the interned ACL table size (for diagnostics).
func (t *Tree) ACLCount() int { return len(t.acls) }

// InternACL returns the tree's shared copy of acl (for snapshot loading:
// intern each list once, then give it to the nodes that use it with
// Node.PutACL). An empty list gives nil.
func (t *Tree) InternACL(acl []proto.ACL) *[]proto.ACL { return t.intern(acl) }

// Loader adds the nodes of a snapshot to a tree that was just reset, in
// snapshot order: every node after its parent, siblings mostly one after
// another. It remembers the last parent, so a node mostly costs one
// insertion into its parent's children. It must not be used while a
// Capture is open.
type Loader struct {
	t          *Tree
	parentPath string
	parent     *Node
}

// NewLoader returns a Loader for t.
func (t *Tree) NewLoader() *Loader { return &Loader{t: t} }

// Add adds a node read from a snapshot. Its ACL must come from InternACL
// and children sizes its child table (the number of children it will
// get). It fails if the path is invalid (ValidatePath), if the parent was
// not added before or the path was, or if "/" comes after other nodes.
func (l *Loader) Add(path string, n *Node, children int) error {
	t := l.t
	n.setChildTable(children)
	n.gen = t.gen
	if path == "/" {
		if t.count > 1 {
			return fmt.Errorf("node %q comes after other nodes", path)
		}
		t.dataSize += int64(n.DataLen()) - int64(t.root.DataLen())
		t.root = n
		l.parentPath, l.parent = "", nil
		return nil
	}
	if ValidatePath(path) != nil {
		return fmt.Errorf("node %q: invalid path", path)
	}
	parentPath, name := Split(path)
	if l.parent == nil || parentPath != l.parentPath {
		p := t.Get(parentPath)
		if p == nil {
			return fmt.Errorf("node %q comes before its parent", path)
		}
		l.parentPath, l.parent = parentPath, p
	}
	if !l.parent.addChild(strings.Clone(name), n) {
		return fmt.Errorf("node %q appears twice", path)
	}
	t.count++
	t.dataSize += pathLen(path) + int64(n.DataLen())
	t.indexOwner(path, n.EphemeralOwner)
	return nil
}

// indexOwner records a new node at path in the index its owner field puts
// it in: containers, TTL nodes, or its session's ephemerals.
func (t *Tree) indexOwner(path string, owner int64) {
	switch {
	case owner == ContainerOwner:
		t.containers[path] = struct{}{}
	case IsTTLOwner(owner):
		t.ttls[path] = struct{}{}
	case owner != 0:
		m := t.ephemerals[owner]
		if m == nil {
			m = map[string]struct{}{}
			t.ephemerals[owner] = m
		}
		m[path] = struct{}{}
	}
}

// Reset empties the tree down to "/" (before loading a snapshot).
func (t *Tree) Reset() {
	*t = *New()
	t.root.setChildTable(0)
	t.count = 1
	t.dataSize = 1
}

// SetChildStat sets a node's stored cversion and pzxid (multi rollback).
func (t *Tree) SetChildStat(path string, cversion int32, pzxid int64) {
	if n := t.mutable(path); n != nil {
		n.Cversion, n.Pzxid = cversion, pzxid
	}
}

// Get returns the node at path, or nil (also for a path that is not
// absolute or has an empty component).
func (t *Tree) Get(path string) *Node {
	_, _, n := t.locate(path)
	return n
}

// Len returns the number of nodes, counting "/" (ZooKeeper's count is Len()+1
// because it also stores the root under "").
func (t *Tree) Len() int { return t.count }

// ApproximateDataSize is ZooKeeper's zk_approximate_data_size: the sum of
// path length and data length over all nodes.
func (t *Tree) ApproximateDataSize() int64 { return t.dataSize }

// CreateArgs describes a node to create.
type CreateArgs struct {
	Path           string
	Data           []byte
	ACL            []proto.ACL
	EphemeralOwner int64
	Zxid, Time     int64
}

// Create adds a node. The caller has checked that the path is valid, the parent
// exists and the node does not. It updates the parent's stored cversion and pzxid.
func (t *Tree) Create(a CreateArgs) *Node {
	n := &Node{
		acl:   t.intern(a.ACL),
		Czxid: a.Zxid, Mzxid: a.Zxid, Pzxid: a.Zxid,
		Ctime: a.Time, Mtime: a.Time,
		EphemeralOwner: a.EphemeralOwner,
	}
	n.PutData(a.Data)
	n.gen = t.gen
	p, name := t.mutableParent(a.Path)
	p.addChild(strings.Clone(name), n)
	p.Cversion++
	p.Pzxid = a.Zxid
	t.count++
	t.dataSize += pathLen(a.Path) + int64(len(a.Data))
	t.indexOwner(a.Path, a.EphemeralOwner)
	return n
}

// Delete removes a node without children. The parent's pzxid becomes zxid.
func (t *Tree) Delete(path string, zxid int64) {
	grand, pname, p, name := t.walk(path)
	if p == nil {
		return
	}
	n := p.children[name]
	if n == nil {
		return
	}
	p = t.own(grand, pname, p)
	p.removeChild(name)
	p.Pzxid = zxid
	t.count--
	t.dataSize -= pathLen(path) + int64(n.DataLen())
	switch {
	case n.EphemeralOwner == ContainerOwner:
		delete(t.containers, path)
	case IsTTLOwner(n.EphemeralOwner):
		delete(t.ttls, path)
	case n.EphemeralOwner != 0:
		if m := t.ephemerals[n.EphemeralOwner]; m != nil {
			delete(m, path)
			if len(m) == 0 {
				delete(t.ephemerals, n.EphemeralOwner)
			}
		}
	}
}

// SetData replaces a node's data and bumps its version. It returns the
// node as it now is in the tree (a copy of n while a snapshot is open).
func (t *Tree) SetData(n *Node, path string, data []byte, zxid, time int64) *Node {
	n = t.mutable(path)
	t.dataSize += int64(len(data) - n.DataLen())
	n.PutData(data)
	n.Version++
	n.Mzxid = zxid
	n.Mtime = time
	return n
}

// ReplaceData replaces a node's data without touching its stat, as
// ZooKeeper does to a quota's zookeeper_stats node. It returns the node as it
// now is in the tree, or nil if there is none.
func (t *Tree) ReplaceData(path string, data []byte) *Node {
	n := t.mutable(path)
	if n == nil {
		return nil
	}
	t.dataSize += int64(len(data) - n.DataLen())
	n.PutData(data)
	return n
}

// SetVersion sets a node's data version (multi rollback).
func (t *Tree) SetVersion(path string, v int32) {
	if n := t.mutable(path); n != nil {
		n.Version = v
	}
}

// SetACL replaces a node's ACL and bumps its aversion. It returns the node
// as it now is in the tree.
func (t *Tree) SetACL(n *Node, path string, acl []proto.ACL) *Node {
	n = t.mutable(path)
	n.acl = t.intern(acl)
	n.Aversion++
	return n
}

// Ephemerals returns the sorted paths of the ephemeral nodes owned by session.
func (t *Tree) Ephemerals(session int64) []string {
	m := t.ephemerals[session]
	out := make([]string, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// EphemeralSessions returns the sessions that own ephemerals, sorted.
func (t *Tree) EphemeralSessions() []int64 {
	out := make([]int64, 0, len(t.ephemerals))
	for s := range t.ephemerals {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// EphemeralCount returns the number of ephemeral nodes.
func (t *Tree) EphemeralCount() int {
	n := 0
	for _, m := range t.ephemerals {
		n += len(m)
	}
	return n
}

// Containers returns the sorted container paths.
func (t *Tree) Containers() []string { return sortedKeys(t.containers) }

// TTLNodes returns the sorted TTL node paths.
func (t *Tree) TTLNodes() []string { return sortedKeys(t.ttls) }

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// CountDescendants returns the number of nodes below path (any depth).
func (t *Tree) CountDescendants(path string) int {
	n := t.Get(path)
	if n == nil {
		return 0
	}
	total := 0
	stack := []*Node{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		total += len(n.children)
		for _, c := range n.children {
			if len(c.children) > 0 {
				stack = append(stack, c)
			}
		}
	}
	return total
}

// Walk calls fn for path and every node below it, parents before children,
// children in sorted order. Iterative, so deep trees cannot overflow the stack.
func (t *Tree) Walk(path string, fn func(path string, n *Node) bool) {
	type item struct {
		path string
		n    *Node
	}
	n := t.Get(path)
	if n == nil {
		return
	}
	stack := []item{{path, n}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !fn(it.path, it.n) {
			return
		}
		names := it.n.ChildNames()
		for i := len(names) - 1; i >= 0; i-- {
			stack = append(stack, item{join(it.path, names[i]), it.n.children[names[i]]})
		}
	}
}

func join(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// Join returns parent + "/" + name, handling the root.
func Join(parent, name string) string { return join(parent, name) }

// Restore puts back a node removed by Delete (used to roll back a failed
// multi). The parent must exist; the caller restores the parent's fields.
func (t *Tree) Restore(path string, n *Node) {
	p, name := t.mutableParent(path)
	p.addChild(strings.Clone(name), n)
	t.count++
	t.dataSize += pathLen(path) + int64(n.DataLen())
	t.indexOwner(path, n.EphemeralOwner)
}

// pathLen is a path's length as ZooKeeper counts it for
// zk_approximate_data_size: Java String.length(), in UTF-16 code units.
func pathLen(p string) int64 {
	n := int64(0)
	for i := 0; i < len(p); i++ {
		if p[i] >= 0x80 {
			n = 0
			for _, r := range p {
				if r >= 0x10000 {
					n += 2
				} else {
					n++
				}
			}
			return n
		}
	}
	return int64(len(p))
}
