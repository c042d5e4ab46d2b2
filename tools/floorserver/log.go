package main

// The floor's log. A leader group-commits every write: it takes all the
// writes queued while its previous group was being made durable, sends
// them to every follower in one frame, writes and fdatasyncs them itself,
// and commits a group once it is durable on the leader and, in an
// ensemble, on one follower (a majority of three). A standalone floor is a
// leader that needs no follower. A follower writes and fdatasyncs what it
// receives (every frame that has arrived, then one fdatasync),
// acknowledges the last index, and forwards its own clients' writes to the
// leader, answering them once the leader's commit index passes them.
//
// Peer frames: a type byte, a 32-bit big-endian payload length, the
// payload.
//
//	'I' leader -> follower, first: the follower's number (4), the origin of
//	    its writes in appends
//	'F' follower -> leader: forward; payload = tag (8 bytes) + the write
//	'K' follower -> leader: acknowledge; payload = last durable index (8)
//	'A' leader -> follower: append; payload = first index (8), then per
//	    entry: origin (4: 0 the leader, else the follower's number), tag (8),
//	    length (4), bytes
//	'C' leader -> follower: commit; payload = commit index (8)
//
// Lock order: leader.mu before a peerConn's mu (only the 'I' frame is sent
// with both held).

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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

// logSize is the preallocated log; writes wrap around in it.
const logSize = 64 << 20

// zeros are the bytes logged for a request (its length, up to 4 KiB).
var zeros = make([]byte, 4096)

// logFile is a preallocated log written in place, wrapping around.
type logFile struct {
	f   *os.File
	off int64
}

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

// appendSync writes b at the log's end and fdatasyncs it.
func (l *logFile) appendSync(b []byte) error {
	if len(b) > logSize {
		b = b[:logSize]
	}
	if l.off+int64(len(b)) > logSize {
		l.off = 0
	}
	if _, err := l.f.WriteAt(b, l.off); err != nil {
		return err
	}
	l.off += int64(len(b))
	return syscall.Fdatasync(int(l.f.Fd()))
}

// peerConn is one end of a leader-follower connection; sends take mu.
type peerConn struct {
	nc net.Conn
	mu sync.Mutex
}

// send writes one frame (header and payload in one writev).
func (p *peerConn) send(typ byte, payload ...[]byte) error {
	var h [5]byte
	n := 0
	for _, b := range payload {
		n += len(b)
	}
	h[0] = typ
	binary.BigEndian.PutUint32(h[1:], uint32(n))
	bufs := append(net.Buffers{h[:]}, payload...)
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := bufs.WriteTo(p.nc)
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

// frameBuffered reports whether a whole peer frame is already buffered
// (without reading: Peek of more than is buffered would wait for it).
func frameBuffered(br *bufio.Reader) bool {
	if br.Buffered() < 5 {
		return false
	}
	h, _ := br.Peek(5)
	return br.Buffered() >= 5+int(binary.BigEndian.Uint32(h[1:]))
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

// release closes the done channels of the waiters up to index c and
// returns the rest.
func release(ws []waiter, c uint64) []waiter {
	i := 0
	for ; i < len(ws) && ws[i].index <= c; i++ {
		close(ws[i].done)
	}
	return ws[i:]
}

// leader is the floor's log: the standalone floor's, or an ensemble
// floor's leader.
type leader struct {
	log  *logFile
	acks int // follower acknowledgements a commit needs: 0 standalone, 1 in an ensemble of three
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

// newLeader starts a leader; with ln (an ensemble's leader) it takes
// followers there and commits on one follower's acknowledgement too.
func newLeader(lf *logFile, ln net.Listener) *leader {
	l := &leader{log: lf, wake: make(chan struct{}, 1), next: 1}
	if ln != nil {
		l.acks = 1
		go l.acceptPeers(ln)
	}
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
			fatal("peer accept", err)
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
			fatal(fmt.Sprintf("follower %d gone", f.id), err)
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
			fatal("peer", fmt.Errorf("bad frame type %q", typ))
		}
	}
}

// advance moves the commit index to what the leader and l.acks followers
// hold and releases the leader's own clients' writes up to it; it returns
// the new commit index to announce (0: unchanged). The caller holds mu.
func (l *leader) advance() uint64 {
	c := l.durable
	if l.acks > 0 {
		var best uint64
		for _, f := range l.followers {
			best = max(best, f.ack)
		}
		c = min(c, best)
	}
	if c <= l.committed {
		return 0
	}
	l.committed = c
	l.local = release(l.local, c)
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
		if err := l.log.appendSync(payload); err != nil {
			fatal("log", err)
		}
		l.mu.Lock()
		l.durable = first + uint64(len(q)) - 1
		c := l.advance()
		l.mu.Unlock()
		l.announce(c)
	}
}

// followerNode is an ensemble floor's follower.
type followerNode struct {
	log *logFile
	pc  *peerConn

	mu      sync.Mutex
	id      uint32                   // the origin of this follower's writes ('I')
	tag     uint64                   // the last forwarded write's
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
		fatal("forward", err)
	}
	<-done
}

func (f *followerNode) run() {
	br := bufio.NewReaderSize(f.pc.nc, 1<<20)
	var buf, appends []byte
	var last uint64
	for {
		typ, p, err := readPeerFrame(br, buf)
		if err != nil {
			fatal("leader gone", err)
		}
		buf = p
		switch {
		case typ == 'A':
			if last, err = f.learn(p); err != nil {
				fatal("append", err)
			}
			appends = append(appends, p...)
		case typ == 'I' && len(p) == 4:
			f.mu.Lock()
			f.id = binary.BigEndian.Uint32(p)
			f.mu.Unlock()
		case typ == 'C' && len(p) == 8:
			f.mu.Lock()
			if c := binary.BigEndian.Uint64(p); c > f.known {
				f.known = c
				f.indexed = release(f.indexed, c)
			}
			f.mu.Unlock()
		default:
			fatal("peer", fmt.Errorf("bad frame type %q", typ))
		}
		// Every append that has arrived goes into the same fdatasync.
		if len(appends) > 0 && !frameBuffered(br) {
			if err := f.log.appendSync(appends); err != nil {
				fatal("log", err)
			}
			appends = appends[:0]
			f.pc.send('K', binary.BigEndian.AppendUint64(nil, last))
		}
	}
}

// learn reads an append frame's entries: it finds the indexes of this
// follower's forwarded writes and returns the frame's last index.
func (f *followerNode) learn(p []byte) (uint64, error) {
	if len(p) < 8 {
		return 0, errors.New("short append")
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
