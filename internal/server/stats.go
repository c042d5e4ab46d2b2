package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// serverStats are the counters srvr/stat/mntr report.
type serverStats struct {
	packetsReceived atomic.Int64
	packetsSent     atomic.Int64

	mu       sync.Mutex
	minLat   int64
	maxLat   int64
	totalLat int64
	countLat int64
}

func (s *serverStats) reset() {
	s.packetsReceived.Store(0)
	s.packetsSent.Store(0)
	s.mu.Lock()
	s.minLat, s.maxLat, s.totalLat, s.countLat = 0, 0, 0, 0
	s.mu.Unlock()
}

func (s *serverStats) recordLatency(d time.Duration) {
	ms := d.Milliseconds()
	s.mu.Lock()
	if s.countLat == 0 || ms < s.minLat {
		s.minLat = ms
	}
	if ms > s.maxLat {
		s.maxLat = ms
	}
	s.totalLat += ms
	s.countLat++
	s.mu.Unlock()
}

// latency returns min, avg, max in ms (ZooKeeper prints avg with decimals).
func (s *serverStats) latency() (min int64, avg float64, max int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.countLat == 0 {
		return 0, 0, 0
	}
	return s.minLat, float64(s.totalLat) / float64(s.countLat), s.maxLat
}

// connStats are one connection's counters (cons).
type connStats struct {
	established time.Time
	received    atomic.Int64
	sent        atomic.Int64

	mu       sync.Mutex
	lastOp   string
	lastCxid int32
	hasCxid  bool
	lastZxid int64
	lastResp time.Time
	lastLat  int64
	minLat   int64
	maxLat   int64
	totalLat int64
	countLat int64
}

func (c *connStats) record(it *item, zxid int64, d time.Duration) {
	ms := d.Milliseconds()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastOp = it.op.ShortName()
	if it.xid >= 0 {
		c.lastCxid = it.xid
		c.hasCxid = true
	}
	c.lastZxid = zxid
	c.lastResp = time.Now()
	c.lastLat = ms
	if c.countLat == 0 || ms < c.minLat {
		c.minLat = ms
	}
	if ms > c.maxLat {
		c.maxLat = ms
	}
	c.totalLat += ms
	c.countLat++
}

func (c *connStats) reset() {
	c.received.Store(0)
	c.sent.Store(0)
	c.mu.Lock()
	c.lastOp, c.hasCxid, c.lastCxid, c.lastZxid = "NA", false, 0, 0
	c.lastLat, c.minLat, c.maxLat, c.totalLat, c.countLat = 0, 0, 0, 0, 0
	c.mu.Unlock()
}

var _ = proto.OpPing
