package zk_test

import (
	"testing"

	"github.com/warren-zk/warren/internal/testutil/faultproxy"
)

// The proxy's modes, as the tests name them.
const (
	forward   = faultproxy.Pass   // pass bytes both ways
	blackhole = faultproxy.Drop   // keep connections open, deliver nothing (new ones too); leaving it closes them
	refuse    = faultproxy.Refuse // close every connection at once
)

// newProxy starts a fault-injecting proxy to target, closed when the test ends.
func newProxy(t *testing.T, target string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(t.Name(), target, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
