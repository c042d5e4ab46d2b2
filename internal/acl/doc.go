// Package acl implements ZooKeeper's access control: permission checks,
// ACL validation and fix-up on create/setACL, the digest and ip schemes,
// and the redaction of digest ids in getACL replies.
//
// Rules (ZooKeeper 3.8/3.9):
//   - Check passes if skipACL, if the list is empty, if the caller has a
//     "super" id, or if an entry with the needed bit matches world:anyone or
//     one of the caller's ids of the same scheme (digest and x509: equality;
//     ip: address within the entry's address/mask).
//   - Fixup removes exact duplicates, rejects empty lists, world ids other
//     than anyone, unknown schemes and malformed ids, and expands "auth"
//     entries into one entry per authenticated (non-ip) id of the caller.
package acl
