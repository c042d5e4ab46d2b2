package shell

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/warren-zk/warren/zk"
)

// A session is one connectToZK: a zk session being established, in use, or
// closed, and the goroutine that prints its notifications.
//
// zkCli sets every watch with its one default watcher, and the Java client
// calls a watcher once per notification however many of its watches match
// (it collects them in a set). The zk package instead gives every watch its
// own channel, so the dispatcher here folds the copies of one notification
// into one printed event.
//
// The dispatcher is the only reader of the session's channels (its state
// changes and every watch), so it can also drain them on demand: before the
// shell prints anything, it asks the dispatcher to print the notifications
// already delivered (the zk package delivers a notification before the reply
// to the request that caused it), which gives the order zkCli's event
// thread practically always shows.
type session struct {
	sh   *Shell
	host string

	ctx    context.Context // canceled by close: stops a connect in progress
	cancel context.CancelFunc
	ready  chan struct{} // closed once connect returned
	client Client        // valid after ready, if err == nil
	err    error

	ctl  chan ctlMsg
	done chan struct{} // closed when the dispatcher has printed everything

	mu         sync.Mutex
	failCh     chan struct{} // closed (and replaced) when a connection attempt fails
	closing    bool          // close was called
	authFailed bool
	terminal   bool // Expired, AuthFailed or Closed printed: nothing more is
	hold       bool // an addauth is under way: keep session events back
	held       []zk.State
	srcs       map[*source]bool
}

// watchKind is the kind of watch behind a source of events.
type watchKind int

const (
	kindData       watchKind = iota // get -w, stat -w, ls -R -w on the root
	kindChild                       // ls -w
	kindPersistent                  // addWatch -m PERSISTENT
	kindRecursive                   // addWatch
)

// source is one watch's channel.
type source struct {
	path     string
	kind     watchKind
	ch       <-chan zk.Event
	consumed bool    // one-shot whose event was already printed from another source
	dups     []evKey // events that were printed from another source and will come here too
	local    bool    // removed (removewatches): its events are not printed
	removing bool    // a removewatches is under way: its *WatchRemoved event is not printed
}

type evKey struct {
	typ  zk.EventType
	path string
}

// ctlMsg is a request to the dispatcher.
type ctlMsg struct {
	states   <-chan zk.State // follow these state changes
	src      *source         // follow this watch
	state    zk.State        // print this session event
	flush    bool            // print what the channels hold
	activate bool            // from now on, print the session's events
	stop     bool            // drain every channel until closed, then exit
	now      bool            // with stop: exit at once
	ack      chan struct{}
}

func newSession(sh *Shell, host string) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{
		sh: sh, host: host, ctx: ctx, cancel: cancel,
		ready:  make(chan struct{}),
		ctl:    make(chan ctlMsg),
		done:   make(chan struct{}),
		failCh: make(chan struct{}),
		srcs:   map[*source]bool{},
	}
}

func (ss *session) start() {
	go ss.dispatch()
	go ss.connect()
}

func (ss *session) dialFailed(error) {
	ss.mu.Lock()
	close(ss.failCh)
	ss.failCh = make(chan struct{})
	ss.mu.Unlock()
}

func (ss *session) connect() {
	c, err := ss.sh.opts.Connect(ss.ctx, ss.host, ss.dialFailed)
	if err == nil {
		// The session's events are printed from the first time a command
		// waits for the session (see wait): zkCli's first notification comes
		// before the output of the first command that needed the server,
		// and a command that did not need it can end zkCli before it comes.
		ss.send(ctlMsg{states: c.StateEvents()})
	}
	ss.client, ss.err = c, err
	close(ss.ready)
}

// send hands m to the dispatcher and waits until it is done.
func (ss *session) send(m ctlMsg) {
	m.ack = make(chan struct{})
	select {
	case ss.ctl <- m:
		<-m.ack
	case <-ss.done:
	}
}

// flush prints the notifications that have arrived.
func (ss *session) flush() { ss.send(ctlMsg{flush: true}) }

// wait returns the client once the session is established, or
// ErrConnectionLoss when an attempt to connect fails first (failFast) or
// the timeout passes.
func (ss *session) wait(failFast bool) (Client, error) { return ss.waitFor(failFast, true) }

// waitFor is wait; activate says whether the session's events are printed
// from now on.
func (ss *session) waitFor(failFast, activate bool) (Client, error) {
	ss.mu.Lock()
	fail := ss.failCh
	ss.mu.Unlock()
	if !failFast {
		fail = nil
	}
	t := time.NewTimer(ss.sh.opts.Timeout)
	defer t.Stop()
	select {
	case <-ss.ready:
		if ss.err != nil {
			return nil, zk.ErrConnectionLoss
		}
		if activate {
			ss.send(ctlMsg{activate: true})
		}
		return ss.client, nil
	case <-fail:
	case <-t.C:
	}
	return nil, zk.ErrConnectionLoss
}

// javaState is the Java client's state name.
func (ss *session) javaState() string {
	ss.mu.Lock()
	closing, authFailed := ss.closing, ss.authFailed
	ss.mu.Unlock()
	switch {
	case authFailed:
		return "AUTH_FAILED"
	case closing:
		return "CLOSED"
	}
	select {
	case <-ss.ready:
	default:
		return "CONNECTING"
	}
	if ss.err != nil {
		return "CLOSED"
	}
	switch ss.client.State() {
	case zk.StateConnected:
		return "CONNECTED"
	case zk.StateConnectedReadOnly:
		return "CONNECTEDREADONLY"
	case zk.StateConnecting, zk.StateDisconnected:
		return "CONNECTING"
	case zk.StateAuthFailed:
		return "AUTH_FAILED"
	}
	return "CLOSED"
}

// close ends the session and waits until its notifications are printed.
// Like the Java client's close, it first waits (a bounded time) for a
// session being established, so that it can be closed properly.
func (ss *session) close(printClosed bool) {
	ss.mu.Lock()
	if ss.closing {
		ss.mu.Unlock()
		return
	}
	ss.mu.Unlock()
	ss.waitFor(true, printClosed)
	ss.mu.Lock()
	ss.closing = true
	if !printClosed {
		ss.terminal = true
	}
	authFailed := ss.authFailed
	ss.mu.Unlock()
	ss.cancel()
	<-ss.ready
	switch {
	case ss.client != nil && authFailed:
		// Nothing more is printed for a dead session. (Closing a zk.Conn
		// right after the server refused its credentials can take the whole
		// session timeout: do not wait for it.)
		go ss.client.Close()
		ss.send(ctlMsg{stop: true, now: true})
	case ss.client != nil:
		ss.client.Close()
		// Every channel of the closed client gets closed: drain them.
		ss.send(ctlMsg{stop: true})
	default:
		if printClosed {
			ss.send(ctlMsg{state: zk.StateClosed})
		}
		ss.send(ctlMsg{stop: true})
	}
	<-ss.done
}

// holdStates keeps session events back while an addauth is under way: if
// the server refuses the credentials it drops the connection, and the zk
// package reconnects, where the Java client just ends up in AUTH_FAILED.
func (ss *session) holdStates() {
	ss.mu.Lock()
	ss.hold = true
	ss.mu.Unlock()
}

// releaseStates prints the session events held back (unless the session
// failed meanwhile).
func (ss *session) releaseStates() {
	ss.flush()
	ss.mu.Lock()
	held := ss.held
	ss.hold, ss.held = false, nil
	dead := ss.authFailed
	ss.mu.Unlock()
	if !dead {
		for _, st := range held {
			ss.send(ctlMsg{state: st})
		}
	}
}

// authFailure makes the session dead, as the Java client's is after an
// addauth the server refused: notify AuthFailed, then drop the connection.
func (ss *session) authFailure() {
	ss.mu.Lock()
	if ss.authFailed || ss.closing {
		ss.mu.Unlock()
		return
	}
	ss.mu.Unlock()
	ss.flush()
	ss.mu.Lock()
	ss.authFailed = true
	ss.hold, ss.held = false, nil
	ss.mu.Unlock()
	ss.send(ctlMsg{state: zk.StateAuthFailed})
}

// --- watches ---

// watch registers a one-shot watch channel.
func (ss *session) watch(path string, kind watchKind, ch <-chan zk.Event) {
	if ch != nil {
		ss.register(&source{path: path, kind: kind, ch: ch})
	}
}

// persistent registers a persistent watch.
func (ss *session) persistent(path string, recursive bool, pw PersistentWatch) {
	kind := kindPersistent
	if recursive {
		kind = kindRecursive
	}
	ss.register(&source{path: path, kind: kind, ch: pw.Events()})
}

func (ss *session) register(src *source) {
	ss.mu.Lock()
	dead := ss.closing || ss.authFailed
	ss.mu.Unlock()
	if !dead {
		ss.send(ctlMsg{src: src})
	}
}

// claimRemoval marks the watches that removing typ from path ends: the zk
// package gives each its own *WatchRemoved event, which the dispatcher
// drops; the shell prints them as the Java client delivers them, once per
// type (removed reports which, in a fixed order).
func (ss *session) claimRemoval(path string, typ zk.WatcherType) (claimed []*source, removed []zk.EventType) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	seen := map[zk.EventType]bool{}
	for src := range ss.srcs {
		if src.path != path || src.consumed || src.local {
			continue
		}
		var et zk.EventType
		switch {
		case src.kind == kindChild && (typ == zk.WatcherChildren || typ == zk.WatcherAny):
			et = zk.EventChildWatchRemoved
		case src.kind == kindData && (typ == zk.WatcherData || typ == zk.WatcherAny):
			et = zk.EventDataWatchRemoved
		case src.kind == kindPersistent && (typ == zk.WatcherPersistent || typ == zk.WatcherAny),
			src.kind == kindRecursive && (typ == zk.WatcherPersistentRecursive || typ == zk.WatcherAny):
			et = zk.EventPersistentWatchRemoved
		default:
			continue
		}
		src.removing = true
		claimed = append(claimed, src)
		seen[et] = true
	}
	for _, et := range []zk.EventType{zk.EventChildWatchRemoved, zk.EventDataWatchRemoved, zk.EventPersistentWatchRemoved} {
		if seen[et] {
			removed = append(removed, et)
		}
	}
	return claimed, removed
}

// settleRemoval ends a removal: the claimed watches are gone (ok), or
// still there; with local, gone from here whatever the server said.
func (ss *session) settleRemoval(claimed []*source, ok, local bool) {
	ss.flush()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, src := range claimed {
		src.removing = false
		if ok || local {
			src.local = true // nothing more is printed from it
		}
	}
}

// receives reports whether src gets notification k, as the zk package
// fans notifications out to its watches.
func receives(src *source, k evKey) bool {
	switch src.kind {
	case kindData:
		return src.path == k.path && (k.typ == zk.EventNodeCreated || k.typ == zk.EventNodeDataChanged ||
			k.typ == zk.EventNodeDeleted)
	case kindChild:
		return src.path == k.path && (k.typ == zk.EventNodeChildrenChanged || k.typ == zk.EventNodeDeleted)
	case kindPersistent:
		return src.path == k.path && (k.typ == zk.EventNodeCreated || k.typ == zk.EventNodeDataChanged ||
			k.typ == zk.EventNodeDeleted || k.typ == zk.EventNodeChildrenChanged)
	case kindRecursive:
		return isAncestorOrSelf(src.path, k.path) && (k.typ == zk.EventNodeCreated ||
			k.typ == zk.EventNodeDataChanged || k.typ == zk.EventNodeDeleted)
	}
	return false
}

func isAncestorOrSelf(a, p string) bool {
	if a == "/" || a == p {
		return true
	}
	return len(p) > len(a) && p[:len(a)] == a && p[len(a)] == '/'
}

func (ss *session) dispatch() {
	defer close(ss.done)
	var states, pendingStates <-chan zk.State
	var srcs []*source // in registration order
	cases := func(withCtl, withDefault bool) []reflect.SelectCase {
		var cs []reflect.SelectCase
		if withCtl {
			cs = append(cs, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ss.ctl)})
		}
		if states != nil {
			cs = append(cs, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(states)})
		}
		for _, src := range srcs {
			cs = append(cs, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(src.ch)})
		}
		if withDefault {
			cs = append(cs, reflect.SelectCase{Dir: reflect.SelectDefault})
		}
		return cs
	}
	// receive handles case i of cases(withCtl, …); it returns the control
	// message, if that is what came.
	receive := func(withCtl bool, i int, v reflect.Value, ok bool) *ctlMsg {
		if withCtl {
			if i == 0 {
				m := v.Interface().(ctlMsg)
				return &m
			}
			i--
		}
		if states != nil {
			if i == 0 {
				if !ok {
					states = nil
				} else {
					ss.handleState(zk.State(v.Int()))
				}
				return nil
			}
			i--
		}
		src := srcs[i]
		if !ok {
			srcs = slices.Delete(srcs, i, i+1)
			ss.mu.Lock()
			delete(ss.srcs, src)
			ss.mu.Unlock()
			return nil
		}
		ss.handleWatch(src, v.Interface().(zk.Event))
		return nil
	}
	drain := func() {
		for {
			i, v, ok := reflect.Select(cases(false, true))
			if i == len(cases(false, true))-1 {
				return
			}
			receive(false, i, v, ok)
		}
	}
	for {
		i, v, ok := reflect.Select(cases(true, false))
		m := receive(true, i, v, ok)
		if m == nil {
			continue
		}
		switch {
		case m.states != nil:
			pendingStates = m.states
		case m.activate:
			if pendingStates != nil {
				states, pendingStates = pendingStates, nil
			}
			drain()
		case m.src != nil:
			srcs = append(srcs, m.src)
			ss.mu.Lock()
			ss.srcs[m.src] = true
			ss.mu.Unlock()
		case m.state != 0:
			ss.handleState(m.state)
		case m.flush:
			drain()
		case m.stop:
			if pendingStates != nil {
				states, pendingStates = pendingStates, nil
			}
			for !m.now && (states != nil || len(srcs) > 0) {
				i, v, ok := reflect.Select(cases(false, false))
				receive(false, i, v, ok)
			}
			close(m.ack)
			return
		}
		close(m.ack)
	}
}

func (ss *session) handleState(st zk.State) {
	ss.mu.Lock()
	if ss.hold {
		ss.held = append(ss.held, st)
		ss.mu.Unlock()
		return
	}
	if ss.authFailed && st != zk.StateAuthFailed {
		ss.mu.Unlock()
		return
	}
	name := ""
	switch st {
	case zk.StateConnected:
		name = "SyncConnected"
	case zk.StateConnectedReadOnly:
		name = "ConnectedReadOnly"
	case zk.StateDisconnected:
		if !ss.closing {
			name = "Disconnected"
		}
	case zk.StateExpired:
		name = "Expired"
	case zk.StateAuthFailed:
		name = "AuthFailed"
	case zk.StateClosed:
		name = "Closed"
	}
	if ss.terminal {
		name = ""
	}
	if st >= zk.StateExpired {
		ss.terminal = true
	}
	ss.mu.Unlock()
	if name != "" {
		ss.notify(name, "None", "null")
	}
}

func (ss *session) handleWatch(src *source, ev zk.Event) {
	if ev.Type == zk.EventSession || ev.Type == zk.EventNotWatching {
		return
	}
	ss.mu.Lock()
	if removal := ev.Type == zk.EventChildWatchRemoved || ev.Type == zk.EventDataWatchRemoved ||
		ev.Type == zk.EventPersistentWatchRemoved; removal && (src.removing || src.local) {
		src.consumed = true
		ss.mu.Unlock()
		return
	}
	k := evKey{ev.Type, ev.Path}
	if i := slices.Index(src.dups, k); i >= 0 {
		src.dups = src.dups[i+1:]
		ss.mu.Unlock()
		return
	}
	if src.local {
		ss.mu.Unlock()
		return
	}
	for other := range ss.srcs {
		if other == src || other.local || other.consumed || !receives(other, k) {
			continue
		}
		other.dups = append(other.dups, k)
		if other.kind == kindData || other.kind == kindChild {
			other.consumed = true
		}
	}
	if src.kind == kindData || src.kind == kindChild {
		src.consumed = true
	}
	ss.mu.Unlock()
	ss.notify("SyncConnected", ev.Type.String(), ev.Path)
}

// notify prints a WatchedEvent as zkCli's watcher does (if printwatches is on).
func (ss *session) notify(state, typ, path string) {
	sh := ss.sh
	sh.mu.Lock()
	on := sh.printWatches
	sh.mu.Unlock()
	if on {
		sh.rawWrite(sh.opts.Stdout, "\nWATCHER::\n\nWatchedEvent state:"+state+" type:"+typ+" path:"+path+"\n")
	}
}
