package zktest_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	"github.com/warren-zk/warren/zk"
	"github.com/warren-zk/warren/zktest"
)

// In a test, Start gives a server that is stopped when the test ends.
func ExampleStart() {
	testSomething := func(t *testing.T) {
		srv := zktest.Start(t, zktest.WithExtendedTypes())
		conn, err := zk.Connect(context.Background(), srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// … exercise the code under test with conn, or give it srv.Addr() …
	}
	_ = testSomething // a func TestSomething(t *testing.T) in a _test.go file
}

// StartEnsemble gives three servers; a client given ConnectString moves
// between them.
func ExampleStartEnsemble() {
	testFailover := func(t *testing.T) {
		e := zktest.StartEnsemble(t, 3)
		conn, err := zk.Connect(context.Background(), e.ConnectString())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		e.Stop(e.Leader()) // the session carries on with the other two
		// …
	}
	_ = testFailover
}

// New starts a server without a testing.TB, as a TestMain would to share one
// server between a package's tests.
func ExampleNew() {
	srv, err := zktest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	conn, err := zk.Connect(ctx, srv.Addr())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Create(ctx, "/greeting", []byte("hello"), zk.WorldACL(zk.PermAll), zk.ModePersistent); err != nil {
		log.Fatal(err)
	}
	data, _, err := conn.Get(ctx, "/greeting")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(data))
	// Output: hello
}
