package zk_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/warren-zk/warren/zk"
)

// The examples talk to an in-process Warren server at exampleAddr, started by
// TestMain; with a real ensemble the connect string would look like
// "zk1:2181,zk2:2181,zk3:2181/app".

func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := zk.Connect(ctx, exampleAddr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	path, err := conn.Create(ctx, "/example", []byte("hello"), zk.WorldACL(zk.PermAll), zk.ModePersistent)
	if err != nil {
		fmt.Println(err)
		return
	}
	data, stat, err := conn.Get(ctx, path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s = %q (version %d)\n", path, data, stat.Version)

	_, err = conn.Create(ctx, "/example", nil, zk.WorldACL(zk.PermAll), zk.ModePersistent)
	fmt.Println(errors.Is(err, zk.ErrNodeExists), err)
	// Output:
	// /example = "hello" (version 0)
	// true zk: create /example: node already exists
}

func ExampleConn_GetW() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := zk.Connect(ctx, exampleAddr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	conn.Create(ctx, "/getw", []byte("v1"), zk.WorldACL(zk.PermAll), zk.ModePersistent)
	data, _, events, err := conn.GetW(ctx, "/getw")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("read %q\n", data)
	conn.Set(ctx, "/getw", []byte("v2"), -1)
	ev := <-events // one event, then the channel is closed
	fmt.Println(ev.Type, ev.Path)
	// Output:
	// read "v1"
	// NodeDataChanged /getw
}

func ExampleConn_AddWatch() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := zk.Connect(ctx, exampleAddr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	w, err := conn.AddWatch(ctx, "/tree", true) // the node need not exist yet
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	acl := zk.WorldACL(zk.PermAll)
	conn.Create(ctx, "/tree", nil, acl, zk.ModePersistent)
	conn.Create(ctx, "/tree/a", nil, acl, zk.ModePersistent)
	conn.Set(ctx, "/tree/a", []byte("x"), -1)
	conn.Delete(ctx, "/tree/a", -1)
	for range 4 {
		ev := <-w.Events()
		fmt.Println(ev.Type, ev.Path)
	}
	// Output:
	// NodeCreated /tree
	// NodeCreated /tree/a
	// NodeDataChanged /tree/a
	// NodeDeleted /tree/a
}

func ExampleConn_Multi() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := zk.Connect(ctx, exampleAddr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	acl := zk.WorldACL(zk.PermAll)
	_, err = conn.Multi(ctx,
		zk.CreateOp{Path: "/multi", ACL: acl},
		zk.CreateOp{Path: "/multi/a", Data: []byte("1"), ACL: acl},
	)
	fmt.Println("first:", err)

	// All or nothing: the check fails, so /multi/b is not created.
	results, err := conn.Multi(ctx,
		zk.CreateOp{Path: "/multi/b", ACL: acl},
		zk.CheckOp{Path: "/multi/a", Version: 5},
		zk.SetDataOp{Path: "/multi/a", Data: []byte("2"), Version: -1},
	)
	fmt.Println("second:", err)
	for i, r := range results {
		fmt.Printf("  op %d: %v\n", i, r.Err)
	}
	exists, _, _ := conn.Exists(ctx, "/multi/b")
	fmt.Println("/multi/b exists:", exists)
	// Output:
	// first: <nil>
	// second: zk: multi /multi/a: bad version
	//   op 0: <nil>
	//   op 1: zk: bad version
	//   op 2: zk: runtime inconsistency
	// /multi/b exists: false
}

func ExampleConnect_chroot() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := zk.Connect(ctx, exampleAddr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer admin.Close()
	admin.Create(ctx, "/app", nil, zk.WorldACL(zk.PermAll), zk.ModePersistent)

	app, err := zk.Connect(ctx, exampleAddr+"/app")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer app.Close()
	p, _ := app.Create(ctx, "/job-", nil, zk.WorldACL(zk.PermAll), zk.ModePersistentSequential)
	fmt.Println("the app sees", p)
	children, _ := admin.Children(ctx, "/app")
	fmt.Println("the server has /app/" + children[0])
	// Output:
	// the app sees /job-0000000000
	// the server has /app/job-0000000000
}

func ExampleConn_StateEvents() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := zk.Connect(ctx, exampleAddr)
	if err != nil {
		fmt.Println(err)
		return
	}
	states := conn.StateEvents()
	conn.Close()
	for s := range states { // closed after StateClosed
		fmt.Println(s)
	}
	// Output:
	// Connecting
	// Connected
	// Closed
}
