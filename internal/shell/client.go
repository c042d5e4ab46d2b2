package shell

import (
	"context"
	"time"

	"github.com/warren-zk/warren/zk"
)

// Client is the part of a ZooKeeper session the shell uses. NewConnClient
// adapts a *zk.Conn; tests may provide their own.
type Client interface {
	Create(ctx context.Context, path string, data []byte, acl []zk.ACL, mode zk.CreateMode) (string, error)
	CreateContainer(ctx context.Context, path string, data []byte, acl []zk.ACL) (string, error)
	CreateTTL(ctx context.Context, path string, data []byte, acl []zk.ACL, mode zk.CreateMode, ttl time.Duration) (string, error)
	Delete(ctx context.Context, path string, version int32) error
	Exists(ctx context.Context, path string) (bool, zk.Stat, error)
	ExistsW(ctx context.Context, path string) (bool, zk.Stat, <-chan zk.Event, error)
	Get(ctx context.Context, path string) ([]byte, zk.Stat, error)
	GetW(ctx context.Context, path string) ([]byte, zk.Stat, <-chan zk.Event, error)
	Set(ctx context.Context, path string, data []byte, version int32) (zk.Stat, error)
	Children(ctx context.Context, path string) ([]string, error)
	Children2(ctx context.Context, path string) ([]string, zk.Stat, error)
	ChildrenW(ctx context.Context, path string) ([]string, zk.Stat, <-chan zk.Event, error)
	GetACL(ctx context.Context, path string) ([]zk.ACL, zk.Stat, error)
	SetACL(ctx context.Context, path string, acl []zk.ACL, version int32) (zk.Stat, error)
	Sync(ctx context.Context, path string) (string, error)
	GetAllChildrenNumber(ctx context.Context, path string) (int, error)
	GetEphemerals(ctx context.Context, prefix string) ([]string, error)
	WhoAmI(ctx context.Context) ([]zk.ClientInfo, error)
	AddAuth(ctx context.Context, scheme string, auth []byte) error
	Multi(ctx context.Context, ops ...zk.Op) ([]zk.OpResult, error)
	// AddWatch sets a persistent (optionally recursive) watch.
	AddWatch(ctx context.Context, path string, recursive bool) (PersistentWatch, error)
	RemoveWatches(ctx context.Context, path string, typ zk.WatcherType) error

	State() zk.State
	StateEvents() <-chan zk.State
	SessionID() int64
	Close() error
}

// PersistentWatch is a persistent watch's event stream (*zk.Watcher).
type PersistentWatch interface {
	Events() <-chan zk.Event
	Close() error
}

// NewConnClient returns c as a Client.
func NewConnClient(c *zk.Conn) Client { return connClient{c} }

type connClient struct{ *zk.Conn }

func (c connClient) AddWatch(ctx context.Context, path string, recursive bool) (PersistentWatch, error) {
	w, err := c.Conn.AddWatch(ctx, path, recursive)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// ConnectFunc starts a session with the servers of a zkCli connect string
// ("h1:2181,h2:2181/chroot") and returns once it is established. It calls
// dialFailed (if not nil) each time a connection attempt to a server fails,
// so that commands waiting for the session can give up as zkCli's do.
type ConnectFunc func(ctx context.Context, server string, dialFailed func(error)) (Client, error)
