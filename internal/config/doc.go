// Package config reads ZooKeeper's zoo.cfg the way QuorumPeerMain does, so an
// existing deployment's configuration works unchanged with Warren.
//
// # Format
//
// A zoo.cfg is a java.util.Properties file: one key=value, key: value or
// "key value" per line; lines whose first non-blank character is # or ! are
// comments; a line ending in an odd number of backslashes continues on the
// next; the escapes \t \n \r \f \uXXXX and \<any> (\: \= \  …) are decoded;
// keys and values are trimmed; a later key overrides an earlier one. Bytes are
// taken as UTF-8 (Java would read ISO-8859-1; only \uXXXX escapes differ in
// practice and they are decoded).
//
// Keys QuorumPeerConfig parses itself are checked as it checks them (a bad
// number, a boolean other than true/false, a malformed server.N … is fatal).
// Every other key is, in ZooKeeper, the JVM property zookeeper.<key>; the ones
// ZooKeeper reads (4lw.commands.whitelist, snapCount, skipACL, admin.*,
// ssl.*, authProvider.*, …) are accepted and read leniently, as ZooKeeper
// does: a bad number there is a warning and the default is used. Keys neither
// ZooKeeper nor Warren knows are warnings, never fatal. Every key and value is
// kept in Config.Props, with its line in Config.Lines.
//
// server.N is host:peerPort:electionPort[:participant|observer][;[clientAddr:]clientPort]
// with IPv6 hosts in brackets. When servers are listed, dataDir/myid is read;
// it must exist (and name a listed server) when the configuration is
// distributed: servers listed and either standaloneEnabled=false or at least
// two participants. dynamicConfigFile, if set, is read for the server list.
// Hierarchical quorums (group.N, weight.N) are accepted with a warning and
// ignored.
//
// # Defaults
//
// As ZooKeeper: tickTime 3000; dataLogDir = dataDir; no client port;
// clientPortAddress all interfaces; maxClientCnxns 60; minSessionTimeout and
// maxSessionTimeout 2 and 20 ticks; standaloneEnabled true; reconfigEnabled
// false; peerType participant; autopurge.snapRetainCount 3 (smaller values
// are raised to 3); autopurge.purgeInterval 0; 4lw.commands.whitelist srvr
// (srvr is always allowed); snapCount 100000 (at least 2); preAllocSize 65536
// KB; globalOutstandingLimit 1000; maxCnxns 0; skipACL no;
// extendedTypesEnabled false; admin server enabled on 0.0.0.0:8080 at
// /commands; metricsProvider.httpHost 0.0.0.0, httpPort 7000. dataDir is
// required.
//
// Default is what `warren server` runs without a zoo.cfg: clientPort 2181 on
// 127.0.0.1, dataDir ./warren-data and tickTime 2000, as zoo_sample.cfg.
// FromArgs reads ZooKeeperServerMain's "port dataDir [tickTime
// [maxClientCnxns]]".
//
// Unlike ZooKeeper, which stops at the first error, Parse reports every
// problem it finds, each with its file and line.
package config
