package fsm

import "github.com/warren-zk/warren/internal/znode"

// undoLog records the mutations of a multi so a failed multi can be rolled
// back to exactly the state before it.
type undoLog struct {
	steps []undoStep
}

type undoKind int

const (
	undoCreate undoKind = iota
	undoDelete
	undoSetData
)

type undoStep struct {
	kind           undoKind
	path           string
	node           *znode.Node
	parentPath     string
	parentCversion int32
	parentPzxid    int64
	data           []byte
	version        int32
	mzxid, mtime   int64
}

func (u *undoLog) created(t *znode.Tree, path string, parent *znode.Node) {
	pp, _ := znode.Split(path)
	u.steps = append(u.steps, undoStep{kind: undoCreate, path: path, parentPath: pp,
		parentCversion: parent.Cversion, parentPzxid: parent.Pzxid})
}

func (u *undoLog) deleted(path string, n, parent *znode.Node) {
	pp, _ := znode.Split(path)
	u.steps = append(u.steps, undoStep{kind: undoDelete, path: path, node: n, parentPath: pp,
		parentCversion: parent.Cversion, parentPzxid: parent.Pzxid})
}

func (u *undoLog) dataSet(path string, n *znode.Node) {
	u.steps = append(u.steps, undoStep{kind: undoSetData, path: path, node: n,
		data: n.Data(), version: n.Version, mzxid: n.Mzxid, mtime: n.Mtime})
}

// rollback undoes the recorded steps, newest first.
func (u *undoLog) rollback(t *znode.Tree) {
	for i := len(u.steps) - 1; i >= 0; i-- {
		s := u.steps[i]
		switch s.kind {
		case undoCreate:
			t.Delete(s.path, 0)
			t.SetChildStat(s.parentPath, s.parentCversion, s.parentPzxid)
		case undoDelete:
			t.Restore(s.path, s.node)
			t.SetChildStat(s.parentPath, s.parentCversion, s.parentPzxid)
		case undoSetData:
			n := t.SetData(t.Get(s.path), s.path, s.data, s.mzxid, s.mtime)
			t.SetVersion(s.path, s.version)
			_ = n
		}
	}
	u.steps = u.steps[:0]
}
