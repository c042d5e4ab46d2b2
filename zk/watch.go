package zk

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/warren-zk/warren/internal/proto"
)

// Watch delivery policy
//
// Events are dispatched on the connection's read loop, which must never
// block on a consumer:
//   - A one-shot watch (GetW, ExistsW, ChildrenW) has its own channel with
//     room for exactly the one event it will ever carry; it is closed after
//     that event.
//   - A persistent Watcher (AddWatch) has a channel buffered to
//     WithWatcherBuffer events (default 1024). If the consumer lets it fill
//     up, the Watcher is ended: no event is dropped silently from the middle
//     of a stream; instead the channel is closed after the events already in
//     it, Err reports ErrWatcherOverflow, and the server-side watch is
//     removed. The consumer should resynchronise (re-read what it watches)
//     and add a new Watcher.

type watchKind int

const (
	kindData  watchKind = iota // getData, or exists on an existing node
	kindExist                  // exists on a missing node
	kindChild                  // getChildren
)

type watchTable struct {
	oneShot [3]map[string][]chan Event // by kind, by client path
	pers    map[string][]*Watcher      // persistent, by client path
	rec     map[string][]*Watcher      // persistent recursive, by client path
	adding  map[watchKey]int           // addWatch requests not answered yet
}

type watchKey struct {
	path      string
	recursive bool
}

func newWatchTable() watchTable {
	return watchTable{
		oneShot: [3]map[string][]chan Event{{}, {}, {}},
		pers:    map[string][]*Watcher{},
		rec:     map[string][]*Watcher{},
		adding:  map[watchKey]int{},
	}
}

func (t *watchTable) persistent(recursive bool) map[string][]*Watcher {
	if recursive {
		return t.rec
	}
	return t.pers
}

// addOneShot registers ch (called on the read loop, with the reply).
func (c *Conn) addOneShot(kind watchKind, path string, ch chan Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended != nil {
		ch <- Event{Type: EventNotWatching, Path: path, Err: c.ended}
		close(ch)
		return
	}
	m := c.watches.oneShot[kind]
	m[path] = append(m[path], ch)
}

// dispatch delivers a notification from the server (on the read loop).
func (c *Conn) dispatch(we proto.WatcherEvent) {
	path := c.clientPath(we.Path)
	ev := Event{Type: EventType(we.Type), Path: path}
	c.mu.Lock()
	defer c.mu.Unlock()
	var fire []watchKind
	switch ev.Type {
	case EventNodeCreated, EventNodeDataChanged:
		fire = []watchKind{kindData, kindExist}
	case EventNodeChildrenChanged:
		fire = []watchKind{kindChild}
	case EventNodeDeleted:
		fire = []watchKind{kindData, kindExist, kindChild}
	default:
		c.log.Warn("unknown event type from server", "type", we.Type, "path", we.Path)
		return
	}
	for _, k := range fire {
		m := c.watches.oneShot[k]
		for _, ch := range m[path] {
			ch <- ev
			close(ch)
		}
		delete(m, path)
	}
	// sendLocked may remove an overflowing Watcher from the table; the
	// table's slices are never modified in place, so ranging is safe.
	for _, w := range c.watches.pers[path] {
		w.sendLocked(ev)
	}
	if ev.Type != EventNodeChildrenChanged && strings.HasPrefix(path, "/") {
		for p := path; ; p = parent(p) {
			for _, w := range c.watches.rec[p] {
				w.sendLocked(ev)
			}
			if p == "/" {
				break
			}
		}
	}
}

func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// notifyPersistentLocked tells every persistent Watcher about a connection
// state change.
func (c *Conn) notifyPersistentLocked(s State) {
	for _, m := range []map[string][]*Watcher{c.watches.pers, c.watches.rec} {
		for _, ws := range m {
			for _, w := range ws {
				w.sendLocked(Event{Type: EventSession, State: s})
			}
		}
	}
}

// endWatches ends every watch with err (the Conn is dead).
func (c *Conn) endWatches(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended != nil {
		return
	}
	c.ended = err
	for k, m := range c.watches.oneShot {
		for path, chs := range m {
			for _, ch := range chs {
				ch <- Event{Type: EventNotWatching, Path: path, Err: err}
				close(ch)
			}
		}
		c.watches.oneShot[k] = map[string][]chan Event{}
	}
	for _, m := range []map[string][]*Watcher{c.watches.pers, c.watches.rec} {
		for path, ws := range m {
			for _, w := range ws {
				w.endLocked(Event{Type: EventNotWatching, Path: path, Err: err}, err)
			}
			delete(m, path)
		}
	}
}

// primeRequests returns what a new connection sends before anything else:
// the session's credentials, then SetWatches (or SetWatches2 when there are
// persistent watches) re-arming every watch, in batches of about 128 KiB of
// paths like the Java client.
func (c *Conn) primeRequests() (prime, auths []*request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.auth {
		r := newRequest(proto.OpAuth, &proto.AuthPacket{Scheme: a.scheme, Auth: a.auth}, nil)
		prime = append(prime, r)
		auths = append(auths, r)
	}
	var lists [5][]string
	for k := range c.watches.oneShot {
		for p := range c.watches.oneShot[k] {
			lists[k] = append(lists[k], c.serverPath(p))
		}
	}
	for p := range c.watches.pers {
		lists[3] = append(lists[3], c.serverPath(p))
	}
	for p := range c.watches.rec {
		lists[4] = append(lists[4], c.serverPath(p))
	}
	total := 0
	for i := range lists {
		sort.Strings(lists[i])
		total += len(lists[i])
	}
	if total == 0 {
		return prime, auths
	}
	v2 := len(lists[3])+len(lists[4]) > 0
	rel := c.lastZxid.Load()
	var cur [5][]string
	size := 0
	flush := func() {
		var r *request
		if v2 {
			r = newRequest(proto.OpSetWatches2, &proto.SetWatches2{RelativeZxid: rel,
				DataWatches: cur[0], ExistWatches: cur[1], ChildWatches: cur[2],
				PersistentWatches: cur[3], PersistentRecursiveWatches: cur[4]}, nil)
		} else {
			r = newRequest(proto.OpSetWatches, &proto.SetWatches{RelativeZxid: rel,
				DataWatches: cur[0], ExistWatches: cur[1], ChildWatches: cur[2]}, nil)
		}
		r.onReply = func(err error) {
			if err != nil {
				c.log.Warn("setWatches refused", "err", err)
			}
		}
		prime = append(prime, r)
		cur, size = [5][]string{}, 0
	}
	for i, list := range lists {
		for _, p := range list {
			if size > 0 && size+len(p) > setWatchesMaxBytes {
				flush()
			}
			cur[i] = append(cur[i], p)
			size += len(p)
		}
	}
	flush()
	return prime, auths
}

const setWatchesMaxBytes = 128 * 1024

// Watcher is a persistent watch (AddWatch): it stays armed after firing,
// across reconnects, until Close, RemoveWatches, or the end of the Conn.
type Watcher struct {
	c         *Conn
	path      string
	recursive bool
	ch        chan Event
	ended     bool  // guarded by c.mu
	err       error // guarded by c.mu
}

// Events returns the watch's events, in the order the server sent them. Node
// events carry the node's path (for a recursive watch, the descendant that
// changed). EventSession events report disconnects and reconnects: events
// that happened while disconnected are not replayed. The channel is closed
// when the watch ends; Err then says why.
func (w *Watcher) Events() <-chan Event { return w.ch }

// Path returns the watched path.
func (w *Watcher) Path() string { return w.path }

// Recursive reports whether the watch covers the whole subtree.
func (w *Watcher) Recursive() bool { return w.recursive }

// Err returns why the Events channel was closed: nil after Close or
// RemoveWatches, ErrWatcherOverflow, ErrSessionExpired, ErrClosed, ….
func (w *Watcher) Err() error {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return w.err
}

func (w *Watcher) sendLocked(ev Event) {
	if w.ended {
		return
	}
	select {
	case w.ch <- ev:
	default:
		c := w.c
		c.log.Warn("persistent watch consumer too slow; ending the watch", "path", w.path)
		w.endLocked(Event{}, ErrWatcherOverflow)
		if c.removeWatcherLocked(w) {
			if r := c.dropPersistentLocked(w.path, w.recursive); r != nil {
				c.enqueue(r) // fire and forget: the read loop must not wait
			}
		}
	}
}

// endLocked closes the stream, after last if it fits.
func (w *Watcher) endLocked(last Event, err error) {
	if w.ended {
		return
	}
	if last.Type != 0 {
		select {
		case w.ch <- last:
		default:
		}
	}
	w.ended, w.err = true, err
	close(w.ch)
}

// removeWatcherLocked takes w out of the table and reports whether it was
// the last local Watcher of its kind on its path, so that the server's
// watch can go.
func (c *Conn) removeWatcherLocked(w *Watcher) bool {
	m := c.watches.persistent(w.recursive)
	// Copy, never delete in place: dispatch may be ranging over the old slice.
	ws := slices.DeleteFunc(slices.Clone(m[w.path]), func(x *Watcher) bool { return x == w })
	if len(ws) == 0 {
		delete(m, w.path)
	} else {
		m[w.path] = ws
	}
	return len(ws) == 0 && c.watches.adding[watchKey{w.path, w.recursive}] == 0
}

// dropPersistentLocked returns a removeWatches request for the server's
// persistent watch on path, or nil if it must stay. A 3.8 server does not
// know the persistent watcher types; then type Any is used, but only when
// no other local watch on the path would lose its server-side registration
// (else the server's watch is left and its events ignored).
func (c *Conn) dropPersistentLocked(path string, recursive bool) *request {
	typ := WatcherPersistent
	if recursive {
		typ = WatcherPersistentRecursive
	}
	if c.noTypedRemove.Load() {
		if c.anyWatchLocked(path) {
			return nil
		}
		typ = WatcherAny
	}
	r := newRequest(proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: c.serverPath(path), Type: int32(typ)}, nil)
	r.onReply = func(err error) {
		if errors.Is(err, ErrMarshallingError) && typ != WatcherAny {
			c.noTypedRemove.Store(true)
			c.mu.Lock()
			r2 := c.dropPersistentLocked(path, recursive)
			c.mu.Unlock()
			if r2 != nil {
				c.enqueue(r2)
			}
		}
	}
	return r
}

func (c *Conn) anyWatchLocked(path string) bool {
	for _, m := range c.watches.oneShot {
		if len(m[path]) > 0 {
			return true
		}
	}
	return len(c.watches.pers[path]) > 0 || len(c.watches.rec[path]) > 0 ||
		c.watches.adding[watchKey{path, false}] > 0 || c.watches.adding[watchKey{path, true}] > 0
}

// Close ends the watch: the Events channel is closed and, if no other
// Watcher of this Conn needs it, the server is asked to remove its watch
// (waiting at most the session timeout for the answer). Close is idempotent.
func (w *Watcher) Close() error {
	c := w.c
	c.mu.Lock()
	if w.ended {
		c.mu.Unlock()
		return nil
	}
	w.endLocked(Event{}, nil)
	var r *request
	if c.removeWatcherLocked(w) && c.ended == nil &&
		(c.state == StateConnected || c.state == StateConnectedReadOnly) {
		r = c.dropPersistentLocked(w.path, w.recursive)
	}
	c.mu.Unlock()
	if r == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.SessionTimeout())
	defer cancel()
	err := c.do(ctx, r)
	switch {
	case err == nil, errors.Is(err, ErrNoWatcher), errors.Is(err, ErrMarshallingError),
		errors.Is(err, ErrConnectionLoss), errors.Is(err, ErrClosed), errors.Is(err, ErrSessionExpired):
		// Gone, or will not be re-armed on the next connection anyway.
		return nil
	}
	return opError(proto.OpRemoveWatches.String(), w.path, err)
}

// AddWatch adds a persistent watch on path (addWatch, ZooKeeper 3.6+). It
// fires for NodeCreated, NodeDeleted, NodeDataChanged and
// NodeChildrenChanged of path; if recursive, for NodeCreated, NodeDeleted
// and NodeDataChanged of path and every descendant (never
// NodeChildrenChanged). The node need not exist. Events come in order on
// Events(); see the package documentation for the buffering policy.
func (c *Conn) AddWatch(ctx context.Context, path string, recursive bool) (*Watcher, error) {
	const op = "addWatch"
	if err := checkPath(path); err != nil {
		return nil, opError(op, path, err)
	}
	w := &Watcher{c: c, path: path, recursive: recursive, ch: make(chan Event, c.cfg.watcherBuffer)}
	mode := proto.AddWatchPersistent
	if recursive {
		mode = proto.AddWatchPersistentRecursive
	}
	key := watchKey{path, recursive}
	r := newRequest(proto.OpAddWatch, &proto.AddWatchRequest{Path: c.serverPath(path), Mode: mode}, &proto.ErrorResponse{})
	c.mu.Lock()
	c.watches.adding[key]++
	c.mu.Unlock()
	done := func() {
		if c.watches.adding[key]--; c.watches.adding[key] <= 0 {
			delete(c.watches.adding, key)
		}
	}
	r.onReply = func(err error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		done()
		if err != nil {
			return
		}
		if c.ended != nil {
			w.endLocked(Event{Type: EventNotWatching, Path: path, Err: c.ended}, c.ended)
			return
		}
		m := c.watches.persistent(recursive)
		m[path] = append(slices.Clip(m[path]), w) // never write into a slice dispatch may hold
	}
	err := c.do(ctx, r)
	if r.phase.Load() != reqReplied {
		c.mu.Lock()
		done()
		c.mu.Unlock()
	}
	if err != nil {
		return nil, opError(op, path, err)
	}
	return w, nil
}

// RemoveWatches asks the server to remove this session's watches of type
// typ on path, and ends the matching local watches: one-shot channels get
// EventDataWatchRemoved or EventChildWatchRemoved, persistent Watchers
// EventPersistentWatchRemoved, and are closed. ErrNoWatcher if the server
// had none.
func (c *Conn) RemoveWatches(ctx context.Context, path string, typ WatcherType) error {
	const op = "removeWatches"
	if err := checkPath(path); err != nil {
		return opError(op, path, err)
	}
	r := newRequest(proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: c.serverPath(path), Type: int32(typ)}, nil)
	r.onReply = func(err error) {
		if err == nil || errors.Is(err, ErrNoWatcher) {
			c.removeLocalWatches(path, typ)
		}
	}
	return opError(op, path, c.do(ctx, r))
}

func (c *Conn) removeLocalWatches(path string, typ WatcherType) {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := func(k watchKind, et EventType) {
		m := c.watches.oneShot[k]
		for _, ch := range m[path] {
			ch <- Event{Type: et, Path: path}
			close(ch)
		}
		delete(m, path)
	}
	endP := func(recursive bool) {
		m := c.watches.persistent(recursive)
		for _, w := range m[path] {
			w.endLocked(Event{Type: EventPersistentWatchRemoved, Path: path}, nil)
		}
		delete(m, path)
	}
	switch typ {
	case WatcherChildren:
		end(kindChild, EventChildWatchRemoved)
	case WatcherData:
		end(kindData, EventDataWatchRemoved)
		end(kindExist, EventDataWatchRemoved)
	case WatcherPersistent:
		endP(false)
	case WatcherPersistentRecursive:
		endP(true)
	case WatcherAny:
		end(kindChild, EventChildWatchRemoved)
		end(kindData, EventDataWatchRemoved)
		end(kindExist, EventDataWatchRemoved)
		endP(false)
		endP(true)
	}
}

// CheckWatches asks the server whether this session has a watch of type typ
// on path: nil if so, ErrNoWatcher if not. It removes nothing.
func (c *Conn) CheckWatches(ctx context.Context, path string, typ WatcherType) error {
	const op = "checkWatches"
	if err := checkPath(path); err != nil {
		return opError(op, path, err)
	}
	r := newRequest(proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: c.serverPath(path), Type: int32(typ)}, nil)
	return opError(op, path, c.do(ctx, r))
}
