package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/warren-zk/warren/internal/fsm"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/snap"
	"github.com/warren-zk/warren/internal/txn"
	"github.com/warren-zk/warren/internal/wal"
	"github.com/warren-zk/warren/internal/znode"
)

const dumpUsage = `usage: warren dump [-log] [-snap] [-nodes] [-records] (zoo.cfg | dataDir [dataLogDir])

Prints a data directory's write-ahead log (one line per transaction: raft
index and term, zxid, session, cxid, op, path) and its snapshots (index,
zxid, node and session counts; -nodes also lists every node with its Stat).
Nothing is changed. By default both the log and the snapshots are shown.
`

func runDump(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	logOnly := fs.Bool("log", false, "show only the log")
	snapOnly := fs.Bool("snap", false, "show only the snapshots")
	nodes := fs.Bool("nodes", false, "list every node of each snapshot")
	records := fs.Bool("records", false, "also show hard state, commit and header records")
	fs.Usage = func() { fmt.Fprint(stderr, dumpUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dataDir, logDir, err := dataDirs(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "warren dump:", err)
		fs.Usage()
		return 2
	}
	showLog, showSnap := !*snapOnly || *logOnly, !*logOnly || *snapOnly
	var zx *txn.ZxidState
	if showSnap || showLog {
		z, err := dumpSnapshots(stdout, server.SnapDir(dataDir), *nodes, showSnap)
		if err != nil {
			fmt.Fprintln(stderr, "warren dump:", err)
			return 1
		}
		zx = z
	}
	if showLog {
		if err := dumpLog(stdout, server.WALDir(logDir), zx, *records); err != nil {
			fmt.Fprintln(stderr, "warren dump:", err)
			return 1
		}
	}
	return 0
}

// dataDirs resolves "zoo.cfg" or "dataDir [dataLogDir]".
func dataDirs(args []string) (string, string, error) {
	switch len(args) {
	case 1:
		if st, err := os.Stat(args[0]); err == nil && !st.IsDir() {
			cfg, problems := loadConfig(args)
			for _, p := range problems {
				if p.Fatal {
					return "", "", errors.New(p.String())
				}
			}
			return cfg.DataDir, cfg.DataLogDir, nil
		}
		return args[0], args[0], nil
	case 2:
		return args[0], args[1], nil
	}
	return "", "", errors.New("expected a zoo.cfg or a data directory")
}

// dumpSnapshots prints the snapshots, oldest first, and returns the zxid
// state of the oldest one (to number the log entries after it).
func dumpSnapshots(w io.Writer, dir string, nodes, show bool) (*txn.ZxidState, error) {
	all, err := snap.List(dir)
	if err != nil {
		return nil, err
	}
	var oldest *txn.ZxidState
	for i := len(all) - 1; i >= 0; i-- {
		m := all[i]
		f := fsm.New(fsm.Options{})
		var members []byte
		_, err := snap.Load(m.Path, func(r io.Reader) error {
			var err error
			_, _, members, err = f.Restore(r)
			return err
		})
		if err != nil {
			if show {
				fmt.Fprintf(w, "snapshot %s: UNUSABLE: %v\n", filepath.Base(m.Path), err)
			}
			continue
		}
		if oldest == nil {
			z := f.ZxidState()
			oldest = &z
		}
		if !show {
			continue
		}
		f.RLock()
		tr := f.Tree()
		fmt.Fprintf(w, "snapshot %s: index=%d term=%d zxid=0x%x nodes=%d sessions=%d ephemerals=%d bytes=%d\n",
			filepath.Base(m.Path), m.Index, m.Term, f.LastZxid(), tr.Len()+1, f.SessionCount(), tr.EphemeralCount(), m.Size)
		_ = members
		if nodes {
			for _, id := range f.SessionIDs() {
				fmt.Fprintf(w, "  session 0x%x timeout=%d\n", id, f.Session(id).Timeout)
			}
			tr.Walk("/", func(p string, n *znode.Node) bool {
				st := n.Stat()
				fmt.Fprintf(w, "  %s czxid=0x%x mzxid=0x%x pzxid=0x%x ctime=%d mtime=%d version=%d cversion=%d aversion=%d owner=0x%x dataLength=%d numChildren=%d acl=%v\n",
					p, st.Czxid, st.Mzxid, st.Pzxid, st.Ctime, st.Mtime, st.Version, st.Cversion, st.Aversion,
					n.EphemeralOwner, st.DataLength, st.NumChildren, n.ACL())
				return true
			})
		}
		f.RUnlock()
	}
	return oldest, nil
}

func dumpLog(w io.Writer, dir string, zx *txn.ZxidState, records bool) error {
	var (
		state   txn.ZxidState
		exact   bool
		started bool
	)
	notes, err := wal.Scan(dir, func(r wal.Record) error {
		switch r.Type {
		case "entry":
			e := r.Entry
			if !started {
				started = true
				switch {
				case e.GetIndex() == 1:
					exact = true
				case zx != nil:
					state, exact = *zx, true
				}
			}
			zxid := "?"
			if exact {
				zxid = fmt.Sprintf("0x%x", state.Next(e.GetTerm(), e.GetIndex()))
			}
			fmt.Fprintf(w, "%s@%d index=%d term=%d zxid=%s %s\n", r.Segment, r.Offset, e.GetIndex(), e.GetTerm(), zxid, describeEntry(e))
		case "hardstate":
			if records {
				fmt.Fprintf(w, "%s@%d hardstate term=%d vote=%d commit=%d\n", r.Segment, r.Offset,
					r.HardState.GetTerm(), r.HardState.GetVote(), r.HardState.GetCommit())
			}
		case "commit":
			if records {
				fmt.Fprintf(w, "%s@%d commit batch=%d\n", r.Segment, r.Offset, r.Batch)
			}
		case "snapshot":
			fmt.Fprintf(w, "%s@%d snapshot-taken index=%d term=%d\n", r.Segment, r.Offset, r.Snapshot.Index, r.Snapshot.Term)
		default:
			if records {
				fmt.Fprintf(w, "%s@%d %s\n", r.Segment, r.Offset, r.Type)
			}
		}
		return nil
	})
	for _, n := range notes {
		fmt.Fprintln(w, "note:", n)
	}
	return err
}

// describeEntry renders a log entry as "session=… cxid=… op=… path=…".
func describeEntry(e *raftpb.Entry) string {
	switch e.GetType() {
	case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
		return "raft-config-change"
	}
	if len(e.GetData()) == 0 {
		return "raft-leader-entry"
	}
	x, err := txn.Unmarshal(e.GetData())
	if err != nil {
		return "UNDECODABLE: " + err.Error()
	}
	s := fmt.Sprintf("session=0x%x cxid=%d op=%s", x.Session, x.Cxid, x.Op)
	switch x.Op {
	case proto.OpCreateSession:
		s += fmt.Sprintf(" timeout=%d", x.Timeout)
	case proto.OpDeleteContainer:
		s += " path=" + string(x.Body)
	case proto.OpMulti:
		var m proto.MultiRequest
		d := jute.NewDecoder(x.Body)
		m.Decode(d)
		for _, op := range m.Ops {
			s += fmt.Sprintf(" [%s %s]", op.Type, opPath(op.Body))
		}
	case proto.OpCloseSession, proto.OpReconfig:
	default:
		d := jute.NewDecoder(x.Body)
		if p := d.String(); d.Err() == nil {
			s += " path=" + p
		}
	}
	return s
}

func opPath(r proto.Record) string {
	e := jute.NewEncoder(nil)
	r.Encode(e)
	d := jute.NewDecoder(e.Bytes())
	return d.String()
}
