package proto

import "fmt"

// OpCode is a request type (RequestHeader.Type).
type OpCode int32

// Opcodes of the client protocol.
const (
	OpNotification         OpCode = 0
	OpCreate               OpCode = 1
	OpDelete               OpCode = 2
	OpExists               OpCode = 3
	OpGetData              OpCode = 4
	OpSetData              OpCode = 5
	OpGetACL               OpCode = 6
	OpSetACL               OpCode = 7
	OpGetChildren          OpCode = 8
	OpSync                 OpCode = 9
	OpPing                 OpCode = 11
	OpGetChildren2         OpCode = 12
	OpCheck                OpCode = 13
	OpMulti                OpCode = 14
	OpCreate2              OpCode = 15
	OpReconfig             OpCode = 16
	OpCheckWatches         OpCode = 17
	OpRemoveWatches        OpCode = 18
	OpCreateContainer      OpCode = 19
	OpDeleteContainer      OpCode = 20
	OpCreateTTL            OpCode = 21
	OpMultiRead            OpCode = 22
	OpAuth                 OpCode = 100
	OpSetWatches           OpCode = 101
	OpSASL                 OpCode = 102
	OpGetEphemerals        OpCode = 103
	OpGetAllChildrenNumber OpCode = 104
	OpSetWatches2          OpCode = 105
	OpAddWatch             OpCode = 106
	OpWhoAmI               OpCode = 107
	OpCreateSession        OpCode = -10
	OpCloseSession         OpCode = -11
	OpError                OpCode = -1
)

var opNames = map[OpCode]string{
	OpNotification: "notification", OpCreate: "create", OpDelete: "delete", OpExists: "exists",
	OpGetData: "getData", OpSetData: "setData", OpGetACL: "getACL", OpSetACL: "setACL",
	OpGetChildren: "getChildren", OpSync: "sync", OpPing: "ping", OpGetChildren2: "getChildren2",
	OpCheck: "check", OpMulti: "multi", OpCreate2: "create2", OpReconfig: "reconfig",
	OpCheckWatches: "checkWatches", OpRemoveWatches: "removeWatches", OpCreateContainer: "createContainer",
	OpDeleteContainer: "deleteContainer", OpCreateTTL: "createTTL", OpMultiRead: "multiRead",
	OpAuth: "auth", OpSetWatches: "setWatches", OpSASL: "sasl", OpGetEphemerals: "getEphemerals",
	OpGetAllChildrenNumber: "getAllChildrenNumber", OpSetWatches2: "setWatches2", OpAddWatch: "addWatch",
	OpWhoAmI: "whoAmI", OpCreateSession: "createSession", OpCloseSession: "closeSession", OpError: "error",
}

func (o OpCode) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("op(%d)", int32(o))
}

// ShortName is the four-letter-ish name ZooKeeper prints as "lop" in cons.
func (o OpCode) ShortName() string {
	switch o {
	case OpPing:
		return "PING"
	case OpCreateSession:
		return "SESS"
	case OpMulti:
		return "MULT"
	case OpMultiRead:
		return "MLTR"
	case OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL:
		return "CREA"
	case OpDelete, OpDeleteContainer:
		return "DELE"
	case OpSetData:
		return "SETD"
	case OpReconfig:
		return "RECO"
	case OpSetACL:
		return "SETA"
	case OpCloseSession:
		return "CLOS"
	case OpSync:
		return "SYNC"
	case OpCheck:
		return "CHEC"
	case OpExists:
		return "EXIS"
	case OpGetData:
		return "GETD"
	case OpSetWatches:
		return "SETW"
	case OpSetWatches2:
		return "STW2"
	case OpAddWatch:
		return "ADDW"
	case OpGetACL:
		return "GETA"
	case OpGetChildren, OpGetChildren2:
		return "GETC"
	case OpGetAllChildrenNumber:
		return "GETACN"
	case OpCheckWatches:
		return "CHKW"
	case OpRemoveWatches:
		return "REMW"
	case OpWhoAmI:
		return "HOMI"
	case OpGetEphemerals:
		return "GETE"
	}
	return "NA"
}

// Special xids.
const (
	XidNotification int32 = -1
	XidPing         int32 = -2
	XidAuth         int32 = -4
	XidSetWatches   int32 = -8
)

// Err is a ZooKeeper error code (ReplyHeader.Err). Err implements error.
type Err int32

// Error codes (KeeperException.Code).
const (
	ErrOK                           Err = 0
	ErrSystemError                  Err = -1
	ErrRuntimeInconsistency         Err = -2
	ErrDataInconsistency            Err = -3
	ErrConnectionLoss               Err = -4
	ErrMarshallingError             Err = -5
	ErrUnimplemented                Err = -6
	ErrOperationTimeout             Err = -7
	ErrBadArguments                 Err = -8
	ErrUnknownSession               Err = -12
	ErrNewConfigNoQuorum            Err = -13
	ErrReconfigInProgress           Err = -14
	ErrAPIError                     Err = -100
	ErrNoNode                       Err = -101
	ErrNoAuth                       Err = -102
	ErrBadVersion                   Err = -103
	ErrNoChildrenForEphemerals      Err = -108
	ErrNodeExists                   Err = -110
	ErrNotEmpty                     Err = -111
	ErrSessionExpired               Err = -112
	ErrInvalidCallback              Err = -113
	ErrInvalidACL                   Err = -114
	ErrAuthFailed                   Err = -115
	ErrSessionMoved                 Err = -118
	ErrNotReadOnly                  Err = -119
	ErrEphemeralOnLocalSession      Err = -120
	ErrNoWatcher                    Err = -121
	ErrRequestTimeout               Err = -122
	ErrReconfigDisabled             Err = -123
	ErrSessionClosedRequireSASLAuth Err = -124
	ErrQuotaExceeded                Err = -125
	ErrThrottledOp                  Err = -127
)

var errMessages = map[Err]string{
	ErrOK: "ok", ErrSystemError: "SystemError", ErrRuntimeInconsistency: "RuntimeInconsistency",
	ErrDataInconsistency: "DataInconsistency", ErrConnectionLoss: "ConnectionLoss",
	ErrMarshallingError: "MarshallingError", ErrUnimplemented: "Unimplemented",
	ErrOperationTimeout: "OperationTimeout", ErrBadArguments: "BadArguments",
	ErrNewConfigNoQuorum: "NewConfigNoQuorum", ErrReconfigInProgress: "ReconfigInProgress",
	ErrAPIError: "APIError", ErrNoNode: "NoNode", ErrNoAuth: "NoAuth", ErrBadVersion: "BadVersion",
	ErrNoChildrenForEphemerals: "NoChildrenForEphemerals", ErrNodeExists: "NodeExists",
	ErrNotEmpty: "Directory not empty", ErrSessionExpired: "Session expired",
	ErrInvalidCallback: "Invalid callback", ErrInvalidACL: "InvalidACL", ErrAuthFailed: "AuthFailed",
	ErrSessionMoved: "Session moved", ErrNotReadOnly: "Not a read-only call",
	ErrEphemeralOnLocalSession: "Ephemeral node on local session", ErrNoWatcher: "No such watcher",
	ErrReconfigDisabled:             "Reconfig is disabled",
	ErrSessionClosedRequireSASLAuth: "Session closed because client failed to authenticate",
	ErrQuotaExceeded:                "Quota has exceeded", ErrThrottledOp: "Op throttled due to high load",
}

// Message is the Java client's text for the code.
func (e Err) Message() string {
	if s, ok := errMessages[e]; ok {
		return s
	}
	return fmt.Sprintf("Unknown error %d", int32(e))
}

func (e Err) Error() string { return "KeeperErrorCode = " + e.Message() }

// Event types (WatcherEvent.Type).
const (
	EventNone                   int32 = -1
	EventNodeCreated            int32 = 1
	EventNodeDeleted            int32 = 2
	EventNodeDataChanged        int32 = 3
	EventNodeChildrenChanged    int32 = 4
	EventDataWatchRemoved       int32 = 5
	EventChildWatchRemoved      int32 = 6
	EventPersistentWatchRemoved int32 = 7
)

// Keeper states (WatcherEvent.State).
const (
	StateDisconnected      int32 = 0
	StateSyncConnected     int32 = 3
	StateAuthFailed        int32 = 4
	StateConnectedReadOnly int32 = 5
	StateExpired           int32 = -112
	StateClosed            int32 = 7
)

// WatcherType values of checkWatches/removeWatches.
const (
	WatcherChildren            int32 = 1
	WatcherData                int32 = 2
	WatcherAny                 int32 = 3
	WatcherPersistent          int32 = 4
	WatcherPersistentRecursive int32 = 5
)

// AddWatch modes.
const (
	AddWatchPersistent          int32 = 0
	AddWatchPersistentRecursive int32 = 1
)

// Permission bits.
const (
	PermRead   int32 = 1
	PermWrite  int32 = 2
	PermCreate int32 = 4
	PermDelete int32 = 8
	PermAdmin  int32 = 16
	PermAll    int32 = 31
)

// CreateMode flag values.
const (
	ModePersistent                  int32 = 0
	ModeEphemeral                   int32 = 1
	ModePersistentSequential        int32 = 2
	ModeEphemeralSequential         int32 = 3
	ModeContainer                   int32 = 4
	ModePersistentWithTTL           int32 = 5
	ModePersistentSequentialWithTTL int32 = 6
)

// ModeInfo describes a create flag value.
type ModeInfo struct {
	Ephemeral, Sequential, Container, TTL bool
}

// ParseMode decodes create flags; ok is false for an unknown value.
func ParseMode(flags int32) (m ModeInfo, ok bool) {
	switch flags {
	case ModePersistent:
		return ModeInfo{}, true
	case ModeEphemeral:
		return ModeInfo{Ephemeral: true}, true
	case ModePersistentSequential:
		return ModeInfo{Sequential: true}, true
	case ModeEphemeralSequential:
		return ModeInfo{Ephemeral: true, Sequential: true}, true
	case ModeContainer:
		return ModeInfo{Container: true}, true
	case ModePersistentWithTTL:
		return ModeInfo{TTL: true}, true
	case ModePersistentSequentialWithTTL:
		return ModeInfo{Sequential: true, TTL: true}, true
	}
	return ModeInfo{}, false
}

// Well-known ACLs.
var (
	AnyoneID      = Id{Scheme: "world", Id: "anyone"}
	OpenACLUnsafe = []ACL{{Perms: PermAll, Id: AnyoneID}}
	ReadACLUnsafe = []ACL{{Perms: PermRead, Id: AnyoneID}}
	CreatorAllACL = []ACL{{Perms: PermAll, Id: Id{Scheme: "auth", Id: ""}}}
)
