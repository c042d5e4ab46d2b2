// Package fourlw compares Warren's four-letter words with Apache ZooKeeper
// 3.8.0's: both servers are put in the same state with the same raw
// requests, every word is asked of both, and the answers are compared line
// by line after canon (canon_test.go) has masked the values that
// legitimately differ. Without Java and the zookeeper package the tests skip
// loudly (and fail when CI=true), as internal/testutil/zkoracle does.
package fourlw

import (
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
	"github.com/warren-zk/warren/internal/testutil/zkoracle"
	"github.com/warren-zk/warren/tests/compat/rawzk"
)

// words are the whitelisted words compared in every state, in the order
// they are asked. The ones that change state (crst, srst, stmk) have their
// own steps.
var words = []string{"ruok", "isro", "gtmk", "srvr", "stat", "cons", "conf", "envi", "dirs",
	"mntr", "wchs", "wchc", "wchp", "dump", "hash"}

// ask sends a four-letter word on a new connection and returns the answer.
func ask(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: dial: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, cmd); err != nil {
		t.Fatalf("%s: send %q: %v", addr, cmd[:4], err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%s: %q: read: %v (got %q)", addr, cmd[:4], err, b)
	}
	return string(b)
}

type pair struct{ zk, warren string } // addresses

// compare asks word (cmd: the bytes sent) of both servers and compares the
// answers structurally.
func compare(t *testing.T, p pair, word, cmd string) {
	t.Helper()
	zkOut := ask(t, p.zk, cmd)
	wOut := ask(t, p.warren, cmd)
	if word == "mntr" {
		if diffs := compareMntr(zkOut, wOut); len(diffs) > 0 {
			t.Errorf("mntr differs from ZooKeeper's:\n%s\n--- zookeeper (core keys first) ---\n%s\n--- warren ---\n%s",
				strings.Join(diffs, "\n"), head(zkOut, 30), wOut)
		}
		return
	}
	zc, zerr := canon(word, zkOut)
	wc, werr := canon(word, wOut)
	if zerr != nil {
		t.Errorf("%s: zookeeper's answer: %v\n%q", word, zerr, zkOut)
	}
	if werr != nil {
		t.Errorf("%s: warren's answer: %v\n%q", word, werr, wOut)
	}
	if d := cmp.Diff(zc, wc); d != "" {
		t.Errorf("%s: layout differs from ZooKeeper's (-zookeeper +warren, canonical lines):\n%s\n--- zookeeper ---\n%s\n--- warren ---\n%s",
			word, d, zkOut, wOut)
	}
}

func head(s string, n int) string {
	ls := strings.SplitN(s, "\n", n+1)
	if len(ls) > n {
		ls = ls[:n]
	}
	return strings.Join(ls, "\n")
}

func compareAll(t *testing.T, p pair) {
	t.Helper()
	for _, w := range words {
		compare(t, p, w, w)
	}
}

func stmk(mask uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], mask)
	return "stmk" + string(b[:])
}

// client is one raw-socket session, kept open until the test ends.
type client struct {
	t *testing.T
	c *rawzk.Conn
	r *proto.ConnectResponse
}

func connect(t *testing.T, addr string, sid int64, pw []byte) *client {
	t.Helper()
	c, err := rawzk.Dial(addr, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: dial: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	r, _, err := c.Connect(rawzk.ConnectOptions{TimeoutMs: 30000, SessionID: sid, Passwd: pw})
	if err != nil {
		t.Fatalf("%s: connect: %v", addr, err)
	}
	if r.TimeOut == 0 {
		t.Fatalf("%s: session 0x%x refused", addr, sid)
	}
	return &client{t, c, r}
}

func (c *client) call(xid int32, op proto.OpCode, req proto.Record) {
	c.t.Helper()
	f, evs, err := c.c.Call(xid, op, req)
	if err != nil {
		c.t.Fatalf("%v: %v", op, err)
	}
	if f.Header.Err != 0 || f.Header.Xid != xid || len(evs) != 0 {
		c.t.Fatalf("%v: reply xid %d err %d, %d events", op, f.Header.Xid, f.Header.Err, len(evs))
	}
}

// populate gives a server the scenario's state: session A creates /a, /a/b
// and the ephemeral /e and sets an exists watch on /a/b; session B sets a
// data watch on /a, a child watch on /a and an exists watch on /a/b;
// session C is created on one socket and re-attached on another, so its
// connection has answered nothing yet; session D has just been created. Fewer than 128 transactions are
// made, so ZooKeeper's digest log (hash) stays empty. The sockets stay open
// until the test ends.
func populate(t *testing.T, addr string) {
	t.Helper()
	a := connect(t, addr, 0, nil)
	b := connect(t, addr, 0, nil)
	a.call(1, proto.OpCreate, &proto.CreateRequest{Path: "/a", Data: []byte("hello"), Acl: proto.OpenACLUnsafe})
	a.call(2, proto.OpCreate, &proto.CreateRequest{Path: "/a/b", Data: []byte("x"), Acl: proto.OpenACLUnsafe})
	a.call(3, proto.OpCreate, &proto.CreateRequest{Path: "/e", Data: []byte("eph"), Acl: proto.OpenACLUnsafe, Flags: proto.ModeEphemeral})
	b.call(1, proto.OpGetData, &proto.GetDataRequest{Path: "/a", Watch: true})
	b.call(2, proto.OpGetChildren, &proto.GetChildrenRequest{Path: "/a", Watch: true})
	a.call(4, proto.OpExists, &proto.ExistsRequest{Path: "/a/b", Watch: true})
	b.call(3, proto.OpExists, &proto.ExistsRequest{Path: "/a/b", Watch: true})
	c1 := connect(t, addr, 0, nil)
	connect(t, addr, c1.r.SessionID, c1.r.Passwd)
	// The server closes the session's first socket; wait for it, so that
	// both servers list the same connections.
	if _, err := c1.c.ReadAll(); err != nil {
		t.Fatalf("%s: the re-attached session's old socket was not closed: %v", addr, err)
	}
	connect(t, addr, 0, nil) // session D: only its createSession answered
}

// TestFourLetterWordsMatchZooKeeper compares every whitelisted word on a
// fresh server, after populate, after crst and after srst.
func TestFourLetterWordsMatchZooKeeper(t *testing.T) {
	t.Parallel()
	start := time.Now()
	zk := zkoracle.Start(t, nil) // tickTime 2000, all words whitelisted
	w := warrentest.Start(t, nil)
	p := pair{zk.Addr, w.Addr}

	t.Run("fresh", func(t *testing.T) { compareAll(t, p) })

	t.Run("tracemask", func(t *testing.T) {
		for _, mask := range []uint64{0x1f, 1 << 63, ^uint64(0), 306} {
			compare(t, p, "stmk", stmk(mask))
			compare(t, p, "gtmk", "gtmk")
		}
	})

	populate(t, zk.Addr)
	populate(t, w.Addr)
	t.Run("populated", func(t *testing.T) { compareAll(t, p) })

	t.Run("crst", func(t *testing.T) {
		compare(t, p, "crst", "crst")
		compare(t, p, "cons", "cons")
		compare(t, p, "stat", "stat")
	})
	t.Run("srst", func(t *testing.T) {
		compare(t, p, "srst", "srst")
		compare(t, p, "srvr", "srvr")
		compare(t, p, "mntr", "mntr")
	})
	t.Logf("compared with ZooKeeper in %v", time.Since(start).Round(time.Millisecond))
}

// TestNotWhitelistedMatchesZooKeeper compares the answer to a known word
// that is not whitelisted (only ruok, and srvr which is always on).
func TestNotWhitelistedMatchesZooKeeper(t *testing.T) {
	t.Parallel()
	zk := zkoracle.Start(t, &zkoracle.Options{ExtraConfig: map[string]string{"4lw.commands.whitelist": "ruok"}})
	w := warrentest.Start(t, &warrentest.Options{Config: func(c *config.Config) {
		c.FourLetterWords = map[string]bool{"ruok": true}
	}})
	p := pair{zk.Addr, w.Addr}
	for _, word := range []string{"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
		"mntr", "srst", "stat", "stmk", "wchc", "wchp", "wchs"} {
		zkOut, wOut := ask(t, p.zk, word), ask(t, p.warren, word)
		if want := word + " is not executed because it is not in the whitelist.\n"; zkOut != want {
			t.Errorf("%s: zookeeper answered %q, the reference says %q", word, zkOut, want)
		}
		if wOut != zkOut {
			t.Errorf("%s: warren answered %q, zookeeper %q", word, wOut, zkOut)
		}
	}
	compare(t, p, "ruok", "ruok")
	compare(t, p, "srvr", "srvr")
}
