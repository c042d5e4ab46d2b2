// Package auth holds the pieces of ZooKeeper's SASL authentication that do not depend on the
// server: a reader for JAAS login configuration files (the "Server" section's
// DigestLoginModule users, as ZooKeeper's SaslServerCallbackHandler reads them), a DIGEST-MD5
// (RFC 2831) server mechanism that speaks to Java's and pure-sasl's DIGEST-MD5 clients
// exactly as ZooKeeper's does (realm and server name "zk-sasl-md5", service "zookeeper",
// qop "auth"), and the -D flags ZooKeeper users put into SERVER_JVMFLAGS/JVMFLAGS.
package auth
