package server_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/wal"
)

// failingFS is the real file system whose fdatasync starts failing on demand.
type failingFS struct {
	wal.OSFS
	fail *atomic.Bool
}

type failingFile struct {
	wal.File
	fail *atomic.Bool
}

func (f failingFS) OpenFile(name string, flag int, perm os.FileMode) (wal.File, error) {
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return failingFile{file, f.fail}, nil
}

func (f failingFile) Sync() error {
	if f.fail.Load() {
		return fmt.Errorf("injected: %w", syscall.EIO)
	}
	return f.File.Sync()
}

// TestFsyncFailureIsFatal: once an fdatasync of the log fails, the server
// reports a fatal error (the binary then exits non-zero) and the write whose
// batch failed is never acknowledged; it does not retry the fsync.
func TestFsyncFailureIsFatal(t *testing.T) {
	var fail atomic.Bool
	cfg := config.Default()
	dir := t.TempDir()
	cfg.DataDir, cfg.DataLogDir, cfg.ClientPort = dir, dir, 0
	cfg.AdminEnableServer = false
	ln := listen(t)
	srv := server.New(cfg, server.Options{Listener: ln, WALFS: failingFS{fail: &fail}})
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	r := dial(t, ln.Addr().String())
	r.connect(30000, 0, nil, true)
	if code := r.call(proto.OpCreate, &proto.CreateRequest{Path: "/before", Acl: open}, nil); code != 0 {
		t.Fatalf("create before the failure: %v", code)
	}
	fail.Store(true)
	r.send(proto.OpCreate, &proto.CreateRequest{Path: "/lost", Acl: open})
	select {
	case err := <-srv.Fatal():
		if !errors.Is(err, syscall.EIO) {
			t.Fatalf("fatal error %v does not carry the fsync failure", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no fatal error after an fsync failure")
	}
	// The create in the failed batch is never acknowledged: the server
	// stops serving and closes the connection.
	if b, err := r.readFrame(); err == nil {
		var h proto.ReplyHeader
		d := newDecoder(b)
		h.Decode(d)
		t.Fatalf("got a reply after the fsync failed: %+v", h)
	}
	if srv.Serving() {
		t.Fatal("still serving after a fatal storage error")
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func newDecoder(b []byte) *jute.Decoder { return jute.NewDecoder(b) }
