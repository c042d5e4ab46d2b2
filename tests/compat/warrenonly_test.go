package compat

import (
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
	"github.com/warren-zk/warren/tests/compat/rawzk"
)

// TestWarrenCreateTTLNonTTLMode covers a request the oracle cannot answer: createTTL (21) with a
// non-TTL mode and a negative ttl passes ZooKeeper 3.8.0's validation and then kills the server
// when the transaction is applied (EphemeralType.TTL.toEphemeralOwner throws
// IllegalArgumentException in DataTree.processTxn). Warren answers BadArguments, as ZooKeeper does
// for the same request with ttl >= 0.
func TestWarrenCreateTTLNonTTLMode(t *testing.T) {
	t.Parallel()
	wr := warrentest.Start(t, &warrentest.Options{ContainerCheckInterval: time.Hour, Config: func(c *config.Config) { c.ExtendedTypesEnabled = true }})
	c, err := rawzk.Dial(wr.Addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.Connect(rawzk.ConnectOptions{TimeoutMs: 30000, ReadOnlyByte: true}); err != nil {
		t.Fatal(err)
	}
	for i, flags := range []int32{proto.ModePersistent, proto.ModeEphemeral, proto.ModePersistentSequential, proto.ModeContainer} {
		f, _, err := c.Call(int32(i+1), proto.OpCreateTTL, &proto.CreateTTLRequest{Path: "/t", Acl: open, Flags: flags, Ttl: -1})
		if err != nil {
			t.Fatal(err)
		}
		if f.Header.Err != int32(proto.ErrBadArguments) {
			t.Errorf("createTTL flags %d ttl -1: err %d, want BadArguments", flags, f.Header.Err)
		}
	}
	m := &proto.MultiRequest{Ops: []proto.MultiOp{opCreateTTL("/t", nil, proto.ModePersistent, -1)}}
	f, _, err := c.Call(10, proto.OpMulti, m)
	if err != nil {
		t.Fatal(err)
	}
	// Inside multi ZooKeeper turns a createTTL op without TTL flags into a plain create (the ttl
	// is dropped), so it never reaches the crashing apply; Warren does the same.
	var r proto.MultiResponse
	if err := rawzk.Decode(f.Body, &r); err != nil || len(r.Results) != 1 || r.Results[0].Type != proto.OpCreate {
		t.Errorf("multi createTTL flags 0 ttl -1: %+v %v, want one create result", r.Results, err)
	}
}
