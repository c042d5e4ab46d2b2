package shell

import (
	"encoding/base64"
	"errors"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/warren-zk/warren/zk"
)

// command is one of zkCli's CliCommands.
type command struct {
	run func(s *Shell, args []string) error
}

// localCommands are handled by ZooKeeperMain itself.
var localCommands = map[string]bool{"connect": true, "history": true, "redo": true, "printwatches": true, "quit": true}

// usageOptions is ZooKeeperMain.commandMap (zkCli 3.8's usage texts).
var usageOptions = map[string]string{
	"addWatch":             "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
	"addauth":              "scheme auth",
	"close":                "",
	"config":               "[-c] [-w] [-s]",
	"connect":              "host:port",
	"create":               "[-s] [-e] [-c] [-t ttl] path [data] [acl]",
	"delete":               "[-v version] path",
	"deleteall":            "path [-b batch size]",
	"delquota":             "[-n|-b|-N|-B] path",
	"get":                  "[-s] [-w] path",
	"getAcl":               "[-s] path",
	"getAllChildrenNumber": "path",
	"getEphemerals":        "path",
	"history":              "",
	"listquota":            "path",
	"ls":                   "[-s] [-w] [-R] path",
	"printwatches":         "on|off",
	"quit":                 "",
	"reconfig":             "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
	"redo":                 "cmdno",
	"removewatches":        "path [-c|-d|-a] [-l]",
	"set":                  "[-s] [-v version] path data",
	"setAcl":               "[-s] [-v version] [-R] path acl",
	"setquota":             "-n|-b|-N|-B val path",
	"stat":                 "[-w] path",
	"sync":                 "path",
	"version":              "",
	"whoami":               "",
}

// usageErr is CliParseException(getUsageStr()).
func usageErr(name string) error { return cliErr(name + " " + usageOptions[name]) }

var commands map[string]*command

func init() {
	commands = map[string]*command{
		"addWatch":             {cmdAddWatch},
		"addauth":              {cmdAddAuth},
		"close":                {cmdClose},
		"config":               {cmdConfig},
		"create":               {cmdCreate},
		"delete":               {cmdDelete},
		"deleteall":            {cmdDeleteAll},
		"delquota":             {cmdDelQuota},
		"get":                  {cmdGet},
		"getAcl":               {cmdGetACL},
		"getAllChildrenNumber": {cmdGetAllChildrenNumber},
		"getEphemerals":        {cmdGetEphemerals},
		"listquota":            {cmdListQuota},
		"ls":                   {cmdLs},
		"reconfig":             {cmdReconfig},
		"removewatches":        {cmdRemoveWatches},
		"set":                  {cmdSet},
		"setAcl":               {cmdSetACL},
		"setquota":             {cmdSetQuota},
		"stat":                 {cmdStat},
		"sync":                 {cmdSync},
		"version":              {cmdVersion},
		"whoami":               {cmdWhoAmI},
	}
}

func flags(spec string) *optSet {
	set := &optSet{}
	for _, f := range strings.Fields(spec) {
		o := optSpec{name: strings.TrimSuffix(f, ":")}
		o.hasArg = strings.HasSuffix(f, ":")
		set.opts = append(set.opts, o)
	}
	return set
}

// parse is DefaultParser.parse wrapped as zkCli wraps it.
func parse(set *optSet, args []string) (*cmdLine, error) {
	cl, err := parseOpts(set, args)
	if err != nil {
		return nil, cliErr(err.Error())
	}
	return cl, nil
}

// retain is the retainCompatibility of get, ls and stat: a third argument
// is the old "watch" flag. It replaces the raw third word by -w.
func retain(s *Shell, set *optSet, args []string, cl *cmdLine, name, now string) (*cmdLine, error) {
	if len(cl.args) <= 2 {
		return cl, nil
	}
	args = slices.Clone(args)
	args[2] = "-w"
	s.errln("'" + name + " path [watch]' has been deprecated. Please use '" + now + "' instead.")
	return parse(set, args)
}

func (s *Shell) stat(st zk.Stat) { s.write(s.opts.Stdout, formatStat(st, s.loc, s.zone)) }

// --- reads ---

var getOpts = flags("s w b x")

func cmdGet(s *Shell, args []string) error {
	cl, err := parse(getOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("get")
	}
	if cl, err = retain(s, getOpts, args, cl, "get", "get [-s] [-w] path"); err != nil {
		return err
	}
	path, watch := cl.args[1], cl.has("w")
	data, st, err := s.getData(path, watch)
	if err != nil {
		return wrap(err)
	}
	if data == nil {
		data = []byte("null")
	}
	switch {
	case cl.has("x"):
		s.outln(hexDump(data))
	case cl.has("b"):
		s.outln(base64.StdEncoding.EncodeToString(data))
	default:
		s.outln(JavaString(data))
	}
	if cl.has("s") {
		s.stat(st)
	}
	return nil
}

// getData is ZooKeeper.getData(path, watch, stat).
func (s *Shell) getData(path string, watch bool) ([]byte, zk.Stat, error) {
	if err := ValidatePath(path); err != nil {
		return nil, zk.Stat{}, err
	}
	c, err := s.client()
	if err != nil {
		return nil, zk.Stat{}, kerr(err, path)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	if !watch {
		data, st, err := c.Get(ctx, path)
		return data, st, kerr(err, path)
	}
	data, st, ch, err := c.GetW(ctx, path)
	s.sess.watch(path, kindData, ch)
	return data, st, kerr(err, path)
}

// getChildren is ZooKeeper.getChildren(path, watch[, stat]).
func (s *Shell) getChildren(path string, watch, withStat bool) ([]string, zk.Stat, error) {
	if err := ValidatePath(path); err != nil {
		return nil, zk.Stat{}, err
	}
	c, err := s.client()
	if err != nil {
		return nil, zk.Stat{}, kerr(err, path)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	switch {
	case watch:
		kids, st, ch, err := c.ChildrenW(ctx, path)
		s.sess.watch(path, kindChild, ch)
		return kids, st, kerr(err, path)
	case withStat:
		kids, st, err := c.Children2(ctx, path)
		return kids, st, kerr(err, path)
	}
	kids, err := c.Children(ctx, path)
	return kids, zk.Stat{}, kerr(err, path)
}

func sortJava(names []string) {
	sort.Slice(names, func(i, j int) bool { return javaLess(names[i], names[j]) })
}

// visit is ZKUtil.visitSubTreeDFS: the node (which must exist), then
// depth first, each node's children (sorted) before their subtrees.
func (s *Shell) visit(path string, watch bool, cb func(p string) error) error {
	if err := ValidatePath(path); err != nil {
		return err
	}
	if _, _, err := s.getData(path, watch); err != nil {
		return err
	}
	if err := cb(path); err != nil {
		return err
	}
	return s.visitChildren(path, watch, cb)
}

func (s *Shell) visitChildren(path string, watch bool, cb func(p string) error) error {
	kids, _, err := s.getChildren(path, watch, false)
	if err != nil {
		var ke *keeperErr
		if errors.As(err, &ke) && ke.code == zk.ErrNoNode {
			return nil
		}
		return err
	}
	sortJava(kids)
	prefix := path + "/"
	if path == "/" {
		prefix = "/"
	}
	for _, k := range kids {
		if err := cb(prefix + k); err != nil {
			return err
		}
	}
	for _, k := range kids {
		if err := s.visitChildren(prefix+k, watch, cb); err != nil {
			return err
		}
	}
	return nil
}

var lsOpts = flags("? s w R")

const lsHelp = "usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch\n"

func cmdLs(s *Shell, args []string) error {
	cl, err := parse(lsOpts, args)
	if err != nil {
		return err
	}
	if cl.has("?") {
		s.write(s.opts.Stdout, lsHelp)
	}
	if cl, err = retain(s, lsOpts, args, cl, "ls", "ls [-w] path"); err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("ls")
	}
	path, watch, withStat := cl.args[1], cl.has("w"), cl.has("s")
	if cl.has("R") {
		return wrap(s.visit(path, watch, func(p string) error { s.outln(p); return nil }))
	}
	kids, st, err := s.getChildren(path, watch, withStat)
	if err != nil {
		return wrap(err)
	}
	sortJava(kids)
	s.outln("[" + strings.Join(kids, ", ") + "]")
	if withStat {
		s.stat(st)
	}
	return nil
}

var statOpts = flags("w")

func cmdStat(s *Shell, args []string) error {
	cl, err := parse(statOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("stat")
	}
	if cl, err = retain(s, statOpts, args, cl, "stat", "stat [-w] path"); err != nil {
		return err
	}
	path, watch := cl.args[1], cl.has("w")
	if err := ValidatePath(path); err != nil {
		return wrap(err)
	}
	c, err := s.client()
	if err != nil {
		return wrap(kerr(err, path))
	}
	ctx, cancel := s.ctx()
	defer cancel()
	var ok bool
	var st zk.Stat
	if watch {
		var ch <-chan zk.Event
		ok, st, ch, err = c.ExistsW(ctx, path)
		s.sess.watch(path, kindData, ch)
	} else {
		ok, st, err = c.Exists(ctx, path)
	}
	if err != nil {
		return wrap(kerr(err, path))
	}
	if !ok {
		return wrap(&keeperErr{code: zk.ErrNoNode, path: path})
	}
	s.stat(st)
	return nil
}

var getACLOpts = flags("s")

func cmdGetACL(s *Shell, args []string) error {
	cl, err := parse(getACLOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("getAcl")
	}
	path := cl.args[1]
	if err := ValidatePath(path); err != nil {
		return wrap(err)
	}
	c, err := s.client()
	if err != nil {
		return wrap(kerr(err, path))
	}
	ctx, cancel := s.ctx()
	defer cancel()
	acl, st, err := c.GetACL(ctx, path)
	if err != nil {
		return wrap(kerr(err, path))
	}
	var b strings.Builder
	for _, a := range acl {
		b.WriteString(formatACL(a))
	}
	s.write(s.opts.Stdout, b.String())
	if cl.has("s") {
		s.stat(st)
	}
	return nil
}

var noOpts = flags("")

func cmdGetAllChildrenNumber(s *Shell, args []string) error {
	cl, err := parse(noOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("getAllChildrenNumber")
	}
	path := cl.args[1]
	if err := ValidatePath(path); err != nil {
		return wrap(err)
	}
	c, err := s.client()
	if err != nil {
		return wrap(kerr(err, path))
	}
	ctx, cancel := s.ctx()
	defer cancel()
	n, err := c.GetAllChildrenNumber(ctx, path)
	if err != nil {
		return wrap(kerr(err, path))
	}
	s.outln(strconv.Itoa(n))
	return nil
}

func cmdGetEphemerals(s *Shell, args []string) error {
	cl, err := parse(noOpts, args)
	if err != nil {
		return err
	}
	path := "/"
	if len(cl.args) >= 2 {
		path = cl.args[1]
	}
	if err := ValidatePath(path); err != nil {
		return wrap(err)
	}
	c, err := s.client()
	if err != nil {
		return wrap(kerr(err, path))
	}
	ctx, cancel := s.ctx()
	defer cancel()
	eph, err := c.GetEphemerals(ctx, path)
	if err != nil {
		return wrap(kerr(err, path))
	}
	s.outln("[" + strings.Join(eph, ", ") + "]")
	return nil
}

var configOpts = flags("s w c")

// configNode is ZooDefs.CONFIG_NODE.
const configNode = "/zookeeper/config"

func cmdConfig(s *Shell, args []string) error {
	cl, err := parse(configOpts, args)
	if err != nil {
		return err
	}
	data, st, err := s.getData(configNode, cl.has("w"))
	if err != nil {
		return wrap(err)
	}
	if data == nil {
		data = []byte("null")
	}
	if cl.has("c") {
		s.outln(clientConfigString(JavaString(data)))
	} else {
		s.outln(JavaString(data))
	}
	if cl.has("s") {
		s.stat(st)
	}
	return nil
}

func cmdWhoAmI(s *Shell, args []string) error {
	var infos []zk.ClientInfo
	if c, err := s.client(); err == nil {
		ctx, cancel := s.ctx()
		infos, _ = c.WhoAmI(ctx) // the Java client ignores the reply's error
		cancel()
	}
	var b strings.Builder
	b.WriteString("Auth scheme: User\n")
	for _, ci := range infos {
		b.WriteString(ci.AuthScheme + ": " + ci.User + "\n")
	}
	s.write(s.opts.Stdout, b.String())
	return nil
}

func cmdVersion(s *Shell, args []string) error {
	cl, err := parse(noOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) > 1 {
		return usageErr("version")
	}
	s.outln("ZooKeeper CLI version: " + s.opts.Version)
	return nil
}

func cmdSync(s *Shell, args []string) error {
	cl, err := parse(noOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("sync")
	}
	path := cl.args[1]
	if err := ValidatePath(path); err != nil {
		return wrap(err)
	}
	var rc zk.Code
	if c, err := s.client(); err != nil {
		rc = codeOf(err)
	} else {
		ctx, cancel := s.ctx()
		_, err = c.Sync(ctx, path)
		cancel()
		if err != nil {
			rc = codeOf(err)
		}
	}
	if rc == 0 {
		s.outln("Sync is OK")
	} else {
		s.outln("Sync has failed. rc=" + strconv.Itoa(int(rc)))
	}
	return nil
}

// --- writes ---

var createOpts = flags("e s c t:")

func cmdCreate(s *Shell, args []string) error {
	cl, err := parse(createOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("create")
	}
	hasE, hasS, hasC, hasT := cl.has("e"), cl.has("s"), cl.has("c"), cl.has("t")
	if hasC && (hasE || hasS) {
		return cliErr("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.")
	}
	var ttl int64
	if hasT {
		if ttl, err = parseJavaInt(cl.value("t"), 10, 64); err != nil {
			return cliErr("-t argument must be a long value")
		}
	}
	if hasT && hasE {
		return cliErr("TTLs cannot be used with Ephemeral znodes")
	}
	if hasT && hasC {
		return cliErr("TTLs cannot be used with Container znodes")
	}
	var mode zk.CreateMode
	switch {
	case hasE && hasS:
		mode = zk.ModeEphemeralSequential
	case hasE:
		mode = zk.ModeEphemeral
	case hasS && hasT:
		mode = zk.ModePersistentSequentialWithTTL
	case hasS:
		mode = zk.ModePersistentSequential
	case hasC:
		mode = zk.ModeContainer
	case hasT:
		mode = zk.ModePersistentWithTTL
	}
	if hasT && (ttl <= 0 || ttl > maxTTL) {
		return cliErr("ttl must be positive and cannot be larger than: " + strconv.FormatInt(maxTTL, 10))
	}
	path := cl.args[1]
	var data []byte
	if len(cl.args) > 2 {
		data = []byte(cl.args[2])
	}
	acl := openACL
	if len(cl.args) > 3 {
		acl = parseACL(cl.args[3], s.errln)
	}
	sequential := mode == zk.ModePersistentSequential || mode == zk.ModeEphemeralSequential || mode == zk.ModePersistentSequentialWithTTL
	if err := validateSeqPath(path, sequential); err != nil {
		return wrap(err)
	}
	err = nil
	var created string
	if len(acl) == 0 {
		err = invalidACL
	} else if c, cerr := s.client(); cerr != nil {
		err = kerr(cerr, path)
	} else {
		ctx, cancel := s.ctx()
		switch {
		case hasT:
			created, err = c.CreateTTL(ctx, path, data, acl, mode, time.Duration(ttl)*time.Millisecond)
		case hasC:
			created, err = c.CreateContainer(ctx, path, data, acl)
		default:
			created, err = c.Create(ctx, path, data, acl, mode)
		}
		cancel()
		err = kerr(err, path)
	}
	if err != nil {
		var ke *keeperErr
		if errors.As(err, &ke) {
			switch ke.code {
			case zk.ErrEphemeralOnLocalSession:
				s.errln("Unable to create ephemeral node on a local session")
			case zk.ErrInvalidACL:
				s.errln(ke.message())
			}
		}
		return wrap(err)
	}
	s.errln("Created " + created)
	return nil
}

var setOpts = flags("s v: b")

func cmdSet(s *Shell, args []string) error {
	cl, err := parse(setOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 3 {
		return usageErr("set")
	}
	path := cl.args[1]
	data := []byte(cl.args[2])
	if cl.has("b") {
		if data, err = decodeBase64(cl.args[2]); err != nil {
			return err
		}
	}
	version := int64(-1)
	if cl.has("v") {
		if version, err = parseJavaInt(cl.value("v"), 10, 32); err != nil {
			return fatal(err.Error())
		}
	}
	if err := ValidatePath(path); err != nil {
		return wrap(err)
	}
	c, err := s.client()
	if err != nil {
		return wrap(kerr(err, path))
	}
	ctx, cancel := s.ctx()
	defer cancel()
	st, err := c.Set(ctx, path, data, int32(version))
	if err != nil {
		return wrap(kerr(err, path))
	}
	if cl.has("s") {
		s.stat(st)
	}
	return nil
}

// decodeBase64 is Base64.getDecoder().decode, whose IllegalArgumentException
// SetCommand does not catch.
func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	if b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil {
		return b, nil
	}
	for _, c := range s {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", c) {
			return nil, fatal("java.lang.IllegalArgumentException: Illegal base64 character " + strconv.FormatInt(int64(int8(c)), 16))
		}
	}
	return nil, fatal("java.lang.IllegalArgumentException: Last unit does not have enough valid bits")
}

var deleteOpts = flags("v:")

func cmdDelete(s *Shell, args []string) error {
	cl, err := parse(deleteOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("delete")
	}
	if len(cl.args) > 2 {
		s.errln("'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.")
	}
	path := cl.args[1]
	version := int64(-1)
	if cl.has("v") {
		if version, err = parseJavaInt(cl.value("v"), 10, 32); err != nil {
			return fatal(err.Error())
		}
	}
	if err := ValidatePath(path); err != nil {
		return wrap(err)
	}
	c, err := s.client()
	if err != nil {
		return wrap(kerr(err, path))
	}
	ctx, cancel := s.ctx()
	defer cancel()
	return wrap(kerr(c.Delete(ctx, path, int32(version)), path))
}

var deleteAllOpts = flags("b:")

func cmdDeleteAll(s *Shell, args []string) error {
	cl, err := parse(deleteAllOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("deleteall")
	}
	batch := int64(1000)
	if cl.has("b") {
		if batch, err = parseJavaInt(cl.value("b"), 10, 32); err != nil {
			return cliErr("-b argument must be an int value")
		}
	}
	path := cl.args[1]
	if err := ValidatePath(path); err != nil {
		return wrap(err)
	}
	// ZKUtil.listSubTreeBFS
	tree := []string{path}
	for i := 0; i < len(tree); i++ {
		kids, _, err := s.getChildren(tree[i], false, false)
		if err != nil {
			return wrap(err)
		}
		prefix := tree[i] + "/"
		if tree[i] == "/" {
			prefix = "/"
		}
		for _, k := range kids {
			tree = append(tree, prefix+k)
		}
	}
	// ZKUtil.deleteInBatch: deepest first, in multis of batch deletes.
	c, err := s.client()
	if err != nil {
		return wrap(kerr(err, path))
	}
	ok := true
	var ops []zk.Op
	for i := len(tree) - 1; i >= 0; i-- {
		ops = append(ops, zk.DeleteOp{Path: tree[i], Version: -1})
		if int64(len(ops)) == batch || i == 0 {
			if !ok {
				break
			}
			ctx, cancel := s.ctx()
			if _, err := c.Multi(ctx, ops...); err != nil {
				ok = false
			}
			cancel()
			ops = nil
		}
	}
	if !ok {
		s.errln("Failed to delete some node(s) in the subtree!")
	}
	return nil
}

var setACLOpts = flags("s v: R")

func cmdSetACL(s *Shell, args []string) error {
	cl, err := parse(setACLOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 3 {
		return usageErr("setAcl")
	}
	path := cl.args[1]
	acl := parseACL(cl.args[2], s.errln)
	version := int64(-1)
	if cl.has("v") {
		if version, err = parseJavaInt(cl.value("v"), 10, 32); err != nil {
			return fatal(err.Error())
		}
	}
	setACL := func(p string) (zk.Stat, error) {
		if err := ValidatePath(p); err != nil {
			return zk.Stat{}, err
		}
		if len(acl) == 0 {
			return zk.Stat{}, invalidACL
		}
		c, err := s.client()
		if err != nil {
			return zk.Stat{}, kerr(err, p)
		}
		ctx, cancel := s.ctx()
		defer cancel()
		st, err := c.SetACL(ctx, p, acl, int32(version))
		return st, kerr(err, p)
	}
	if cl.has("R") {
		return wrap(s.visit(path, false, func(p string) error {
			if _, err := setACL(p); err != nil {
				var ke *keeperErr
				if !errors.As(err, &ke) {
					return err
				}
				s.write(s.opts.Stdout, ke.message())
			}
			return nil
		}))
	}
	st, err := setACL(path)
	if err != nil {
		return wrap(err)
	}
	if cl.has("s") {
		s.stat(st)
	}
	return nil
}

func cmdAddAuth(s *Shell, args []string) error {
	cl, err := parse(noOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("addauth")
	}
	var auth []byte
	if len(cl.args) >= 3 {
		auth = []byte(cl.args[2])
	}
	c, err := s.client()
	if err != nil {
		return nil // addAuthInfo only queues the packet
	}
	ctx, cancel := s.ctx()
	defer cancel()
	s.sess.holdStates()
	if err := c.AddAuth(ctx, cl.args[1], auth); errors.Is(err, zk.ErrAuthFailed) {
		s.sess.authFailure()
	} else {
		s.sess.releaseStates()
	}
	return nil
}

func cmdClose(s *Shell, args []string) error {
	s.closeSession(true)
	return nil
}

// --- watches ---

var addWatchOpts = flags("m:")

func cmdAddWatch(s *Shell, args []string) error {
	cl, err := parse(addWatchOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) != 2 {
		return usageErr("addWatch")
	}
	recursive := true
	if cl.has("m") {
		switch javaUpper(cl.value("m")) {
		case "PERSISTENT":
			recursive = false
		case "PERSISTENT_RECURSIVE":
		default:
			return usageErr("addWatch")
		}
	}
	path := cl.args[1]
	if err := ValidatePath(path); err != nil {
		return fatal("java.lang.IllegalArgumentException: " + err.Error())
	}
	c, err := s.client()
	if err != nil {
		return wrap(kerr(err, path))
	}
	ctx, cancel := s.ctx()
	defer cancel()
	pw, err := c.AddWatch(ctx, path, recursive)
	if err != nil {
		return wrap(kerr(err, path))
	}
	s.sess.persistent(path, recursive, pw)
	return nil
}

var removeWatchesOpts = flags("c d p r a l")

func cmdRemoveWatches(s *Shell, args []string) error {
	cl, err := parse(removeWatchesOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("removewatches")
	}
	path := cl.args[1]
	typ := zk.WatcherAny
	switch {
	case cl.has("c"):
		typ = zk.WatcherChildren
	case cl.has("d"):
		typ = zk.WatcherData
	case cl.has("p"):
		typ = zk.WatcherPersistent
	case cl.has("r"):
		typ = zk.WatcherPersistentRecursive
	}
	local := cl.has("l")
	if err := ValidatePath(path); err != nil {
		return wrap(err)
	}
	claimed, removed := s.sess.claimRemoval(path, typ)
	c, err := s.client()
	if err == nil {
		ctx, cancel := s.ctx()
		err = c.RemoveWatches(ctx, path, typ)
		cancel()
	}
	switch {
	case len(claimed) == 0:
		// The Java client finds no such watch of its own: NoWatcher,
		// whatever the server said.
		s.sess.settleRemoval(claimed, false, false)
		return wrap(&keeperErr{code: zk.ErrNoWatcher, path: path})
	case err != nil && !local:
		s.sess.settleRemoval(claimed, false, false)
		return wrap(kerr(err, path))
	}
	s.sess.settleRemoval(claimed, err == nil, local)
	state := "SyncConnected"
	if c := codeOf(err); err != nil && (c == zk.ErrConnectionLoss || c == zk.ErrSessionExpired) {
		state = "Disconnected"
	}
	for _, et := range removed {
		s.sess.notify(state, et.String(), path)
	}
	return nil
}

// --- reconfig ---

var reconfigOpts = flags("s v: file: members: add: remove:")

func cmdReconfig(s *Shell, args []string) error {
	cl, err := parse(reconfigOpts, args)
	if err != nil {
		return err
	}
	file, members := cl.has("file"), cl.has("members")
	if !(file || members) && !cl.has("add") && !cl.has("remove") {
		return usageErr("reconfig")
	}
	if cl.has("v") {
		if _, err := parseJavaInt(cl.value("v"), 16, 64); err != nil {
			return cliErr("-v must be followed by a long (configuration version)")
		}
	}
	if (file || members) && (cl.has("add") || cl.has("remove")) {
		return cliErr("Can't use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)")
	}
	if file && members {
		return cliErr("Can't use -file and -members together (conflicting non-incremental modes)")
	}
	if file {
		name := cl.value("file")
		f, err := os.Open(name)
		if err != nil {
			reason := "No such file or directory"
			if errors.Is(err, os.ErrPermission) {
				reason = "Permission denied"
			}
			return cliErr("Error processing " + name + name + " (" + reason + ")")
		}
		f.Close()
	}
	// Warren, like a ZooKeeper without reconfigEnabled, has no dynamic
	// reconfiguration: this is what zkCli prints for the server's answer.
	return cliErr("KeeperErrorCode = Reconfig is disabled")
}
