package zk

import (
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// Stat is a znode's metadata.
type Stat struct {
	Czxid          int64 // zxid of the change that created the node
	Mzxid          int64 // zxid of the change that last modified its data
	Ctime          int64 // creation time, ms since the epoch
	Mtime          int64 // last data modification time, ms since the epoch
	Version        int32 // number of changes to the data
	Cversion       int32 // number of changes to the children
	Aversion       int32 // number of changes to the ACL
	EphemeralOwner int64 // session that owns an ephemeral node, else 0
	DataLength     int32
	NumChildren    int32
	Pzxid          int64 // zxid of the change that last modified the children
}

// CreatedAt returns Ctime as a time.Time.
func (s Stat) CreatedAt() time.Time { return time.UnixMilli(s.Ctime) }

// ModifiedAt returns Mtime as a time.Time.
func (s Stat) ModifiedAt() time.Time { return time.UnixMilli(s.Mtime) }

func statFrom(p *proto.Stat) Stat {
	return Stat{
		Czxid: p.Czxid, Mzxid: p.Mzxid, Ctime: p.Ctime, Mtime: p.Mtime,
		Version: p.Version, Cversion: p.Cversion, Aversion: p.Aversion,
		EphemeralOwner: p.EphemeralOwner, DataLength: p.DataLength,
		NumChildren: p.NumChildren, Pzxid: p.Pzxid,
	}
}

// Perm is a set of ACL permission bits.
type Perm int32

// Permission bits.
const (
	PermRead   Perm = 1 << iota // getData, getChildren, exists of a child…
	PermWrite                   // setData
	PermCreate                  // create children
	PermDelete                  // delete children
	PermAdmin                   // setACL
	PermAll    Perm = PermRead | PermWrite | PermCreate | PermDelete | PermAdmin
)

// String prints perms the way zkCli does ("cdrwa").
func (p Perm) String() string {
	var b []byte
	for _, x := range []struct {
		bit Perm
		c   byte
	}{{PermCreate, 'c'}, {PermDelete, 'd'}, {PermRead, 'r'}, {PermWrite, 'w'}, {PermAdmin, 'a'}} {
		if p&x.bit != 0 {
			b = append(b, x.c)
		}
	}
	return string(b)
}

// ACL grants Perms to the identity ID in Scheme ("world", "auth", "digest",
// "ip", "x509", …).
type ACL struct {
	Perms  Perm
	Scheme string
	ID     string
}

// WorldACL returns an ACL giving perms to everyone (world:anyone).
// WorldACL(PermAll) is ZooKeeper's OPEN_ACL_UNSAFE.
func WorldACL(perms Perm) []ACL { return []ACL{{Perms: perms, Scheme: "world", ID: "anyone"}} }

// AuthACL returns an ACL giving perms to every identity the session has
// authenticated as (scheme "auth"); AuthACL(PermAll) is CREATOR_ALL_ACL.
func AuthACL(perms Perm) []ACL { return []ACL{{Perms: perms, Scheme: "auth", ID: ""}} }

// DigestACL returns an ACL giving perms to the digest identity of
// user:password, the identity AddAuth(ctx, "digest", []byte("user:password")) gives.
func DigestACL(perms Perm, user, password string) []ACL {
	return []ACL{{Perms: perms, Scheme: "digest", ID: DigestID(user, password)}}
}

// DigestID returns the digest scheme's id for user and password:
// user:base64(sha1(user:password)).
func DigestID(user, password string) string {
	h := sha1.Sum([]byte(user + ":" + password))
	return user + ":" + base64.StdEncoding.EncodeToString(h[:])
}

func aclsToProto(acl []ACL) []proto.ACL {
	out := make([]proto.ACL, len(acl))
	for i, a := range acl {
		out[i] = proto.ACL{Perms: int32(a.Perms), Id: proto.Id{Scheme: a.Scheme, Id: a.ID}}
	}
	return out
}

func aclsFromProto(acl []proto.ACL) []ACL {
	out := make([]ACL, len(acl))
	for i, a := range acl {
		out[i] = ACL{Perms: Perm(a.Perms), Scheme: a.Id.Scheme, ID: a.Id.Id}
	}
	return out
}

// CreateMode selects the kind of node Create makes.
type CreateMode int32

// Create modes (the wire values of CreateRequest.flags).
const (
	ModePersistent                  CreateMode = 0
	ModeEphemeral                   CreateMode = 1 // deleted when the session ends
	ModePersistentSequential        CreateMode = 2 // a 10-digit counter is appended to the name
	ModeEphemeralSequential         CreateMode = 3
	ModeContainer                   CreateMode = 4 // deleted by the server once its last child is gone
	ModePersistentWithTTL           CreateMode = 5 // see CreateTTL
	ModePersistentSequentialWithTTL CreateMode = 6
)

func (m CreateMode) String() string {
	switch m {
	case ModePersistent:
		return "persistent"
	case ModeEphemeral:
		return "ephemeral"
	case ModePersistentSequential:
		return "persistent_sequential"
	case ModeEphemeralSequential:
		return "ephemeral_sequential"
	case ModeContainer:
		return "container"
	case ModePersistentWithTTL:
		return "persistent_with_ttl"
	case ModePersistentSequentialWithTTL:
		return "persistent_sequential_with_ttl"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// ClientInfo is one identity of the session, as WhoAmI reports it.
type ClientInfo struct {
	AuthScheme string
	User       string
}

// EventType says what a watch Event reports.
type EventType int32

// Event types. The positive values are ZooKeeper's (Watcher.Event.EventType);
// the others are generated by this client.
const (
	EventNodeCreated            EventType = 1
	EventNodeDeleted            EventType = 2
	EventNodeDataChanged        EventType = 3
	EventNodeChildrenChanged    EventType = 4
	EventDataWatchRemoved       EventType = 5 // RemoveWatches removed a one-shot data/exists watch
	EventChildWatchRemoved      EventType = 6 // RemoveWatches removed a one-shot child watch
	EventPersistentWatchRemoved EventType = 7 // RemoveWatches removed a persistent watch
	// EventSession reports a change of the connection's state (Event.State)
	// to a persistent watch: after StateDisconnected, events may have been
	// missed until the next StateConnected (ZooKeeper re-arms persistent
	// watches on reconnect but does not replay what happened meanwhile).
	EventSession EventType = -1
	// EventNotWatching is the last event of a watch that ended without
	// firing: Event.Err says why (ErrSessionExpired, ErrClosed, …).
	EventNotWatching EventType = -2
)

func (t EventType) String() string {
	switch t {
	case EventNodeCreated:
		return "NodeCreated"
	case EventNodeDeleted:
		return "NodeDeleted"
	case EventNodeDataChanged:
		return "NodeDataChanged"
	case EventNodeChildrenChanged:
		return "NodeChildrenChanged"
	case EventDataWatchRemoved:
		return "DataWatchRemoved"
	case EventChildWatchRemoved:
		return "ChildWatchRemoved"
	case EventPersistentWatchRemoved:
		return "PersistentWatchRemoved"
	case EventSession:
		return "Session"
	case EventNotWatching:
		return "NotWatching"
	}
	return "EventType(" + strconv.Itoa(int(t)) + ")"
}

// Event is a watch notification.
type Event struct {
	Type  EventType
	Path  string // the node the event is about (chroot removed); "" for EventSession
	State State  // for EventSession: the new state
	Err   error  // for EventNotWatching: why the watch ended
}

// State is the state of a Conn's session and connection.
type State int32

// Session states.
const (
	StateConnecting        State = iota + 1 // looking for a server (initially and after a disconnect)
	StateConnected                          // the session is attached to a server
	StateConnectedReadOnly                  // attached to a server in read-only mode (see WithReadOnly)
	StateDisconnected                       // the connection was lost; the session may still be alive
	StateExpired                            // the server expired the session: the Conn is dead (terminal)
	StateAuthFailed                         // credentials were refused on (re)connect: the Conn is dead (terminal)
	StateClosed                             // Close was called (terminal)
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "Connecting"
	case StateConnected:
		return "Connected"
	case StateConnectedReadOnly:
		return "ConnectedReadOnly"
	case StateDisconnected:
		return "Disconnected"
	case StateExpired:
		return "Expired"
	case StateAuthFailed:
		return "AuthFailed"
	case StateClosed:
		return "Closed"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// WatcherType selects the watches RemoveWatches and CheckWatches act on.
type WatcherType int32

// Watcher types (the wire values). WatcherPersistent and
// WatcherPersistentRecursive need a 3.9 server (3.8 answers ErrMarshallingError).
const (
	WatcherChildren            WatcherType = 1
	WatcherData                WatcherType = 2
	WatcherAny                 WatcherType = 3
	WatcherPersistent          WatcherType = 4
	WatcherPersistentRecursive WatcherType = 5
)
