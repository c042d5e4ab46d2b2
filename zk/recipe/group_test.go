package recipe_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk"
	"github.com/warren-zk/warren/zk/recipe"
)

func memberNames(ms []recipe.Member) string {
	var names []string
	for _, m := range ms {
		names = append(names, m.Name+"="+string(m.Data))
	}
	return strings.Join(names, ",")
}

// TestGroupMembership: members in 8 sessions join and leave concurrently
// while a watcher follows the group; the watched set converges to the live
// members, and a member whose session expires drops out.
func TestGroupMembership(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 30*time.Second)
	const n = 8
	cs := conns(t, srv.Addr(), n+1)
	watcher := recipe.NewGroup(cs[n], "/groups/g")
	w, err := watcher.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if len(w.Value()) != 0 {
		t.Fatalf("initial members %v", w.Value())
	}
	// Each member joins, leaves and joins again; the odd ones then leave.
	var wg sync.WaitGroup
	for i := range n {
		g := recipe.NewGroup(cs[i], "/groups/g")
		name := fmt.Sprintf("m%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := g.Join(ctx, name, []byte("first"))
			if err != nil {
				t.Error(err)
				return
			}
			if err := m.Leave(ctx); err != nil {
				t.Error(err)
				return
			}
			if err := m.Leave(ctx); !errors.Is(err, recipe.ErrNotHeld) {
				t.Errorf("second Leave: %v", err)
			}
			m, err = g.Join(ctx, name, []byte(name))
			if err != nil {
				t.Error(err)
				return
			}
			if i%2 == 1 {
				m.Leave(ctx)
			}
		}()
	}
	wg.Wait()
	want := "m0=m0,m2=m2,m4=m4,m6=m6"
	converged := func(want string) bool {
		return eventually(5*time.Second, func() bool { return memberNames(w.Value()) == want })
	}
	if !converged(want) {
		t.Fatalf("watched members %q, want %q", memberNames(w.Value()), want)
	}
	if ms, err := watcher.Members(ctx); err != nil || memberNames(ms) != want {
		t.Fatalf("Members: %q %v", memberNames(ms), err)
	}
	if _, err := recipe.NewGroup(cs[1], "/groups/g").Join(ctx, "m0", nil); !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("joining under a taken name: %v", err)
	}
	// A member whose session expires drops out.
	ec, px := expiringConn(t, srv.Addr(), time.Second)
	if _, err := recipe.NewGroup(ec, "/groups/g").Join(ctx, "mx", []byte("mx")); err != nil {
		t.Fatal(err)
	}
	if !converged(want + ",mx=mx") {
		t.Fatalf("watched members %q after mx joined", memberNames(w.Value()))
	}
	px.Blackhole()
	if !converged(want) {
		t.Fatalf("watched members %q after mx's session expired", memberNames(w.Value()))
	}
	// The watch ends with its session.
	cs[n].Close()
	select {
	case <-w.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("watch did not end with its Conn")
	}
	if !errors.Is(w.Err(), zk.ErrClosed) {
		t.Fatalf("watch ended with %v", w.Err())
	}
}

// TestDiscovery: instances register with their address; Instances and
// Watch see the live set, in Curator's JSON.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 20*time.Second)
	cs := conns(t, srv.Addr(), 4)
	d := recipe.NewDiscovery(cs[3], "/services")
	w, err := d.Watch(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var regs []*recipe.Registration
	for i := range 3 {
		r, err := recipe.NewDiscovery(cs[i], "/services").Register(ctx, recipe.Instance{
			Name: "api", ID: fmt.Sprintf("i%d", i), Address: "10.0.0." + fmt.Sprint(i+1), Port: recipe.Port(8080 + i),
			Payload: json.RawMessage(`{"zone":"a"}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		regs = append(regs, r)
	}
	if _, err := recipe.NewDiscovery(cs[0], "/services").Register(ctx, recipe.Instance{Name: "db", Address: "10.0.1.1"}); err != nil {
		t.Fatal(err)
	}
	addrs := func(is []recipe.Instance) string {
		var out []string
		for _, i := range is {
			out = append(out, fmt.Sprintf("%s@%s:%d", i.ID, i.Address, *i.Port))
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	want := "i0@10.0.0.1:8080 i1@10.0.0.2:8081 i2@10.0.0.3:8082"
	if !eventually(5*time.Second, func() bool { return addrs(w.Value()) == want }) {
		t.Fatalf("watched %q", addrs(w.Value()))
	}
	is, err := d.Instances(ctx, "api")
	if err != nil || addrs(is) != want {
		t.Fatalf("Instances %q %v", addrs(is), err)
	}
	if !is[0].Enabled || is[0].ServiceType != "DYNAMIC" || is[0].RegistrationTimeUTC == 0 || string(is[0].Payload) != `{"zone":"a"}` {
		t.Fatalf("instance %+v", is[0])
	}
	if svcs, err := d.Services(ctx); err != nil || fmt.Sprint(svcs) != "[api db]" {
		t.Fatalf("Services %v %v", svcs, err)
	}
	// The node holds Curator's JSON.
	data, st, err := cs[3].Get(ctx, "/services/api/i0")
	if err != nil || st.EphemeralOwner != cs[0].SessionID() {
		t.Fatalf("instance node: %v, owner %x", err, st.EphemeralOwner)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "id", "address", "port", "sslPort", "payload", "registrationTimeUTC", "serviceType", "uriSpec", "enabled"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("instance JSON lacks %q: %s", k, data)
		}
	}
	if err := regs[1].Unregister(ctx); err != nil {
		t.Fatal(err)
	}
	cs[2].Close() // i2's session ends
	if !eventually(5*time.Second, func() bool { return addrs(w.Value()) == "i0@10.0.0.1:8080" }) {
		t.Fatalf("watched %q after i1 unregistered and i2's session closed", addrs(w.Value()))
	}
	if err := regs[0].Update(ctx, recipe.Instance{Address: "10.0.0.9", Port: recipe.Port(9000)}); err != nil {
		t.Fatal(err)
	}
	if is, _ := d.Instances(ctx, "api"); addrs(is) != "i0@10.0.0.9:9000" {
		t.Fatalf("after Update: %q", addrs(is))
	}
}
