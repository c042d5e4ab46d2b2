// Package security holds Warren's security tests: one test per case S1–S24 of
// reliability.md §4 that applies to a client-facing server (S9, the AdminServer, is tested
// with the AdminServer), each asserting the exact client-visible result and that the server
// still serves another client afterwards; TLS on secureClientPort (PEM and PKCS#12 stores,
// clientAuth, x509 ids and superUser, certificate reload) with certificates generated in the
// test; SASL DIGEST-MD5 and enforced authentication; quota enforcement against ZooKeeper
// 3.8; and the Java zkCli and kazoo connecting over TLS and with SASL.
//
// Everything lives in the _test.go files and talks only to 127.0.0.1.
package security
