package zk

import (
	"errors"
	"strconv"
)

// Code is a ZooKeeper error code, as carried in a reply header or a multi
// result. A Code is an error: the constants below (ErrNoNode, ErrBadVersion, …)
// are the sentinel values to compare against with errors.Is, and errors.As
// with a *Code target recovers the code from any error this package returns.
type Code int32

// ZooKeeper error codes (KeeperException.Code), one sentinel per code.
const (
	ErrSystemError                  Code = -1
	ErrRuntimeInconsistency         Code = -2 // a multi op after the one that failed
	ErrDataInconsistency            Code = -3
	ErrConnectionLoss               Code = -4 // the connection dropped before the reply arrived
	ErrMarshallingError             Code = -5
	ErrUnimplemented                Code = -6
	ErrOperationTimeout             Code = -7
	ErrBadArguments                 Code = -8
	ErrUnknownSession               Code = -12
	ErrNewConfigNoQuorum            Code = -13
	ErrReconfigInProgress           Code = -14
	ErrAPIError                     Code = -100
	ErrNoNode                       Code = -101
	ErrNoAuth                       Code = -102
	ErrBadVersion                   Code = -103
	ErrNoChildrenForEphemerals      Code = -108
	ErrNodeExists                   Code = -110
	ErrNotEmpty                     Code = -111
	ErrSessionExpired               Code = -112 // the server expired the session; the Conn is dead
	ErrInvalidCallback              Code = -113
	ErrInvalidACL                   Code = -114
	ErrAuthFailed                   Code = -115
	ErrSessionMoved                 Code = -118
	ErrNotReadOnly                  Code = -119
	ErrEphemeralOnLocalSession      Code = -120
	ErrNoWatcher                    Code = -121
	ErrRequestTimeout               Code = -122
	ErrReconfigDisabled             Code = -123
	ErrSessionClosedRequireSASLAuth Code = -124
	ErrQuotaExceeded                Code = -125
	ErrThrottledOp                  Code = -127
)

var codeText = map[Code]string{
	0:                               "ok",
	ErrSystemError:                  "system error",
	ErrRuntimeInconsistency:         "runtime inconsistency",
	ErrDataInconsistency:            "data inconsistency",
	ErrConnectionLoss:               "connection loss",
	ErrMarshallingError:             "marshalling error",
	ErrUnimplemented:                "unimplemented",
	ErrOperationTimeout:             "operation timeout",
	ErrBadArguments:                 "bad arguments",
	ErrUnknownSession:               "unknown session",
	ErrNewConfigNoQuorum:            "new config has no quorum",
	ErrReconfigInProgress:           "reconfig in progress",
	ErrAPIError:                     "api error",
	ErrNoNode:                       "node does not exist",
	ErrNoAuth:                       "not authorized",
	ErrBadVersion:                   "bad version",
	ErrNoChildrenForEphemerals:      "ephemeral nodes may not have children",
	ErrNodeExists:                   "node already exists",
	ErrNotEmpty:                     "node has children",
	ErrSessionExpired:               "session expired",
	ErrInvalidCallback:              "invalid callback",
	ErrInvalidACL:                   "invalid ACL",
	ErrAuthFailed:                   "authentication failed",
	ErrSessionMoved:                 "session moved",
	ErrNotReadOnly:                  "not a read-only call",
	ErrEphemeralOnLocalSession:      "ephemeral node on local session",
	ErrNoWatcher:                    "no such watcher",
	ErrRequestTimeout:               "request timeout",
	ErrReconfigDisabled:             "reconfig is disabled",
	ErrSessionClosedRequireSASLAuth: "session closed because client failed to authenticate",
	ErrQuotaExceeded:                "quota exceeded",
	ErrThrottledOp:                  "operation throttled due to high load",
}

func (c Code) text() string {
	if s, ok := codeText[c]; ok {
		return s
	}
	return "unknown error " + strconv.Itoa(int(c))
}

// Error returns a short description such as "zk: node does not exist".
func (c Code) Error() string { return "zk: " + c.text() }

// Client-side errors that have no ZooKeeper code.
var (
	// ErrClosed reports an operation on a Conn after Close, or a request that
	// was still queued when Close was called.
	ErrClosed = errors.New("zk: connection closed")
	// ErrWatcherOverflow is the reason (Watcher.Err) a persistent watch stream
	// was ended because its consumer fell more than the configured buffer behind.
	ErrWatcherOverflow = errors.New("zk: watcher event buffer overflowed")
)

// Error is the error every operation of a Conn returns: what was asked (Op,
// Path) and why it failed. Code is the ZooKeeper code; for a failure that has
// none (ErrClosed, a context error, a broken reply) Code is 0 and Err holds the
// cause. errors.Is(err, ErrNoNode) and errors.Is(err, context.DeadlineExceeded)
// both see through an *Error.
type Error struct {
	Op   string // the operation as ZooKeeper names it: "create", "getData", "multi", …
	Path string // the path as the caller gave it (without the chroot); "" if none
	Code Code   // the ZooKeeper error code, or 0 if Err is set
	Err  error  // a cause without a ZooKeeper code; nil if Code is set
}

func (e *Error) Error() string {
	s := "zk: " + e.Op
	if e.Path != "" {
		s += " " + e.Path
	}
	if e.Err != nil {
		return s + ": " + trimPrefix(e.Err.Error())
	}
	return s + ": " + e.Code.text()
}

func trimPrefix(s string) string {
	if len(s) > 4 && s[:4] == "zk: " {
		return s[4:]
	}
	return s
}

// Unwrap returns Err if set, else Code.
func (e *Error) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return e.Code
}

// Is reports whether target is an *Error that matches e: the same Code and
// cause, and the same Op and Path where target sets them.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && t.Err == e.Err &&
		(t.Op == "" || t.Op == e.Op) && (t.Path == "" || t.Path == e.Path)
}

// opError wraps err (a Code or a client-side error) for op and path; nil stays nil.
func opError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var c Code
	if errors.As(err, &c) {
		return &Error{Op: op, Path: path, Code: c}
	}
	return &Error{Op: op, Path: path, Err: err}
}

// codeErr converts a reply code to an error: nil for 0.
func codeErr(code int32) error {
	if code == 0 {
		return nil
	}
	return Code(code)
}
