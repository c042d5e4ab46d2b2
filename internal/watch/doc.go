// Package watch is the server's registry of ZooKeeper watches and the rules
// for firing them (ZooKeeper 3.9 semantics).
//
// Two tables, data and child, map a path to the watchers on it, each with a
// set of modes: Standard (one-shot), Persistent, PersistentRecursive. Standard
// entries are removed when they fire; the others stay until removed or until
// their watcher goes away.
//
//	exists/getData watch   -> data table, Standard
//	getChildren watch      -> child table, Standard
//	addWatch PERSISTENT    -> data and child tables, Persistent
//	addWatch RECURSIVE     -> data table, PersistentRecursive
//
// Firing: NodeCreated/NodeDataChanged/NodeDeleted go to data watchers of the
// path and to recursive watchers on the path or any ancestor; NodeDeleted
// also goes to child watchers of the path; NodeChildrenChanged goes to the
// parent's child watchers. A watcher gets at most one copy of an event, and
// only if it may READ the relevant ACL (standard watches are consumed even
// when the event is filtered out).
//
// Lock order: the state machine's tree lock is held around Trigger calls and
// around registrations made by reads; the Manager's own mutex is taken
// inside it; Watcher.Notify is called with both held and must not block.
package watch
