package recipe_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/warren-zk/warren/zk"
	"github.com/warren-zk/warren/zk/recipe"
)

// dial connects to the examples' server (exampleAddr; in a program, the
// ensemble's connect string).
func dial() *zk.Conn {
	conn, err := zk.Connect(context.Background(), exampleAddr)
	if err != nil {
		log.Fatal(err)
	}
	return conn
}

func ExampleMutex() {
	conn := dial()
	defer conn.Close()
	ctx := context.Background()

	m := recipe.NewMutex(conn, "/examples/lock")
	if err := m.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	// Work while the lock is held; stop if it may have been lost.
	select {
	case <-m.Lost():
		fmt.Println("lost the lock")
	default:
		fmt.Println("holding the lock")
	}
	if err := m.Unlock(ctx); err != nil {
		log.Fatal(err)
	}
	// Output: holding the lock
}

func ExampleLeaderLatch() {
	ctx := context.Background()
	var latches []*recipe.LeaderLatch
	for _, id := range []string{"alpha", "beta"} {
		conn := dial()
		defer conn.Close()
		l := recipe.NewLeaderLatch(conn, "/examples/latch", id)
		if err := l.Start(ctx); err != nil {
			log.Fatal(err)
		}
		defer l.Close()
		latches = append(latches, l)
	}
	term, err := latches[0].Await(ctx) // the first candidate leads
	if err != nil {
		log.Fatal(err)
	}
	leader, _, _ := latches[1].Leader(ctx)
	fmt.Println("leader:", leader.ID)

	latches[0].Close() // alpha steps down: its term ends, beta takes over
	<-term.Done()
	if _, err := latches[1].Await(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("beta leads:", latches[1].IsLeader())
	// Output:
	// leader: alpha
	// beta leads: true
}

func ExampleLeaderSelector() {
	conn := dial()
	defer conn.Close()
	s := recipe.NewLeaderSelector(conn, "/examples/selector", "worker-1")
	err := s.Lead(context.Background(), func(ctx context.Context) {
		// Leading until this function returns, or ctx is done (the
		// leadership may have been lost).
		fmt.Println("leading")
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output: leading
}

func ExampleSemaphore() {
	conn := dial()
	defer conn.Close()
	ctx := context.Background()
	s := recipe.NewSemaphore(conn, "/examples/semaphore", 2)
	a, _ := s.Acquire(ctx)
	b, _ := s.Acquire(ctx)
	c, _ := s.TryAcquire(ctx)
	fmt.Println("third lease:", c != nil)
	a.Release(ctx)
	b.Release(ctx)
	// Output: third lease: false
}

func ExampleQueue() {
	conn := dial()
	defer conn.Close()
	ctx := context.Background()
	q := recipe.NewQueue(conn, "/examples/queue")
	for _, job := range []string{"first", "second", "third"} {
		if _, err := q.Put(ctx, []byte(job)); err != nil {
			log.Fatal(err)
		}
	}
	for range 3 {
		job, err := q.Take(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(job))
	}
	// Output:
	// first
	// second
	// third
}

func ExamplePriorityQueue() {
	conn := dial()
	defer conn.Close()
	ctx := context.Background()
	q := recipe.NewPriorityQueue(conn, "/examples/pq")
	q.Put(ctx, []byte("routine"), 500)
	q.Put(ctx, []byte("urgent"), 0)
	for range 2 {
		job, _ := q.Take(ctx)
		fmt.Println(string(job))
	}
	// Output:
	// urgent
	// routine
}

func ExampleCounter() {
	conn := dial()
	defer conn.Close()
	ctx := context.Background()
	k := recipe.NewCounter(conn, "/examples/counter")
	k.Add(ctx, 10)
	v, err := k.Add(ctx, 5)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v)
	// Output: 15
}

func ExampleDiscovery() {
	conn := dial()
	defer conn.Close()
	ctx := context.Background()
	d := recipe.NewDiscovery(conn, "/examples/services")
	reg, err := d.Register(ctx, recipe.Instance{Name: "api", ID: "api-1", Address: "10.0.0.7", Port: recipe.Port(8080)})
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Unregister(ctx)
	instances, err := d.Instances(ctx, "api")
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range instances {
		fmt.Printf("%s at %s:%d\n", in.ID, in.Address, *in.Port)
	}
	// Output: api-1 at 10.0.0.7:8080
}

func ExampleGroup() {
	conn := dial()
	defer conn.Close()
	ctx := context.Background()
	g := recipe.NewGroup(conn, "/examples/group")
	w, err := g.Watch(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	m, err := g.Join(ctx, "node-a", []byte("10.0.0.1:7000"))
	if err != nil {
		log.Fatal(err)
	}
	members := <-w.Updates() // the live set after the change
	fmt.Println(members[0].Name, string(members[0].Data))
	m.Leave(ctx)
	fmt.Println(len(<-w.Updates()))
	// Output:
	// node-a 10.0.0.1:7000
	// 0
}

func ExampleWatchConfig() {
	conn := dial()
	defer conn.Close()
	ctx := context.Background()
	conn.Create(ctx, "/examples/config", []byte("timeout=5s"), zk.WorldACL(zk.PermAll), zk.ModePersistent)

	w, err := recipe.WatchConfig(ctx, conn, "/examples/config")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	fmt.Println(string(w.Value().Data))

	conn.Set(ctx, "/examples/config", []byte("timeout=9s"), -1) // another process, typically
	v := <-w.Updates()
	fmt.Println(string(v.Data))
	// Output:
	// timeout=5s
	// timeout=9s
}

func ExampleCoordinator() {
	conn := dial()
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A cohort, in another process typically.
	done := make(chan struct{})
	go func() {
		defer close(done)
		p, err := recipe.NewCohort(conn, "/examples/2pc", "db").Next(ctx)
		if err != nil {
			log.Fatal(err)
		}
		p.Vote(ctx, string(p.Data) == "UPDATE t SET x = 1") // prepared: vote to commit
		committed, _ := p.Outcome(ctx)
		fmt.Println("cohort learns committed:", committed)
	}()

	out, err := recipe.NewCoordinator(conn, "/examples/2pc").Commit(ctx, []byte("UPDATE t SET x = 1"), []string{"db"})
	if err != nil {
		log.Fatal(err)
	}
	<-done
	fmt.Println("coordinator decided committed:", out.Committed)
	// Output:
	// cohort learns committed: true
	// coordinator decided committed: true
}
