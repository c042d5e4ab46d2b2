package admin

import (
	"math"
	"sync"
)

// Summary is ZooKeeper's AvgMinMaxCounter, a "basic" summary of the default
// metrics provider: mntr prints it as zk_avg_<name>, zk_min_<name>,
// zk_max_<name>, zk_cnt_<name> and zk_sum_<name>, and srst resets it. The
// zero value is not usable; make one with NewSummary.
type Summary struct {
	name string

	mu                     sync.Mutex
	count, total           int64
	minValue, maxValue     int64
	avgKey, minKey, maxKey string
	cntKey, sumKey         string
}

// NewSummary returns an empty summary called name ("fsynctime").
func NewSummary(name string) *Summary {
	s := &Summary{name: name,
		avgKey: "avg_" + name, minKey: "min_" + name, maxKey: "max_" + name,
		cntKey: "cnt_" + name, sumKey: "sum_" + name}
	s.Reset()
	return s
}

// Name returns the summary's name.
func (s *Summary) Name() string { return s.name }

// Add records one value (AvgMinMaxCounter.addDataPoint).
func (s *Summary) Add(v int64) {
	s.mu.Lock()
	s.count++
	s.total += v
	s.minValue = min(s.minValue, v)
	s.maxValue = max(s.maxValue, v)
	s.mu.Unlock()
}

// Reset forgets every value (srst).
func (s *Summary) Reset() {
	s.mu.Lock()
	s.count, s.total = 0, 0
	s.minValue, s.maxValue = math.MaxInt64, math.MinInt64
	s.mu.Unlock()
}

// Values returns the five mntr keys (without "zk_") and their values:
// the average rounded to 4 decimals (0.0 when empty), min and max (0 when
// empty), count and sum.
func (s *Summary) Values() Obj {
	s.mu.Lock()
	count, total, lo, hi := s.count, s.total, s.minValue, s.maxValue
	s.mu.Unlock()
	avg := 0.0
	if count > 0 {
		avg = Round4(float64(total) / float64(count))
	}
	if lo == math.MaxInt64 {
		lo = 0
	}
	if hi == math.MinInt64 {
		hi = 0
	}
	return Obj{{s.avgKey, avg}, {s.minKey, lo}, {s.maxKey, hi}, {s.cntKey, count}, {s.sumKey, total}}
}
