package snap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	magic    = "WRNSNAP1"
	endMagic = "WEND"
)

// ErrNoSnapshot reports that a directory holds no usable snapshot.
var ErrNoSnapshot = errors.New("snap: no snapshot")

// Meta identifies a snapshot.
type Meta struct {
	Index, Term uint64
	Path        string
	Size        int64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FileName returns the name of the snapshot at (index, term).
func FileName(index, term uint64) string {
	return fmt.Sprintf("snap-%016x-%016x.snap", index, term)
}

func parseName(name string) (index, term uint64, ok bool) {
	if !strings.HasPrefix(name, "snap-") || !strings.HasSuffix(name, ".snap") {
		return 0, 0, false
	}
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(name, "snap-"), ".snap"), "-")
	if len(parts) != 2 || len(parts[0]) != 16 || len(parts[1]) != 16 {
		return 0, 0, false
	}
	i, err1 := strconv.ParseUint(parts[0], 16, 64)
	t, err2 := strconv.ParseUint(parts[1], 16, 64)
	return i, t, err1 == nil && err2 == nil
}

// List returns the snapshots in dir, newest (highest index) first.
func List(dir string) ([]Meta, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("snap: read %s: %w", dir, err)
	}
	var out []Meta
	for _, e := range ents {
		if i, t, ok := parseName(e.Name()); ok {
			m := Meta{Index: i, Term: t, Path: filepath.Join(dir, e.Name())}
			if info, err := e.Info(); err == nil {
				m.Size = info.Size()
			}
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index > out[j].Index })
	return out, nil
}

type crcWriter struct {
	w io.Writer
	h hash.Hash32
}

func (c crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	return n, err
}

// Save writes a snapshot at (index, term) into dir, body produced by write.
func Save(dir string, index, term uint64, write func(io.Writer) error) (Meta, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Meta{}, fmt.Errorf("snap: create %s: %w", dir, err)
	}
	final := filepath.Join(dir, FileName(index, term))
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return Meta{}, fmt.Errorf("snap: create %s: %w", tmp, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(&writeback{f: f}, 1<<20)
	cw := crcWriter{w: bw, h: crc32.New(castagnoli)}
	hdr := append([]byte(magic), make([]byte, 16)...)
	binary.BigEndian.PutUint64(hdr[8:], index)
	binary.BigEndian.PutUint64(hdr[16:], term)
	if _, err := cw.Write(hdr); err != nil {
		return Meta{}, fmt.Errorf("snap: write %s: %w", tmp, err)
	}
	if err := write(cw); err != nil {
		return Meta{}, fmt.Errorf("snap: write %s: %w", tmp, err)
	}
	if _, err := cw.Write([]byte(endMagic)); err != nil {
		return Meta{}, fmt.Errorf("snap: write %s: %w", tmp, err)
	}
	if _, err := bw.Write(binary.BigEndian.AppendUint32(nil, cw.h.Sum32())); err != nil {
		return Meta{}, fmt.Errorf("snap: write %s: %w", tmp, err)
	}
	if err := bw.Flush(); err != nil {
		return Meta{}, fmt.Errorf("snap: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return Meta{}, fmt.Errorf("snap: fsync %s: %w", tmp, err)
	}
	info, _ := f.Stat()
	if err := f.Close(); err != nil {
		return Meta{}, fmt.Errorf("snap: close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return Meta{}, fmt.Errorf("snap: rename %s: %w", tmp, err)
	}
	ok = true
	if err := syncDir(dir); err != nil {
		return Meta{}, fmt.Errorf("snap: fsync %s: %w", dir, err)
	}
	m := Meta{Index: index, Term: term, Path: final}
	if info != nil {
		m.Size = info.Size()
	}
	return m, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// crcReader hashes what passes through it, holding back the last 8 bytes
// (the trailer) so the body reader never sees them.
type crcReader struct {
	r    *bufio.Reader
	h    hash.Hash32
	left int64 // body bytes left
}

// Len reports the body bytes not read yet: the reader of the body may size
// what it allocates by it (fsm.Restore does).
func (c *crcReader) Len() int { return int(min(c.left, math.MaxInt)) }

func (c *crcReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.left -= int64(n)
	if err == io.EOF && c.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Load reads the snapshot at path, handing its body to read, and verifies
// the checksum. read must consume the whole body.
func Load(path string, read func(r io.Reader) error) (Meta, error) {
	f, err := os.Open(path)
	if err != nil {
		return Meta{}, fmt.Errorf("snap: open %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Meta{}, fmt.Errorf("snap: stat %s: %w", path, err)
	}
	size := info.Size()
	if size < 24+8 {
		return Meta{}, fmt.Errorf("snap: %s: too short (%d bytes)", path, size)
	}
	br := bufio.NewReaderSize(f, 1<<20)
	h := crc32.New(castagnoli)
	hdr := make([]byte, 24)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return Meta{}, fmt.Errorf("snap: read %s: %w", path, err)
	}
	h.Write(hdr)
	if string(hdr[:8]) != magic {
		return Meta{}, fmt.Errorf("snap: %s: not a Warren snapshot", path)
	}
	m := Meta{Index: binary.BigEndian.Uint64(hdr[8:]), Term: binary.BigEndian.Uint64(hdr[16:]), Path: path, Size: size}
	if i, t, ok := parseName(filepath.Base(path)); ok && (i != m.Index || t != m.Term) {
		return Meta{}, fmt.Errorf("snap: %s: header says index %d term %d", path, m.Index, m.Term)
	}
	cr := &crcReader{r: br, h: h, left: size - 24 - 8}
	if err := read(cr); err != nil {
		return Meta{}, fmt.Errorf("snap: %s: %w", path, err)
	}
	if cr.left != 0 {
		return Meta{}, fmt.Errorf("snap: %s: %d body bytes left unread", path, cr.left)
	}
	tr := make([]byte, 8)
	if _, err := io.ReadFull(br, tr); err != nil {
		return Meta{}, fmt.Errorf("snap: read %s trailer: %w", path, err)
	}
	h.Write(tr[:4])
	if string(tr[:4]) != endMagic || binary.BigEndian.Uint32(tr[4:]) != h.Sum32() {
		return Meta{}, fmt.Errorf("snap: %s: checksum mismatch", path)
	}
	return m, nil
}

// LoadNewest loads the newest snapshot in dir that passes its checks. For
// each attempt, reset is called before read so a half-read failed snapshot
// leaves nothing behind. It returns ErrNoSnapshot if none is usable.
func LoadNewest(dir string, log *slog.Logger, reset func(), read func(r io.Reader) error) (Meta, error) {
	all, err := List(dir)
	if err != nil {
		return Meta{}, err
	}
	for _, m := range all {
		reset()
		got, err := Load(m.Path, read)
		if err == nil {
			return got, nil
		}
		log.Error("skipping unusable snapshot; trying an older one", "file", m.Path, "err", err)
	}
	reset()
	return Meta{}, ErrNoSnapshot
}

// RemoveTemp deletes the .tmp files of snapshots whose writing never
// finished (a crash or kill while writing). Only call it when no snapshot is
// being written to dir.
func RemoveTemp(dir string) []string {
	var removed []string
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".snap.tmp") {
				if os.Remove(filepath.Join(dir, e.Name())) == nil {
					removed = append(removed, e.Name())
				}
			}
		}
	}
	return removed
}

// Purge deletes all but the newest keep snapshots (and leftover .tmp files)
// and returns the index of the oldest snapshot kept (0 if none).
func Purge(dir string, keep int) (oldestKept uint64, err error) {
	all, err := List(dir)
	if err != nil {
		return 0, err
	}
	RemoveTemp(dir)
	if keep < 1 {
		keep = 1
	}
	for i, m := range all {
		if i < keep {
			oldestKept = m.Index
			continue
		}
		if err := os.Remove(m.Path); err != nil {
			return oldestKept, fmt.Errorf("snap: remove %s: %w", m.Path, err)
		}
	}
	return oldestKept, nil
}
