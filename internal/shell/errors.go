package shell

import (
	"context"
	"errors"
	"strconv"

	"github.com/warren-zk/warren/zk"
)

// keeperErr is a Java KeeperException: a code and the client path of the
// call that failed (null for the client's own ACL check).
type keeperErr struct {
	code     zk.Code
	path     string
	nullPath bool
}

func (e *keeperErr) Error() string { return e.message() }

// kerr converts an error of the zk package for path to a keeperErr.
func kerr(err error, path string) error {
	if err == nil {
		return nil
	}
	var ke *keeperErr
	if errors.As(err, &ke) {
		return ke
	}
	return &keeperErr{code: codeOf(err), path: path}
}

func codeOf(err error) zk.Code {
	var c zk.Code
	if errors.As(err, &c) {
		return c
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, zk.ErrClosed) {
		return zk.ErrConnectionLoss
	}
	return zk.ErrConnectionLoss
}

// codeMessage is KeeperException.getCodeMessage.
func codeMessage(c zk.Code) string {
	switch c {
	case 0:
		return "ok"
	case zk.ErrSystemError:
		return "SystemError"
	case zk.ErrRuntimeInconsistency:
		return "RuntimeInconsistency"
	case zk.ErrDataInconsistency:
		return "DataInconsistency"
	case zk.ErrConnectionLoss:
		return "ConnectionLoss"
	case zk.ErrMarshallingError:
		return "MarshallingError"
	case zk.ErrNewConfigNoQuorum:
		return "NewConfigNoQuorum"
	case zk.ErrReconfigInProgress:
		return "ReconfigInProgress"
	case zk.ErrUnimplemented:
		return "Unimplemented"
	case zk.ErrOperationTimeout:
		return "OperationTimeout"
	case zk.ErrBadArguments:
		return "BadArguments"
	case zk.ErrAPIError:
		return "APIError"
	case zk.ErrNoNode:
		return "NoNode"
	case zk.ErrNoAuth:
		return "NoAuth"
	case zk.ErrBadVersion:
		return "BadVersion"
	case zk.ErrNoChildrenForEphemerals:
		return "NoChildrenForEphemerals"
	case zk.ErrNodeExists:
		return "NodeExists"
	case zk.ErrInvalidACL:
		return "InvalidACL"
	case zk.ErrAuthFailed:
		return "AuthFailed"
	case zk.ErrNotEmpty:
		return "Directory not empty"
	case zk.ErrSessionExpired:
		return "Session expired"
	case zk.ErrInvalidCallback:
		return "Invalid callback"
	case zk.ErrSessionMoved:
		return "Session moved"
	case zk.ErrNotReadOnly:
		return "Not a read-only call"
	case zk.ErrEphemeralOnLocalSession:
		return "Ephemeral node on local session"
	case zk.ErrNoWatcher:
		return "No such watcher"
	case zk.ErrReconfigDisabled:
		return "Reconfig is disabled"
	case zk.ErrSessionClosedRequireSASLAuth:
		return "Session closed because client failed to authenticate"
	case zk.ErrQuotaExceeded:
		return "Quota has exceeded"
	case zk.ErrThrottledOp:
		return "Op throttled due to high load"
	case zk.ErrUnknownSession:
		return "Unknown error UNKNOWNSESSION"
	case zk.ErrRequestTimeout:
		return "Unknown error REQUESTTIMEOUT"
	}
	return "Unknown error " + strconv.Itoa(int(c))
}

// message is KeeperException.getMessage.
func (e *keeperErr) message() string {
	if e.nullPath || e.path == "" {
		return "KeeperErrorCode = " + codeMessage(e.code)
	}
	return "KeeperErrorCode = " + codeMessage(e.code) + " for " + e.path
}

// wrapperMessage is CliWrapperException's message.
func (e *keeperErr) wrapperMessage() string {
	p := e.path
	if e.nullPath {
		p = "null"
	}
	switch e.code {
	case zk.ErrNoNode:
		return "Node does not exist: " + p
	case zk.ErrNoChildrenForEphemerals:
		return "Ephemerals cannot have children: " + p
	case zk.ErrNodeExists:
		return "Node already exists: " + p
	case zk.ErrNotEmpty:
		return "Node not empty: " + p
	case zk.ErrNotReadOnly:
		return "Not a read-only call: " + p
	case zk.ErrInvalidACL:
		return "Acl is not valid : " + p
	case zk.ErrNoAuth:
		return "Insufficient permission : " + p
	case zk.ErrBadArguments:
		return "Arguments are not valid : " + p
	case zk.ErrBadVersion:
		return "version No is not valid : " + p
	case zk.ErrReconfigInProgress:
		return "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"
	case zk.ErrNewConfigNoQuorum:
		return "No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced"
	case zk.ErrQuotaExceeded:
		return "Quota has exceeded : " + p
	}
	return e.message()
}

// wrap turns the error of a command's work into what zkCli prints: a
// KeeperException as CliWrapperException, an IllegalArgumentException as
// MalformedPathException; the others pass.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ke *keeperErr
	if errors.As(err, &ke) {
		return cliErr(ke.wrapperMessage())
	}
	if msg, ok := isIllegalArgument(err); ok {
		return cliErr(msg)
	}
	return err
}

// invalidACL is the client's own check of an empty ACL.
var invalidACL = &keeperErr{code: zk.ErrInvalidACL, nullPath: true}
