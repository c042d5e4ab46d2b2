package zk

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/warren-zk/warren/internal/proto"
)

func TestParseConnectString(t *testing.T) {
	for _, tc := range []struct {
		in      string
		servers []string
		chroot  string
		bad     bool
	}{
		{in: "h1:2181,h2:2182", servers: []string{"h1:2181", "h2:2182"}},
		{in: "h1,h2:1/app", servers: []string{"h1:2181", "h2:1"}, chroot: "/app"},
		{in: "h1/", servers: []string{"h1:2181"}},
		{in: "h1/a/b", servers: []string{"h1:2181"}, chroot: "/a/b"},
		{in: "[::1]:2181,[::1]", servers: []string{"[::1]:2181", "[::1]:2181"}},
		{in: " h1 , ,h2 ", servers: []string{"h1:2181", "h2:2181"}},
		{in: "h1/app/", bad: true},
		{in: "h1/a//b", bad: true},
		{in: "h1/a/../b", bad: true},
		{in: "", bad: true},
		{in: "/app", bad: true},
	} {
		servers, chroot, err := parseConnectString(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parse(%q) = %v %q, want an error", tc.in, servers, chroot)
			}
			continue
		}
		if err != nil || !slices.Equal(servers, tc.servers) || chroot != tc.chroot {
			t.Errorf("parse(%q) = %v %q %v, want %v %q", tc.in, servers, chroot, err, tc.servers, tc.chroot)
		}
	}
}

func TestChrootPaths(t *testing.T) {
	c := &Conn{chroot: "/app"}
	for in, want := range map[string]string{"/": "/app", "/x": "/app/x", "/x/y": "/app/x/y"} {
		if got := c.serverPath(in); got != want {
			t.Errorf("serverPath(%q) = %q, want %q", in, got, want)
		}
		if back := c.clientPath(want); back != in {
			t.Errorf("clientPath(%q) = %q, want %q", want, back, in)
		}
	}
	if got := c.clientPath("/apple"); got != "/apple" { // not inside the chroot
		t.Errorf("clientPath(/apple) = %q", got)
	}
}

func TestErrors(t *testing.T) {
	err := opError("getData", "/a", ErrNoNode)
	if !errors.Is(err, ErrNoNode) || errors.Is(err, ErrNodeExists) {
		t.Fatalf("errors.Is on %v", err)
	}
	var code Code
	if !errors.As(err, &code) || code != ErrNoNode || int32(code) != int32(proto.ErrNoNode) {
		t.Fatalf("errors.As code = %v", code)
	}
	if got := err.Error(); got != "zk: getData /a: node does not exist" {
		t.Fatalf("Error() = %q", got)
	}
	if !errors.Is(err, &Error{Code: ErrNoNode}) || !errors.Is(err, &Error{Op: "getData", Code: ErrNoNode}) ||
		errors.Is(err, &Error{Op: "create", Code: ErrNoNode}) {
		t.Fatal("Error.Is")
	}
	wrapped := fmt.Errorf("loading config: %w", err)
	var ze *Error
	if !errors.As(wrapped, &ze) || ze.Path != "/a" || !errors.Is(wrapped, ErrNoNode) {
		t.Fatal("wrapped *Error")
	}
	cerr := opError("sync", "/", context.DeadlineExceeded)
	if !errors.Is(cerr, context.DeadlineExceeded) || cerr.Error() != "zk: sync /: context deadline exceeded" {
		t.Fatalf("context error %v", cerr)
	}
	if got := opError("auth", "", ErrClosed).Error(); got != "zk: auth: connection closed" {
		t.Fatalf("closed error %q", got)
	}
	if Code(-999).Error() != "zk: unknown error -999" {
		t.Fatal(Code(-999).Error())
	}
	// Every code the protocol defines has a sentinel with a message.
	for c := proto.Err(-130); c < 0; c++ {
		known := proto.Err(c).Message() != fmt.Sprintf("Unknown error %d", c) ||
			c == proto.ErrUnknownSession || c == proto.ErrRequestTimeout
		if known && strings.HasPrefix(Code(c).Error(), "zk: unknown error") {
			t.Errorf("code %d (%s) has no message", c, proto.Err(c).Message())
		}
	}
}

func TestDigestAndPerms(t *testing.T) {
	// Values verified against ZooKeeper (reference/zk-protocol.md §14.3).
	if got := DigestID("bob", "secret"); got != "bob:fyVmFCwVbTJYrznoSu1koqYEYF0=" {
		t.Fatalf("DigestID = %q", got)
	}
	if got := DigestID("super", "test"); got != "super:D/InIHSb7yEEbrWz8b9l71RjZJU=" {
		t.Fatalf("DigestID = %q", got)
	}
	if PermAll.String() != "cdrwa" || (PermRead|PermAdmin).String() != "ra" || int32(PermAll) != proto.PermAll {
		t.Fatal("perms")
	}
}

// TestSetWatchesBatches checks that re-arming many watches is split in
// packets of about 128 KiB of paths, and uses SetWatches2 only when there
// are persistent watches.
func TestSetWatchesBatches(t *testing.T) {
	c := &Conn{chroot: "/root", watches: newWatchTable(), log: slog.New(slog.DiscardHandler),
		auth: []authInfo{{"digest", []byte("a:b")}}}
	long := strings.Repeat("x", 200)
	var want []string
	for i := range 2000 { // ~400 KiB of paths
		p := fmt.Sprintf("/%s/%04d", long, i)
		c.watches.oneShot[i%3][p] = []chan Event{make(chan Event, 1)}
		want = append(want, "/root"+p)
	}
	prime, auths := c.primeRequests()
	if len(auths) != 1 || prime[0] != auths[0] {
		t.Fatalf("auth first: %d auths", len(auths))
	}
	var got []string
	for _, r := range prime[1:] {
		sw, ok := r.body.(*proto.SetWatches)
		if !ok || r.op != proto.OpSetWatches {
			t.Fatalf("prime request %v %T", r.op, r.body)
		}
		size := 0
		for _, l := range [][]string{sw.DataWatches, sw.ExistWatches, sw.ChildWatches} {
			got = append(got, l...)
			for _, p := range l {
				size += len(p)
			}
		}
		if size > setWatchesMaxBytes {
			t.Fatalf("batch of %d bytes", size)
		}
	}
	if n := len(prime) - 1; n < 3 || n > 4 {
		t.Fatalf("%d batches for ~400 KiB", n)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("re-armed %d paths, want %d", len(got), len(want))
	}

	c.watches.rec["/r"] = []*Watcher{{}}
	prime, _ = c.primeRequests()
	sw2, ok := prime[1].body.(*proto.SetWatches2)
	if !ok || prime[1].op != proto.OpSetWatches2 {
		t.Fatalf("with a persistent watch: %v %T", prime[1].op, prime[1].body)
	}
	_ = sw2
	found := false
	for _, r := range prime[1:] {
		if slices.Contains(r.body.(*proto.SetWatches2).PersistentRecursiveWatches, "/root/r") {
			found = true
		}
	}
	if !found {
		t.Fatal("recursive watch not re-armed")
	}
}

// TestImportsNoServerCode checks that the client depends only on the codec
// packages of this module (and the standard library).
func TestImportsNoServerCode(t *testing.T) {
	const module = "github.com/warren-zk/warren/"
	allowed := map[string]bool{module + "internal/jute": true, module + "internal/proto": true}
	seen := map[string]bool{}
	var walk func(path, dir string)
	walk = func(path, dir string) {
		pkg, err := build.Default.Import(path, dir, 0)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		for _, imp := range pkg.Imports {
			if seen[imp] {
				continue
			}
			seen[imp] = true
			if strings.HasPrefix(imp, module) {
				if !allowed[imp] {
					t.Errorf("%s imports %s", path, imp)
				}
				walk(imp, pkg.Dir)
			} else if strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				t.Errorf("%s imports the third-party package %s", path, imp)
			}
		}
	}
	walk(".", ".")
}
