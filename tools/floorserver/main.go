// Command floorserver is a ZooKeeper-protocol server that does no work: it
// answers every request the benchmark sends (internal/bench) with a
// well-formed success reply and keeps no tree. It exists to measure a floor:
// what one request costs the machine in system calls and scheduling alone,
// so that docs/performance.md can say what share of a throughput target any
// real server could reach on the same machine with the same load generator.
//
// With -fsync DIR it also makes every write durable as a real server must:
// each write request (create, delete, setData, session creation and close)
// is appended to a file in DIR, group-committed (one write and one
// fdatasync for every request queued while the previous fdatasync ran),
// and answered after its fdatasync. The file is preallocated and written
// in place, the cheapest fdatasync a log can have (no metadata to commit).
//
// Replies carry zxid 0 and zeroed Stats; create echoes the request's path.
// It is a measuring tool, not a server: nothing is stored or checked. The
// one thing it keeps is data watches: getData or exists with the watch flag
// registers the connection for the path, and a setData on the path (after
// its fdatasync, with -fsync) writes a NodeDataChanged notification to every
// connection registered for it, then forgets them (one-shot), before it
// answers the setter.
//
//	go run ./tools/floorserver -addr 127.0.0.1:0 [-fsync DIR]
//
// With -fsync DIR and -peer ADDR (the leader) or -leader ADDR (a follower)
// it is one member of an ensemble floor: every write is
// replicated to the followers and answered once a majority has it durable
// (log.go).
// Data watches stay local to the member that has them (a setData through
// another member does not fire them), so the watch workload is not for an
// ensemble floor.
//
//	go run ./tools/floorserver -addr 127.0.0.1:2181 -fsync d1 -peer 127.0.0.1:2888
//	go run ./tools/floorserver -addr 127.0.0.1:2182 -fsync d2 -leader 127.0.0.1:2888
//	go run ./tools/floorserver -addr 127.0.0.1:2183 -fsync d3 -leader 127.0.0.1:2888
//
// It prints the address it listens on as its first line. It answers the
// four-letter word srvr with "Mode: standalone" (readiness probes) and closes
// any other connection that starts with one.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:2181", "listen address")
	dir := flag.String("fsync", "", "if set, group-commit every write to a log file in this directory before answering it")
	peer := flag.String("peer", "", "with -fsync: lead an ensemble floor, taking followers on this address")
	leaderAddr := flag.String("leader", "", "with -fsync: follow the ensemble floor's leader at this peer address")
	flag.Parse()
	// At least two Ps, as warren server has (internal/server/procs.go): with
	// one, the goroutine in fdatasync holds the only P until the runtime
	// takes it back, which can take milliseconds.
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	if *dir == "" && (*peer != "" || *leaderAddr != "") || *peer != "" && *leaderAddr != "" {
		fmt.Fprintln(os.Stderr, "floorserver: -peer or -leader (not both), and only with -fsync")
		os.Exit(2)
	}
	var lg logger // nil: nothing is logged
	if *dir != "" {
		lf, err := openLog(filepath.Join(*dir, "floor.log"))
		if err != nil {
			fatal("log", err)
		}
		switch {
		case *leaderAddr != "":
			if lg, err = dialLeader(lf, *leaderAddr); err != nil {
				fatal("dial leader", err)
			}
		case *peer != "":
			pl, err := net.Listen("tcp", *peer)
			if err != nil {
				fatal("peer listen", err)
			}
			lg = newLeader(lf, pl)
		default:
			lg = newLeader(lf, nil)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fatal("listen", err)
	}
	fmt.Println(ln.Addr())
	fatal("accept", acceptLoop(ln, lg))
}

// fatal ends the process: the floor is a measuring tool, and a run whose
// server exited is reported as failed.
func fatal(what string, err error) {
	slog.Error("floorserver: "+what, "err", err)
	os.Exit(1)
}

// acceptLoop serves every connection ln accepts (with lg, if not nil, as
// the log) until Accept fails.
func acceptLoop(ln net.Listener, lg logger) error {
	var sessions atomic.Int64
	for {
		nc, err := ln.Accept()
		if err != nil {
			return err
		}
		go serve(nc, lg, sessions.Add(1))
	}
}

// watches maps a path to the connections watching its data.
var watches = struct {
	sync.Mutex
	m map[string]map[*wconn]struct{}
}{m: map[string]map[*wconn]struct{}{}}

// wconn is a connection that notifications are written to from other
// connections' goroutines: every write takes mu.
type wconn struct {
	nc net.Conn
	mu sync.Mutex
}

func (c *wconn) write(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.nc.Write(b)
	return err
}

func watch(path string, c *wconn) {
	watches.Lock()
	defer watches.Unlock()
	set := watches.m[path]
	if set == nil {
		set = map[*wconn]struct{}{}
		watches.m[path] = set
	}
	set[c] = struct{}{}
}

func unwatch(c *wconn) {
	watches.Lock()
	defer watches.Unlock()
	for p, set := range watches.m {
		delete(set, c)
		if len(set) == 0 {
			delete(watches.m, p)
		}
	}
}

// notify writes a NodeDataChanged event for path to every connection
// watching it and forgets them.
func notify(path string) {
	watches.Lock()
	set := watches.m[path]
	delete(watches.m, path)
	watches.Unlock()
	if len(set) == 0 {
		return
	}
	e := jute.NewEncoder(make([]byte, 0, 64+len(path)))
	e.Int(0)
	h := proto.ReplyHeader{Xid: proto.XidNotification, Zxid: -1}
	h.Encode(e)
	ev := proto.WatcherEvent{Type: proto.EventNodeDataChanged, State: proto.StateSyncConnected, Path: path}
	ev.Encode(e)
	b := e.Bytes()
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	// The writes are split among as many goroutines as there are Ps, so
	// that the fan-out uses every CPU. (A failed connection's own
	// goroutine sees it fail too.)
	conns := make([]*wconn, 0, len(set))
	for c := range set {
		conns = append(conns, c)
	}
	parts := min(runtime.GOMAXPROCS(0), len(conns))
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() {
			for _, c := range conns[i*len(conns)/parts : (i+1)*len(conns)/parts] {
				c.write(b)
			}
		})
	}
	wg.Wait()
}

func serve(nc net.Conn, lg logger, session int64) {
	wc := &wconn{nc: nc}
	defer unwatch(wc)
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 8<<10)
	frame := make([]byte, 0, 1024)
	e := jute.NewEncoder(make([]byte, 0, 1024))
	read := func() ([]byte, error) {
		var lb [4]byte
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			return nil, err
		}
		n := binary.BigEndian.Uint32(lb[:])
		if n > 1<<20 {
			if string(lb[:]) == "srvr" {
				io.WriteString(nc, "Zookeeper version: none (floorserver)\nMode: standalone\n")
			}
			return nil, fmt.Errorf("frame of %d bytes", n)
		}
		if int(n) > cap(frame) {
			frame = make([]byte, n)
		}
		frame = frame[:n]
		_, err := io.ReadFull(br, frame)
		return frame, err
	}
	send := func() error {
		b := e.Bytes()
		binary.BigEndian.PutUint32(b, uint32(len(b)-4))
		return wc.write(b)
	}
	// The connect request: a session is a write in a real server.
	body, err := read()
	if err != nil {
		return
	}
	var creq proto.ConnectRequest
	creq.Decode(jute.NewDecoder(body))
	if lg != nil {
		lg.commit(len(body))
	}
	e.Reset()
	e.Int(0)
	resp := proto.ConnectResponse{TimeOut: creq.TimeOut, SessionID: session, Passwd: make([]byte, 16), HasReadOnly: creq.HasReadOnly}
	resp.Encode(e)
	if send() != nil {
		return
	}
	var stat proto.Stat
	for {
		body, err := read()
		if err != nil {
			return
		}
		d := jute.NewDecoder(body)
		var h proto.RequestHeader
		h.Decode(d)
		if d.Err() != nil {
			return
		}
		op := proto.OpCode(h.Type)
		commit := func() {
			if lg != nil {
				lg.commit(len(body))
			}
		}
		e.Reset()
		e.Int(0)
		rh := proto.ReplyHeader{Xid: h.Xid}
		rh.Encode(e)
		switch op {
		case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL:
			p := d.String() // every one of these requests starts with its path
			commit()
			e.String(p)
			if op != proto.OpCreate {
				stat.Encode(e)
			}
		case proto.OpDelete, proto.OpCloseSession:
			commit()
		case proto.OpSetData:
			p := d.String()
			commit()
			if d.Err() == nil {
				notify(p)
			}
			stat.Encode(e)
		case proto.OpGetData, proto.OpExists:
			if p := d.String(); d.Bool() && d.Err() == nil {
				watch(p, wc)
			}
			if op == proto.OpGetData {
				e.Buffer([]byte{})
			}
			stat.Encode(e)
		case proto.OpSync:
			e.String(d.String())
		case proto.OpSetACL:
			stat.Encode(e)
		case proto.OpGetChildren:
			e.Int(0)
		case proto.OpGetChildren2:
			e.Int(0)
			stat.Encode(e)
		}
		if send() != nil || op == proto.OpCloseSession {
			return
		}
	}
}
