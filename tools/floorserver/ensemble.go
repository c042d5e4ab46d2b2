package main

// The ensemble floor: a leader and followers that replicate every write
// and do nothing else. A write (from a client of any member) becomes an
// entry of the leader's log; the leader sends each group of entries to
// every follower in one frame, writes and fdatasyncs it itself, and commits
// an entry once it is durable on the leader and on one follower (a majority
// of three). A follower writes and fdatasyncs what it receives (all the
// frames that have arrived, then one fdatasync), acknowledges the last
// index, and forwards its own clients' writes to the leader, answering them
// when the leader's commit index passes them. Reads are answered locally.
//
// Peer frames: a type byte, a 32-bit big-endian payload length, the
// payload.
//
//	'F' follower -> leader: forward; payload = tag (8 bytes) + the write
//	'K' follower -> leader: acknowledge; payload = last durable index (8)
//	'A' leader -> follower: append; payload = first index (8), then per
//	    entry: origin (4: 0 the leader, else the follower's number), tag (8),
//	    length (4), bytes
//	'C' leader -> follower: commit; payload = commit index (8)
//	'I' leader -> follower, first: the follower's number (4), the origin of
//	    its writes in appends

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// logger makes a write durable (standalone) or committed (ensemble) before
// it is answered.
type logger interface {
	commit(n int)
}

// logFile is a preallocated log written in place, wrapping around.
type logFile struct {
	f   *os.File
	off int64
}

func (l *logFile) append(b []byte) error {
	if l.off+int64(len(b)) > logSize {
		l.off = 0
	}
	if len(b) > logSize {
		b = b[:logSize]
	}
	if _, err := l.f.WriteAt(b, l.off); err != nil {
		return err
	}
	l.off += int64(len(b))
	return nil
}

func (l *logFile) sync() error { return syscall.Fdatasync(int(l.f.Fd())) }

func openLog(path string) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	zero := make([]byte, 1<<20)
	for off := int64(0); off < logSize; off += int64(len(zero)) {
		if _, err := f.WriteAt(zero, off); err != nil {
			return nil, err
		}
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	return &logFile{f: f}, nil
}

// peerConn is one end of a leader-follower connection; sends take mu.
type peerConn struct {
	nc net.Conn
	mu sync.Mutex
}

func (p *peerConn) send(typ byte, payload ...[]byte) error {
	n := 0
	for _, b := range payload {
		n += len(b)
	}
	buf := make([]byte, 5, 5+n)
	buf[0] = typ
	binary.BigEndian.PutUint32(buf[1:], uint32(n))
	for _, b := range payload {
		buf = append(buf, b...)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.nc.Write(buf)
	return err
}

func readPeerFrame(br *bufio.Reader, buf []byte) (byte, []byte, error) {
	var h [5]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[1:])
	if n > 64<<20 {
		return 0, nil, fmt.Errorf("peer frame of %d bytes", n)
	}
	if int(n) > cap(buf) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err := io.ReadFull(br, buf)
	return h[0], buf, err
}

// entry is a write waiting for its index.
type entry struct {
	origin uint32
	tag    uint64
	n      int
	done   chan struct{} // the leader's own clients' writes
}

// waiter is a write of this member's clients with its index.
type waiter struct {
	index uint64
	done  chan struct{}
}

// leader is the ensemble floor's leader.
type leader struct {
	log  *logFile
	wake chan struct{}

	mu        sync.Mutex
	queue     []entry
	next      uint64 // index of the next entry
	durable   uint64 // last index written and fdatasynced here
	committed uint64
	local     []waiter // own clients' writes, in index order
	followers []*follower
}

// follower is the leader's view of one follower.
type follower struct {
	id  uint32
	pc  *peerConn
	ack uint64
}

func newLeader(lf *logFile, ln net.Listener) *leader {
	l := &leader{log: lf, wake: make(chan struct{}, 1), next: 1}
	go l.acceptPeers(ln)
	go l.run()
	return l
}

func (l *leader) commit(n int) {
	done := make(chan struct{})
	l.enqueue(entry{n: n, done: done})
	<-done
}

func (l *leader) enqueue(e entry) {
	l.mu.Lock()
	l.queue = append(l.queue, e)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *leader) acceptPeers(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			slog.Error("floorserver: peer accept", "err", err)
			os.Exit(1)
		}
		l.mu.Lock()
		f := &follower{id: uint32(len(l.followers) + 1), pc: &peerConn{nc: nc}}
		// The number goes out before the follower can get an append.
		if err := f.pc.send('I', binary.BigEndian.AppendUint32(nil, f.id)); err != nil {
			l.mu.Unlock()
			nc.Close()
			continue
		}
		l.followers = append(l.followers, f)
		l.mu.Unlock()
		go l.serveFollower(f)
	}
}

func (l *leader) serveFollower(f *follower) {
	br := bufio.NewReaderSize(f.pc.nc, 64<<10)
	var buf []byte
	for {
		typ, p, err := readPeerFrame(br, buf)
		if err != nil {
			slog.Error("floorserver: follower gone", "id", f.id, "err", err)
			os.Exit(1)
		}
		buf = p
		switch {
		case typ == 'F' && len(p) >= 8:
			l.enqueue(entry{origin: f.id, tag: binary.BigEndian.Uint64(p), n: len(p) - 8})
		case typ == 'K' && len(p) == 8:
			l.mu.Lock()
			f.ack = max(f.ack, binary.BigEndian.Uint64(p))
			c := l.advance()
			l.mu.Unlock()
			l.announce(c)
		default:
			slog.Error("floorserver: bad peer frame", "type", typ)
			os.Exit(1)
		}
	}
}

// advance moves the commit index to what the leader and one follower hold
// and releases the leader's own clients' writes up to it; it returns the
// new commit index to announce (0: unchanged). The caller holds mu.
func (l *leader) advance() uint64 {
	var best uint64
	for _, f := range l.followers {
		best = max(best, f.ack)
	}
	c := min(best, l.durable)
	if c <= l.committed {
		return 0
	}
	l.committed = c
	i := 0
	for ; i < len(l.local) && l.local[i].index <= c; i++ {
		close(l.local[i].done)
	}
	l.local = l.local[i:]
	return c
}

// announce sends commit index c (if not 0) to every follower.
func (l *leader) announce(c uint64) {
	if c == 0 {
		return
	}
	l.mu.Lock()
	fs := l.followers
	l.mu.Unlock()
	b := binary.BigEndian.AppendUint64(nil, c)
	for _, f := range fs {
		f.pc.send('C', b)
	}
}

func (l *leader) run() {
	var q []entry
	var payload []byte
	for range l.wake {
		l.mu.Lock()
		q, l.queue = l.queue, q[:0]
		if len(q) == 0 {
			l.mu.Unlock()
			continue
		}
		first := l.next
		l.next += uint64(len(q))
		for i, e := range q {
			if e.done != nil {
				l.local = append(l.local, waiter{index: first + uint64(i), done: e.done})
			}
		}
		fs := l.followers
		l.mu.Unlock()
		payload = binary.BigEndian.AppendUint64(payload[:0], first)
		for _, e := range q {
			payload = binary.BigEndian.AppendUint32(payload, e.origin)
			payload = binary.BigEndian.AppendUint64(payload, e.tag)
			payload = binary.BigEndian.AppendUint32(payload, uint32(e.n))
			payload = append(payload, zeros[:min(e.n, len(zeros))]...)
		}
		for _, f := range fs {
			f.pc.send('A', payload)
		}
		if err := l.log.append(payload); err != nil {
			slog.Error("floorserver: log write", "err", err)
			os.Exit(1)
		}
		if err := l.log.sync(); err != nil {
			slog.Error("floorserver: fdatasync", "err", err)
			os.Exit(1)
		}
		l.mu.Lock()
		l.durable = first + uint64(len(q)) - 1
		c := l.advance()
		l.mu.Unlock()
		l.announce(c)
	}
}

// followerNode is the ensemble floor's follower.
type followerNode struct {
	log *logFile
	pc  *peerConn
	id  uint32 // the origin of this follower's writes ('I'), under mu

	mu      sync.Mutex
	tag     uint64
	waiting map[uint64]chan struct{} // forwarded, index not known yet
	indexed []waiter                 // index known, in index order
	known   uint64                   // the leader's commit index, as last heard
}

// dialLeader connects to the leader, retrying for up to a minute (the
// members of an ensemble start together, the leader preallocating its
// log first).
func dialLeader(lf *logFile, addr string) (*followerNode, error) {
	var nc net.Conn
	var err error
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if nc, err = net.Dial("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	f := &followerNode{log: lf, pc: &peerConn{nc: nc}, waiting: map[uint64]chan struct{}{}}
	go f.run()
	return f, nil
}

func (f *followerNode) commit(n int) {
	done := make(chan struct{})
	f.mu.Lock()
	f.tag++
	tag := f.tag
	f.waiting[tag] = done
	f.mu.Unlock()
	if err := f.pc.send('F', binary.BigEndian.AppendUint64(nil, tag), zeros[:min(n, len(zeros))]); err != nil {
		slog.Error("floorserver: forward", "err", err)
		os.Exit(1)
	}
	<-done
}

func (f *followerNode) run() {
	br := bufio.NewReaderSize(f.pc.nc, 1<<20)
	var buf []byte
	var last uint64
	for {
		typ, p, err := readPeerFrame(br, buf)
		if err != nil {
			slog.Error("floorserver: leader gone", "err", err)
			os.Exit(1)
		}
		buf = p
		switch typ {
		case 'A':
			if last, err = f.appendFrame(p); err != nil {
				slog.Error("floorserver: append", "err", err)
				os.Exit(1)
			}
			// Everything that has arrived goes into the same fdatasync.
			for br.Buffered() >= 5 {
				if h, _ := br.Peek(5); h[0] != 'A' || br.Buffered() < 5+int(binary.BigEndian.Uint32(h[1:])) {
					break
				}
				_, p, err := readPeerFrame(br, buf)
				if err != nil {
					slog.Error("floorserver: leader gone", "err", err)
					os.Exit(1)
				}
				buf = p
				if last, err = f.appendFrame(p); err != nil {
					slog.Error("floorserver: append", "err", err)
					os.Exit(1)
				}
			}
			if err := f.log.sync(); err != nil {
				slog.Error("floorserver: fdatasync", "err", err)
				os.Exit(1)
			}
			f.pc.send('K', binary.BigEndian.AppendUint64(nil, last))
		case 'I':
			if len(p) != 4 {
				slog.Error("floorserver: bad id frame")
				os.Exit(1)
			}
			f.mu.Lock()
			f.id = binary.BigEndian.Uint32(p)
			f.mu.Unlock()
		case 'C':
			if len(p) != 8 {
				slog.Error("floorserver: bad commit frame")
				os.Exit(1)
			}
			f.release(binary.BigEndian.Uint64(p))
		default:
			slog.Error("floorserver: bad peer frame", "type", typ)
			os.Exit(1)
		}
	}
}

// appendFrame writes an append frame's entries to the log, learns the
// indexes of this follower's forwarded writes, and returns the last index.
func (f *followerNode) appendFrame(p []byte) (uint64, error) {
	if len(p) < 8 {
		return 0, errors.New("short append")
	}
	if err := f.log.append(p); err != nil {
		return 0, err
	}
	index := binary.BigEndian.Uint64(p) - 1
	rest := p[8:]
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(rest) > 0 {
		if len(rest) < 16 {
			return 0, errors.New("short entry")
		}
		origin, tag, n := binary.BigEndian.Uint32(rest), binary.BigEndian.Uint64(rest[4:]), int(binary.BigEndian.Uint32(rest[12:]))
		if len(rest) < 16+n {
			return 0, errors.New("short entry data")
		}
		rest = rest[16+n:]
		index++
		if origin != f.id {
			continue
		}
		if done, ok := f.waiting[tag]; ok {
			delete(f.waiting, tag)
			f.indexed = append(f.indexed, waiter{index: index, done: done})
		}
	}
	return index, nil
}

func (f *followerNode) release(c uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c <= f.known {
		return
	}
	f.known = c
	i := 0
	for ; i < len(f.indexed) && f.indexed[i].index <= c; i++ {
		close(f.indexed[i].done)
	}
	f.indexed = f.indexed[i:]
}
