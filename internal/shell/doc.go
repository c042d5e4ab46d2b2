// Package shell is the engine of `warren cli`: a re-implementation of
// ZooKeeper's zkCli (org.apache.zookeeper.ZooKeeperMain and its
// CliCommands, 3.8) on top of package zk, printing byte for byte what the
// Java zkCli prints for the same server state.
//
// A Shell parses a line as ZooKeeperMain does (SplitLine), its options as
// commons-cli's DefaultParser does (with the same exception texts), runs
// the command against a Client (a *zk.Conn through NewConnClient, or any
// implementation), and writes to System.out and System.err what the Java
// command writes there: "Created /x" on stderr, stat blocks with Java's
// Date.toString in the local zone, "Node does not exist: /x",
// "KeeperErrorCode = …", usage texts, jute's rendering of ACL ids, quota
// texts, and the watcher's "WATCHER::" notifications.
//
// The Java client calls zkCli's one watcher once per notification however
// many of its watches match; the zk package gives each watch its own
// channel, so the session's dispatcher folds the copies into one
// notification. It is also the only reader of those channels, which lets
// the shell print the notifications that have arrived before anything else
// it prints: the order zkCli's event thread practically always gives, but
// deterministic.
//
// Where this differs from zkCli 3.8, on purpose:
//   - "version" prints Warren's version.
//   - The flags zkCli 3.9 added are accepted (get -b -x, set -b,
//     removewatches -p -r); the usage texts are 3.8's, and so is the
//     notification format (3.9 appends " zxid: N").
//   - An error that kills zkCli's JVM (an unparsable -v version, redo x, an
//     invalid path for addWatch, …) prints the exception's first line, not
//     a stack trace; in a script or one-shot command it ends the program
//     with status 1 as zkCli's death does, on a terminal the shell goes on.
//   - At exit the session is closed (zkCli lets it expire, so the ephemeral
//     nodes of `zkCli.sh create -e` outlive it by the session timeout).
//   - reconfig checks its arguments as zkCli does and then prints what
//     zkCli prints when the server has reconfiguration disabled (Warren has
//     none); nothing is sent.
//   - With a chroot, config reads /zookeeper/config inside it (the Java
//     client reads it outside).
package shell
