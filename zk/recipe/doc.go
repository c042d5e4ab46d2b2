// Package recipe implements the coordination recipes ZooKeeper users reach
// for — what Curator is to Java and kazoo's recipes are to Python — on top
// of package zk, against Warren or any ZooKeeper 3.6+ server:
//
//   - Mutex: a fair exclusive lock, with no herd effect (each waiter
//     watches only the contender ahead of it); RWMutex: a read/write lock;
//     Semaphore: at most n leases at a time.
//   - LeaderLatch: leader election, the leader being the oldest candidate;
//     LeaderSelector: run a function while leading, then requeue.
//   - Barrier (hold everyone until removed) and DoubleBarrier (enter and
//     leave a computation together).
//   - Queue (FIFO) and PriorityQueue.
//   - Counter: a shared counter updated by compare-and-set.
//   - Group (membership) and Discovery (service instances with their
//     addresses), with Watch to follow the live set.
//   - Coordinator and Cohort: two-phase commit.
//   - WatchConfig: keep a configuration value fresh from a znode.
//
// # Layouts and interoperability
//
// Where a recipe has a de-facto layout it uses it, so that Go, Java and
// Python processes can coordinate through the same nodes:
//
//	Mutex           <path>/_c_<uuid>-lock-<seq>             Curator InterProcessMutex; kazoo Lock (see Mutex)
//	RWMutex         <path>/_c_<uuid>-__READ__<seq>          Curator InterProcessReadWriteLock
//	                <path>/_c_<uuid>-__WRIT__<seq>
//	Semaphore       <path>/leases/_c_<uuid>-lease-<seq>     Curator InterProcessSemaphoreV2
//	                <path>/locks/ (a Mutex)
//	LeaderLatch     <path>/_c_<uuid>-latch-<seq>, data id   Curator LeaderLatch
//	LeaderSelector  a Mutex on <path>, lock data id         Curator LeaderSelector
//	Barrier         <path>, while the barrier is up         Curator DistributedBarrier
//	DoubleBarrier   <path>/<uuid> per member, <path>/ready  Curator DistributedDoubleBarrier
//	Queue           <path>/entry-100-<seq>                  kazoo Queue
//	PriorityQueue   <path>/entry-<ppp>-<seq>                kazoo Queue with priorities
//	Counter         decimal text in <path>                  kazoo Counter
//	Discovery       <base>/<service>/<id>, JSON instance    Curator ServiceDiscovery
//
// The _c_<uuid>- prefix is Curator's "protected" mode: when the reply to a
// create is lost with the connection, the recipe finds the node it created
// by its uuid instead of creating a second one. Parents of lock, latch and
// lease nodes are created as container nodes, as Curator does, and the
// server removes them once empty.
//
// # Sessions, cancellation and failure
//
// Every blocking call takes a context and gives up when it ends, removing
// what it created (a half-acquired lock's node, say). Operations that are
// safe to repeat are retried when the connection is lost (the zk.Conn
// reconnects by itself); those that are not (a queue item's removal, a
// counter's update) report zk.ErrConnectionLoss and leave the decision to
// the caller. When the session expires the recipes fail with
// zk.ErrSessionExpired: the server has removed the session's ephemeral
// nodes (locks held, leases, memberships, candidacies), and a new zk.Conn
// with new recipe objects is needed.
//
// A holder learns that it may have lost a lock, or a leader its
// leadership, from Mutex.Lost and the contexts of LeaderLatch.Await and
// LeaderSelector.Lead. These fire as soon as the connection is lost: the
// client deems it lost after two thirds of the session timeout without a
// word from the server, before the server can expire the session and let
// another contender in, so a holder that stops on Lost does not overlap
// with its successor.
//
// Goroutines: a LeaderLatch and a Watch run one each until Close; a locked
// Mutex runs one (watching its node for Lost) until Unlock; LeaderSelector
// runs one while leading. All of them also end when the Conn is closed.
// Nothing else in this package starts a goroutine.
//
// The tests run every recipe with several sessions against a real server
// (zktest) and check its property under load; the Mutex, RWMutex,
// Semaphore and LeaderLatch layouts are checked against Curator 5.4, and
// the Mutex against kazoo 2.8's Lock, contending on the same server.
package recipe
