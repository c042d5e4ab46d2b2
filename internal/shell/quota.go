package shell

import (
	"errors"
	"strconv"
	"strings"

	"github.com/warren-zk/warren/zk"
)

// ZooKeeper's quota layout (org.apache.zookeeper.Quotas).
const (
	procZookeeper  = "/zookeeper"
	quotaZookeeper = "/zookeeper/quota"
	limitNode      = "zookeeper_limits"
	statNode       = "zookeeper_stats"
)

func quotaPath(p string) string { return quotaZookeeper + p }
func limitPath(p string) string { return quotaZookeeper + p + "/" + limitNode }
func statPath(p string) string  { return quotaZookeeper + p + "/" + statNode }

func isCode(err error, c zk.Code) bool {
	var ke *keeperErr
	return errors.As(err, &ke) && ke.code == c
}

// --- small synchronous helpers, the Java client's blocking calls ---

func (s *Shell) exists(path string) (bool, error) {
	if err := ValidatePath(path); err != nil {
		return false, err
	}
	c, err := s.client()
	if err != nil {
		return false, kerr(err, path)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	ok, _, err := c.Exists(ctx, path)
	return ok, kerr(err, path)
}

func (s *Shell) create(path string, data []byte) error {
	if err := ValidatePath(path); err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return kerr(err, path)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	_, err = c.Create(ctx, path, data, openACL, zk.ModePersistent)
	return kerr(err, path)
}

func (s *Shell) setData(path string, data []byte) error {
	if err := ValidatePath(path); err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return kerr(err, path)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	_, err = c.Set(ctx, path, data, -1)
	return kerr(err, path)
}

func (s *Shell) delete(path string) error {
	if err := ValidatePath(path); err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return kerr(err, path)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	return kerr(c.Delete(ctx, path, -1), path)
}

func (s *Shell) readStats(path string) (statsTrack, error) {
	data, _, err := s.getData(path, false)
	if err != nil {
		return nil, err
	}
	st, err := parseStatsTrack(JavaString(data))
	if err != nil {
		return nil, fatal(err.Error())
	}
	return st, nil
}

// --- setquota ---

var setQuotaOpts = &optSet{
	opts: []optSpec{
		{name: "n", hasArg: true, desc: "num soft quota"},
		{name: "b", hasArg: true, desc: "bytes soft quota"},
		{name: "N", hasArg: true, desc: "num hard quota"},
		{name: "B", hasArg: true, desc: "bytes hard quota"},
	},
	group:         []string{"n", "b", "N", "B"},
	groupRequired: true,
}

func cmdSetQuota(s *Shell, args []string) error {
	cl, err := parse(setQuotaOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("setquota")
	}
	path := cl.args[1]
	if strings.HasPrefix(path, quotaZookeeper) {
		s.errln("cannot set a quota under the path: " + quotaZookeeper)
		return nil
	}
	quota := statsTrack{"count": -1, "bytes": -1, "countHardLimit": -1, "byteHardLimit": -1}
	for _, f := range []struct {
		opt, key string
		bits     int
		min      int64
		msg      string
	}{
		{"n", "count", 32, 1, "the num quota must be greater than zero"},
		{"b", "bytes", 64, 0, "the bytes quota must be greater than or equal to zero"},
		{"N", "countHardLimit", 32, 1, "the num quota must be greater than zero"},
		{"B", "byteHardLimit", 64, 0, "the bytes quota must be greater than or equal to zero"},
	} {
		if !cl.has(f.opt) {
			continue
		}
		v, err := parseJavaInt(cl.value(f.opt), 10, f.bits)
		if err != nil {
			s.errln("NumberFormatException happens when parsing the option value")
			return nil
		}
		if v < f.min {
			s.errln(f.msg)
			return nil
		}
		quota[f.key] = v
	}
	return wrap(s.createQuota(path, quota))
}

// createQuota is SetQuotaCommand.createQuota.
func (s *Shell) createQuota(path string, quota statsTrack) error {
	ok, err := s.exists(path)
	if err != nil {
		return err
	}
	if !ok {
		return illegalArgument("%s does not exist.", path)
	}
	if err := s.checkIfChildQuota(path); err != nil {
		return err
	}
	if err := s.checkIfParentQuota(path); err != nil {
		return err
	}
	if ok, err := s.exists(quotaZookeeper); err != nil {
		return err
	} else if !ok {
		for _, p := range []string{procZookeeper, quotaZookeeper} {
			if err := s.create(p, nil); err != nil {
				if isCode(err, zk.ErrNodeExists) {
					break
				}
				return err
			}
		}
	}
	qp := quotaZookeeper
	splits := javaSplit(path, "/")
	for i := 1; i < len(splits); i++ {
		qp += "/" + splits[i]
		ok, err := s.exists(qp)
		if err != nil {
			return err
		}
		if !ok {
			if err := s.create(qp, nil); err != nil && !isCode(err, zk.ErrNodeExists) {
				return err
			}
		}
	}
	sp, lp := qp+"/"+statNode, qp+"/"+limitNode
	ok, err = s.exists(lp)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.create(lp, []byte(quota.String())); err != nil {
			return err
		}
		if err := s.create(sp, []byte(statsTrack{"count": 0, "bytes": 0}.String())); err != nil {
			return err
		}
		limits, err := s.readStats(lp)
		if err != nil {
			return err
		}
		stats, err := s.readStats(sp)
		if err != nil {
			return err
		}
		s.checkQuota(limits, stats)
		return nil
	}
	limits, err := s.readStats(lp)
	if err != nil {
		return err
	}
	for _, k := range []string{"count", "bytes", "countHardLimit", "byteHardLimit"} {
		if quota.get(k) > -1 {
			limits[k] = quota.get(k)
		}
	}
	stats, err := s.readStats(sp)
	if err != nil {
		return err
	}
	s.checkQuota(limits, stats)
	return s.setData(lp, []byte(limits.String()))
}

func (s *Shell) checkQuota(limits, stats statsTrack) {
	if (limits.get("count") > -1 && limits.get("count") < stats.get("count")) ||
		(limits.get("countHardLimit") > -1 && limits.get("countHardLimit") < stats.get("count")) {
		s.outln("[Warning]: the count quota you create is less than the existing count:" + strconv.FormatInt(stats.get("count"), 10))
	}
	if (limits.get("bytes") > -1 && limits.get("bytes") < stats.get("bytes")) ||
		(limits.get("byteHardLimit") > -1 && limits.get("byteHardLimit") < stats.get("bytes")) {
		s.outln("[Warning]: the bytes quota you create is less than the existing bytes:" + strconv.FormatInt(stats.get("bytes"), 10))
	}
}

func (s *Shell) checkIfChildQuota(path string) error {
	realPath := quotaPath(path)
	err := s.visit(realPath, false, func(qp string) error {
		kids, _, err := s.getChildren(qp, false, false)
		if err != nil {
			if isCode(err, zk.ErrNoNode) {
				return nil
			}
			kids = nil // the Java code prints a stack trace and goes on
		}
		for _, k := range kids {
			if qp != quotaZookeeper+path && k == limitNode {
				return illegalArgument("%s has a child %s which has a quota", path, qp[len(quotaZookeeper):])
			}
		}
		return nil
	})
	if isCode(err, zk.ErrNoNode) {
		return nil
	}
	return err
}

func (s *Shell) checkIfParentQuota(path string) error {
	splits := javaSplit(path, "/")
	qp := quotaZookeeper
	for i := 1; i < len(splits)-1; i++ {
		qp += "/" + splits[i]
		kids, _, err := s.getChildren(qp, false, false)
		if err != nil {
			if isCode(err, zk.ErrNoNode) {
				return nil
			}
			return err
		}
		if len(kids) == 0 {
			return nil
		}
		for _, k := range kids {
			if qp != quotaPath(path) && k == limitNode {
				return illegalArgument("%s has a parent %s which has a quota", path, qp[len(quotaZookeeper):])
			}
		}
	}
	return nil
}

// --- listquota ---

func cmdListQuota(s *Shell, args []string) error {
	cl, err := parse(noOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("listquota")
	}
	path := cl.args[1]
	s.errln("absolute path is " + limitPath(path))
	limits, err := s.readStats(limitPath(path))
	if err == nil {
		var stats statsTrack
		if stats, err = s.readStats(statPath(path)); err == nil {
			s.outln("Output quota for " + path + " " + limits.String())
			s.outln("Output stat for " + path + " " + stats.String())
			return nil
		}
	}
	if isCode(err, zk.ErrNoNode) {
		s.errln("quota for " + path + " does not exist.")
		return nil
	}
	return wrap(err)
}

// --- delquota ---

var delQuotaOpts = &optSet{
	opts: []optSpec{
		{name: "n", desc: "num soft quota"},
		{name: "b", desc: "bytes soft quota"},
		{name: "N", desc: "num hard quota"},
		{name: "B", desc: "bytes hard quota"},
	},
	group: []string{"n", "b", "N", "B"},
}

func cmdDelQuota(s *Shell, args []string) error {
	cl, err := parse(delQuotaOpts, args)
	if err != nil {
		return err
	}
	if len(cl.args) < 2 {
		return usageErr("delquota")
	}
	path := cl.args[1]
	var clear []string
	for opt, key := range map[string]string{"n": "count", "b": "bytes", "N": "countHardLimit", "B": "byteHardLimit"} {
		if cl.has(opt) {
			clear = append(clear, key)
		}
	}
	err = s.delQuota(path, clear)
	if isCode(err, zk.ErrNoNode) {
		s.errln("quota for " + path + " does not exist.")
		return nil
	}
	return wrap(err)
}

// delQuota is DelQuotaCommand.delQuota: clear the given limits, or (none
// given) remove the quota.
func (s *Shell) delQuota(path string, clear []string) error {
	parent, lp := quotaPath(path), limitPath(path)
	ok, err := s.exists(lp)
	if err != nil {
		return err
	}
	if !ok {
		s.outln("Quota does not exist for " + path)
		return nil
	}
	limits, err := s.readStats(lp)
	if err != nil {
		return err
	}
	if len(clear) == 0 {
		kids, _, err := s.getChildren(parent, false, false)
		if err != nil {
			return err
		}
		for _, k := range kids {
			if err := s.delete(parent + "/" + k); err != nil {
				return err
			}
		}
		return s.trimProcQuotas(parent)
	}
	for _, k := range clear {
		limits[k] = -1
	}
	return s.setData(lp, []byte(limits.String()))
}

func (s *Shell) trimProcQuotas(path string) error {
	for path != quotaZookeeper {
		kids, _, err := s.getChildren(path, false, false)
		if err != nil {
			return err
		}
		if len(kids) != 0 {
			return nil
		}
		if err := s.delete(path); err != nil {
			return err
		}
		path = path[:strings.LastIndexByte(path, '/')]
	}
	return nil
}
