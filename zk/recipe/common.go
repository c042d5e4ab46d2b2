package recipe

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/warren-zk/warren/zk"
)

// Errors of this package. Errors from the server come through as the zk
// package's *zk.Error (test them with errors.Is against zk.ErrNoNode,
// zk.ErrSessionExpired, …).
var (
	// ErrNotHeld is returned when releasing something (a lock, a lease, a
	// membership) that is not held.
	ErrNotHeld = errors.New("recipe: not held")
	// ErrNodeGone reports that a node the recipe created for this
	// participant (a lock node, a latch node, …) disappeared while the
	// recipe was using it: the session expired, or someone deleted it.
	ErrNodeGone = errors.New("recipe: the participant's node is gone (session expired, or deleted)")
	// ErrClosed is returned by a recipe object after its Close.
	ErrClosed = errors.New("recipe: closed")
)

// Option configures a recipe. Each constructor documents the options it
// uses; the others are ignored.
type Option func(*options)

type options struct {
	acl        []zk.ACL
	data       []byte
	parentMode zk.CreateMode
}

func buildOptions(opts []Option) options {
	o := options{acl: zk.WorldACL(zk.PermAll), parentMode: zk.ModeContainer}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithACL sets the ACL of the nodes a recipe creates (default
// world:anyone with every permission, ZooKeeper's OPEN_ACL_UNSAFE).
func WithACL(acl []zk.ACL) Option {
	return func(o *options) {
		if len(acl) > 0 {
			o.acl = acl
		}
	}
}

// WithData sets the data of the node a participant creates: a lock node,
// a lease node. Tools (zkCli, Curator's getParticipantNodes, kazoo's
// contenders) show it; use it to say who holds what.
func WithData(data []byte) Option {
	return func(o *options) { o.data = append([]byte(nil), data...) }
}

// WithPersistentParents makes the recipes that create their path as a
// container node when it is missing (Mutex, RWMutex, Semaphore,
// LeaderLatch, LeaderSelector, DoubleBarrier, Discovery: Curator's
// creatingParentContainersIfNeeded) create it as a persistent node
// instead. A container is removed by the server once it has had children
// and has none left; a client that assumes the path stays, as a kazoo Lock
// object does after its first acquire, then fails with NoNodeError. Use
// this option (or create the path beforehand) when kazoo shares the path.
func WithPersistentParents() Option {
	return func(o *options) { o.parentMode = zk.ModePersistent }
}

// Curator's "protected" node names: _c_<uuid>-<name>. The uuid lets a
// client find the node it created when the create's reply was lost.
const protectedPrefix = "_c_"

// newUUID returns a random (version 4) UUID in its canonical form.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

func base(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

func parentOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/"
	}
	return path[:i]
}

// isConnLoss reports an error after which the operation may be retried once
// the Conn has reconnected.
func isConnLoss(err error) bool {
	return errors.Is(err, zk.ErrConnectionLoss) || errors.Is(err, zk.ErrOperationTimeout)
}

// isDead reports an error after which the Conn is of no more use.
func isDead(err error) bool {
	return errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrClosed) ||
		errors.Is(err, zk.ErrAuthFailed)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

const (
	minRetryPause = 10 * time.Millisecond
	maxRetryPause = 500 * time.Millisecond
)

// retry runs op until it returns something other than a connection loss
// (the Conn reconnects by itself meanwhile) or ctx ends. Only for
// operations that are safe to repeat.
func retry(ctx context.Context, op func() error) error {
	pause := minRetryPause
	for {
		err := op()
		if err == nil || !isConnLoss(err) {
			return err
		}
		if serr := sleep(ctx, pause); serr != nil {
			return err
		}
		pause = min(2*pause, maxRetryPause)
	}
}

// cleanupContext is for deleting what a canceled operation left behind: it
// keeps ctx's values, not its cancellation, and is bounded by the session
// timeout (after which the server would have removed an ephemeral node of a
// session it no longer hears from anyway).
func cleanupContext(ctx context.Context, c *zk.Conn) (context.Context, context.CancelFunc) {
	d := c.SessionTimeout()
	if d <= 0 || d > 10*time.Second {
		d = 10 * time.Second
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// ensurePath creates path and its missing ancestors with mode
// (zk.ModePersistent or zk.ModeContainer).
func ensurePath(ctx context.Context, c *zk.Conn, path string, acl []zk.ACL, mode zk.CreateMode) error {
	if path == "/" {
		return nil
	}
	for {
		err := retry(ctx, func() error {
			_, err := c.Create(ctx, path, nil, acl, mode)
			return err
		})
		switch {
		case err == nil, errors.Is(err, zk.ErrNodeExists):
			return nil
		case errors.Is(err, zk.ErrNoNode):
			if err := ensurePath(ctx, c, parentOf(path), acl, mode); err != nil {
				return err
			}
			continue // the parent is there now (unless a reaper was quicker)
		}
		return err
	}
}

// createProtected creates the node dir/_c_<uuid>-<name> (a sequential mode
// appends the counter) and returns its path, creating dir and its ancestors
// with parentMode if they are missing. Like Curator's withProtection, it
// looks for the node by its uuid when the reply to the create was lost, so
// that no node is created twice; if it gives up (ctx ended, or an error)
// after the create may have reached the server, it deletes what it
// created.
func createProtected(ctx context.Context, c *zk.Conn, dir, name string, data []byte, acl []zk.ACL,
	mode, parentMode zk.CreateMode) (string, error) {
	prefix := protectedPrefix + newUUID() + "-"
	sent := false
	for {
		p, err := c.Create(ctx, join(dir, prefix+name), data, acl, mode)
		if err == nil {
			return p, nil
		}
		switch {
		case errors.Is(err, zk.ErrNoNode):
			if err = ensurePath(ctx, c, dir, acl, parentMode); err == nil {
				continue
			}
		case isConnLoss(err):
			sent = true
			var found string
			err = retry(ctx, func() error {
				var ferr error
				found, ferr = findPrefixed(ctx, c, dir, prefix)
				return ferr
			})
			if err == nil && found != "" {
				return join(dir, found), nil
			}
			if err == nil {
				if err = sleep(ctx, minRetryPause); err == nil {
					continue // it was not created: try again
				}
			}
		default:
			// A context error may come after the request was sent.
			sent = sent || ctx.Err() != nil
		}
		if sent && !isDead(err) {
			deletePrefixed(ctx, c, dir, prefix)
		}
		return "", err
	}
}

func findPrefixed(ctx context.Context, c *zk.Conn, dir, prefix string) (string, error) {
	children, err := c.Children(ctx, dir)
	if errors.Is(err, zk.ErrNoNode) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	for _, ch := range children {
		if strings.HasPrefix(ch, prefix) {
			return ch, nil
		}
	}
	return "", nil
}

// deletePrefixed deletes, best effort, the node of dir whose name starts
// with prefix, if there is one. Requests of a session are handled in
// order, so a create sent before is seen.
func deletePrefixed(ctx context.Context, c *zk.Conn, dir, prefix string) {
	cctx, cancel := cleanupContext(ctx, c)
	defer cancel()
	var found string
	err := retry(cctx, func() error {
		var ferr error
		found, ferr = findPrefixed(cctx, c, dir, prefix)
		return ferr
	})
	if err == nil && found != "" {
		deleteNode(cctx, c, join(dir, found))
	}
}

// deleteNode deletes path (any version), retrying on connection loss; a
// node that is already gone is not an error.
func deleteNode(ctx context.Context, c *zk.Conn, path string) error {
	err := retry(ctx, func() error { return c.Delete(ctx, path, -1) })
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	return err
}

// cleanupNode deletes path, best effort, after ctx ended or failed.
func cleanupNode(ctx context.Context, c *zk.Conn, path string) {
	cctx, cancel := cleanupContext(ctx, c)
	defer cancel()
	deleteNode(cctx, c, path)
}

// seqNode is a sequential node: its name and the sequence number the server
// appended to it.
type seqNode struct {
	name string
	seq  int64
}

// sequenceOf returns the sequence number at the end of name if it directly
// follows one of markers: ("_c_…-lock-0000000012", "lock-") → 12. (The
// server's counter is a signed 32-bit number printed in ten digits; a parent
// that has had 2^31 sequential children wraps it, which no lock layout
// survives, ZooKeeper's own included.)
func sequenceOf(name string, markers ...string) (int64, bool) {
	if len(name) < 10 {
		return 0, false
	}
	digits := name[len(name)-10:]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	rest := name[:len(name)-10]
	for _, m := range markers {
		if strings.HasSuffix(rest, m) {
			n, _ := strconv.ParseInt(digits, 10, 64)
			return n, true
		}
	}
	return 0, false
}

// sortSequential keeps the children that carry one of markers and sorts
// them by sequence number (then name).
func sortSequential(children []string, markers ...string) []seqNode {
	out := make([]seqNode, 0, len(children))
	for _, ch := range children {
		if n, ok := sequenceOf(ch, markers...); ok {
			out = append(out, seqNode{ch, n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].seq != out[j].seq {
			return out[i].seq < out[j].seq
		}
		return out[i].name < out[j].name
	})
	return out
}

func indexOf(nodes []seqNode, name string) int {
	for i, n := range nodes {
		if n.name == name {
			return i
		}
	}
	return -1
}
