package wal

import (
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// memFS is an in-memory FS that models the page cache and crashes.
//
// Every file has two contents: written (what reads see, the page cache) and
// durable (what is on the disk). File.Sync copies written to durable. The
// directory also has two states: the current names and the durable names as
// of the last SyncDir. Crash keeps only durable state (optionally with a
// caller-chosen mixture of unsynced bytes, to model torn and reordered
// writes) and invalidates every open handle.
//
// Faults are injected with a hook called before every operation: a non-nil
// error fails the operation without effect, except for WriteAt, where
// shortWrite bytes are written first (a short write, as on ENOSPC).
type memFS struct {
	mu    sync.Mutex
	cur   map[string]*memNode // current names
	dir   map[string]*memNode // durable names (as of the last SyncDir)
	dirs  map[string]bool
	hook  func(op, name string) error
	short int // bytes a failing WriteAt writes before failing

	// counters
	syncs, dirSyncs, writes int
}

type memNode struct {
	written []byte
	durable []byte
	dead    bool  // invalidated by a crash
	wrote   int64 // the end of the furthest WriteAt (Allocate and Truncate do not count)
}

type memFile struct {
	fs       *memFS
	name     string
	n        *memNode
	readOnly bool
	closed   bool
}

const (
	opOpen     = "open"
	opWrite    = "write"
	opSync     = "sync"
	opTruncate = "truncate"
	opAllocate = "allocate"
	opSyncDir  = "syncdir"
	opRemove   = "remove"
)

func newMemFS() *memFS {
	return &memFS{cur: map[string]*memNode{}, dir: map[string]*memNode{}, dirs: map[string]bool{}}
}

func (m *memFS) fault(op, name string) error {
	if m.hook == nil {
		return nil
	}
	return m.hook(op, name)
}

// failOn makes every op on names containing substr fail with err from the
// (skip+1)-th matching call on (persistent: once failing, always failing).
func (m *memFS) failOn(op, substr string, skip int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	m.hook = func(o, name string) error {
		if o != op || !strings.Contains(filepath.Base(name), substr) {
			return nil
		}
		n++
		if n > skip {
			return err
		}
		return nil
	}
}

// setShort sets how many bytes a failing WriteAt writes.
func (m *memFS) setShort(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.short = n
}

func (m *memFS) clearFaults() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hook = nil
	m.short = 0
}

func (m *memFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fault(opOpen, name); err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	n, ok := m.cur[name]
	switch {
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case !ok && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case !ok:
		if !m.dirs[filepath.Dir(name)] {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		n = &memNode{}
		m.cur[name] = n
	}
	if flag&os.O_TRUNC != 0 {
		n.written = n.written[:0]
	}
	return &memFile{fs: m, name: name, n: n, readOnly: flag&(os.O_WRONLY|os.O_RDWR) == 0}, nil
}

func (m *memFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fault(opRemove, name); err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	if _, ok := m.cur[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.cur, name)
	return nil
}

func (m *memFS) ReadDir(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean(dir)
	if !m.dirs[dir] {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	var out []string
	for name := range m.cur {
		if filepath.Dir(name) == dir {
			out = append(out, filepath.Base(name))
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m *memFS) MkdirAll(dir string, perm os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dirs[filepath.Clean(dir)] = true
	return nil
}

func (m *memFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fault(opSyncDir, dir); err != nil {
		return &fs.PathError{Op: "fsync", Path: dir, Err: err}
	}
	m.dirSyncs++
	dir = filepath.Clean(dir)
	for name := range m.dir {
		if filepath.Dir(name) == dir {
			delete(m.dir, name)
		}
	}
	for name, n := range m.cur {
		if filepath.Dir(name) == dir {
			m.dir[name] = n
		}
	}
	return nil
}

func (f *memFile) check() error {
	if f.closed {
		return os.ErrClosed
	}
	if f.n.dead {
		return syscall.EIO // the handle outlived a crash
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check(); err != nil {
		return 0, err
	}
	if off >= int64(len(f.n.written)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.written[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check(); err != nil {
		return 0, err
	}
	if f.readOnly {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: syscall.EBADF}
	}
	err := f.fs.fault(opWrite, f.name)
	if err != nil {
		p = p[:min(len(p), f.fs.short)]
	}
	f.fs.writes++
	f.n.wrote = max(f.n.wrote, off+int64(len(p)))
	if end := off + int64(len(p)); end > int64(len(f.n.written)) {
		f.n.written = append(f.n.written, make([]byte, end-int64(len(f.n.written)))...)
	}
	copy(f.n.written[off:], p)
	if err != nil {
		return len(p), &fs.PathError{Op: "write", Path: f.name, Err: err}
	}
	return len(p), nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	if err := f.fs.fault(opSync, f.name); err != nil {
		return &fs.PathError{Op: "fdatasync", Path: f.name, Err: err}
	}
	f.fs.syncs++
	f.n.durable = append(f.n.durable[:0], f.n.written...)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	if err := f.fs.fault(opTruncate, f.name); err != nil {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: err}
	}
	f.n.written = resize(f.n.written, size)
	return nil
}

func (f *memFile) Allocate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	if err := f.fs.fault(opAllocate, f.name); err != nil {
		return &fs.PathError{Op: "fallocate", Path: f.name, Err: err}
	}
	if size > int64(len(f.n.written)) {
		f.n.written = resize(f.n.written, size)
	}
	return nil
}

func resize(b []byte, size int64) []byte {
	if size <= int64(len(b)) {
		clear(b[size:]) // no stale bytes if the slice grows again
		return b[:size]
	}
	return append(b, make([]byte, size-int64(len(b)))...)
}

func (f *memFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check(); err != nil {
		return 0, err
	}
	return int64(len(f.n.written)), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return os.ErrClosed
	}
	f.closed = true
	return nil
}

// Crash simulates power loss: only durable names and durable bytes survive.
func (m *memFS) Crash() { m.CrashWith(nil) }

// CrashWith simulates power loss. For every durable name whose file has
// unsynced changes, keep (if not nil) returns what the disk holds after the
// crash, given the durable and the written contents; it may mix them at will
// (torn, reordered or garbage writes). Faults are cleared.
func (m *memFS) CrashWith(keep func(name string, durable, written []byte) []byte) {
	m.crash(keep, false)
}

// CrashKeepNames is CrashWith on a file system that happened to make every
// directory change durable (creations and removals), but not file data.
func (m *memFS) CrashKeepNames(keep func(name string, durable, written []byte) []byte) {
	m.crash(keep, true)
}

func (m *memFS) crash(keep func(name string, durable, written []byte) []byte, keepNames bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir := m.dir
	if keepNames {
		dir = m.cur
	}
	next := map[string]*memNode{}
	names := make([]string, 0, len(dir))
	for name := range dir {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		n := dir[name]
		data := append([]byte(nil), n.durable...)
		if keep != nil && string(n.durable) != string(n.written) {
			data = append([]byte(nil), keep(name, n.durable, n.written)...)
		}
		next[name] = &memNode{written: data, durable: append([]byte(nil), data...)}
		n.dead = true
	}
	for _, n := range m.cur {
		n.dead = true
	}
	for _, n := range m.dir {
		n.dead = true
	}
	m.cur = next
	m.dir = maps.Clone(next)
	m.hook = nil
	m.short = 0
}

// file returns the current (page cache) contents of name.
func (m *memFS) file(name string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.cur[name]
	if !ok {
		panic(fmt.Sprintf("memFS: no file %s", name))
	}
	return n.written
}

// setFile replaces name's contents, durably, creating it if needed.
func (m *memFS) setFile(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := &memNode{written: append([]byte(nil), data...), durable: append([]byte(nil), data...)}
	if old, ok := m.cur[name]; ok {
		old.dead = true
	}
	m.cur[name] = n
	m.dir[name] = n
}

// remove deletes name durably.
func (m *memFS) remove(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.cur, name)
	delete(m.dir, name)
}

// names lists the current files in dir.
func (m *memFS) names(dir string) []string {
	out, _ := m.ReadDir(dir)
	return out
}

// wrote returns the end of the furthest WriteAt to a file (0 if none).
func (m *memFS) wrote(name string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := m.cur[name]; n != nil {
		return n.wrote
	}
	return 0
}

func (m *memFS) counts() (syncs, dirSyncs, writes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.syncs, m.dirSyncs, m.writes
}
