package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// serverStats are the counters srvr/stat/mntr report (ZooKeeper's
// ServerStats).
type serverStats struct {
	packetsReceived atomic.Int64
	packetsSent     atomic.Int64

	mu       sync.Mutex
	minLat   int64
	maxLat   int64
	totalLat int64
	countLat int64
	// Sizes of the replies and notifications sent to clients (ZooKeeper's
	// clientResponseStats, a BufferStats): the frame length without its
	// 4-byte prefix; -1 until the first one.
	respLast, respMin, respMax int64
}

// reset is srst (ServerStats.reset): latency, packet counters and response
// sizes.
func (s *serverStats) reset() {
	s.packetsReceived.Store(0)
	s.packetsSent.Store(0)
	s.mu.Lock()
	s.minLat, s.maxLat, s.totalLat, s.countLat = 0, 0, 0, 0
	s.respLast, s.respMin, s.respMax = -1, -1, -1
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

// recordResponse notes the size of a reply or notification frame (without
// the length prefix), as ZooKeeper's ServerCnxn.serialize does; connect
// responses and four-letter-word answers are not counted.
func (s *serverStats) recordResponse(size int) {
	n := int64(size)
	s.mu.Lock()
	s.respLast = n
	if s.respMin == -1 || n < s.respMin {
		s.respMin = n
	}
	if n > s.respMax {
		s.respMax = n
	}
	s.mu.Unlock()
}

// responseSizes returns the last, min and max response sizes (-1 if none).
func (s *serverStats) responseSizes() (last, min, max int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.respLast, s.respMin, s.respMax
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

// connStats are one connection's counters (cons). The zero value is a new
// connection's state in ZooKeeper (whose ServerCnxn fields start at Java's
// defaults): lop=null, lcxid=0x0, lzxid=0x0. reset (crst) gives lop=NA, no
// lcxid and lzxid=0xffffffffffffffff, as ServerCnxn.resetStats does.
type connStats struct {
	established time.Time
	received    atomic.Int64
	sent        atomic.Int64
	// fourLW marks a four-letter-word connection (interest ops 0 in
	// stat/cons). Set by the connection's reader, read by other
	// connections' four-letter words.
	fourLW atomic.Bool

	mu       sync.Mutex
	lastOp   string // "" until the first request or reset: printed "null"
	lastCxid int32
	noCxid   bool // after reset, until a request with xid >= 0
	lastZxid int64
	lastResp time.Time
	lastLat  int64
	minLat   int64
	maxLat   int64
	totalLat int64
	countLat int64
}

func (c *connStats) record(it *item, zxid int64, d time.Duration) {
	c.recordOp(it.op.ShortName(), it.xid, zxid, d)
}

// recordOp is ServerCnxn.updateStatsForResponse.
func (c *connStats) recordOp(op string, xid int32, zxid int64, d time.Duration) {
	ms := d.Milliseconds()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastOp = op
	if xid >= 0 {
		c.lastCxid = xid
		c.noCxid = false
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
	c.lastOp, c.noCxid, c.lastCxid, c.lastZxid = "NA", true, 0, -1
	c.lastResp = time.Time{}
	c.lastLat, c.minLat, c.maxLat, c.totalLat, c.countLat = 0, 0, 0, 0, 0
	c.mu.Unlock()
}

// sessionCreated records a new session's createSession as its connection's
// first operation (ZooKeeper's FinalRequestProcessor answers it as "SESS",
// cxid 0), counting its latency from start.
func (c *conn) sessionCreated(zxid int64, start time.Time) {
	d := time.Since(start)
	c.stats.recordOp("SESS", 0, zxid, d)
	c.s.stats.recordLatency(d)
}
