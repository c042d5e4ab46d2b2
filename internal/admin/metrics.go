package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// PrometheusProvider is the metricsProvider.className that turns the
// Prometheus endpoint on, as it does in ZooKeeper.
const PrometheusProvider = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"

// MetricsOptions configure the Prometheus metrics.
type MetricsOptions struct {
	// Runtime adds the Go runtime's and the process's metrics (go_*,
	// process_*), Warren's counterpart of ZooKeeper's jvm_* metrics
	// (metricsProvider.exportJvmInfo, default true).
	Runtime bool
	// Version is reported by warren_build_info.
	Version string
}

// Metrics are one server's Prometheus metrics, in a registry of their own
// (never the global one).
//
// ZooKeeper's names, with ZooKeeper's types (what its
// PrometheusMetricsProvider exports, so dashboards built for it work):
// every numeric mntr key as a gauge of the same name and the same value
// mntr prints (znode_count, watch_count, ephemerals_count,
// approximate_data_size, num_alive_connections, outstanding_requests,
// avg_latency, min_latency, max_latency, packets_received, packets_sent,
// global_sessions, uptime, open_file_descriptor_count, ...; in an
// ensemble quorum_size, and on the leader learners, synced_followers,
// synced_observers, leader_uptime, proposal sizes ...), and the summaries
// fsynctime, snapshottime and dbinittime (milliseconds, quantile 0.5, never
// reset by srst, as in ZooKeeper).
//
// Warren's own, prefixed warren_: raft (warren_raft_term,
// warren_raft_commit_index, warren_raft_applied_index,
// warren_raft_apply_lag_entries, warren_raft_leader_changes_seen_total,
// warren_raft_has_leader, warren_raft_is_leader), the log
// (warren_wal_fsync_duration_seconds, warren_wal_fsync_batch_entries),
// snapshots (warren_snapshot_duration_seconds), warren_serving and
// warren_build_info.
type Metrics struct {
	reg *prometheus.Registry

	fsyncTime, snapshotTime, dbInitTime prometheus.Summary
	walFsync, walBatch, snapDuration    prometheus.Histogram
}

// NewMetrics creates the metrics of the server src.
func NewMetrics(src Source, opts MetricsOptions) *Metrics {
	zkSummary := func(name, help string) prometheus.Summary {
		return prometheus.NewSummary(prometheus.SummaryOpts{
			Name: name, Help: help,
			Objectives: map[float64]float64{0.5: 0.05}, // ZooKeeper's basic summaries
		})
	}
	m := &Metrics{
		reg:          prometheus.NewRegistry(),
		fsyncTime:    zkSummary("fsynctime", "Time to fsync the transaction log, in milliseconds (ZooKeeper's fsynctime)."),
		snapshotTime: zkSummary("snapshottime", "Time to write a snapshot, in milliseconds (ZooKeeper's snapshottime)."),
		dbInitTime:   zkSummary("dbinittime", "Time to load the snapshot and the log at start, in milliseconds (ZooKeeper's dbinittime)."),
		walFsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "warren_wal_fsync_duration_seconds",
			Help:    "Time to write and fdatasync one batch of the write-ahead log.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 100µs .. 3.3s
		}),
		walBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "warren_wal_fsync_batch_entries",
			Help:    "Raft entries made durable by one fdatasync of the write-ahead log (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13), // 1 .. 4096
		}),
		snapDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "warren_snapshot_duration_seconds",
			Help:    "Time to write a snapshot and record it in the log.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16), // 1ms .. 33s
		}),
	}
	m.reg.MustRegister(m.fsyncTime, m.snapshotTime, m.dbInitTime, m.walFsync, m.walBatch, m.snapDuration,
		&sourceCollector{src: src, version: opts.Version})
	if opts.Runtime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Registry returns the registry the metrics live in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's formats at /metrics (and
// nothing else, as ZooKeeper's provider does).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return mux
}

// ObserveFsync records one synced write of the log: how long it took and how
// many entries it made durable. A nil *Metrics ignores it.
func (m *Metrics) ObserveFsync(d time.Duration, entries int) {
	if m == nil {
		return
	}
	m.fsyncTime.Observe(float64(d.Milliseconds()))
	m.walFsync.Observe(d.Seconds())
	m.walBatch.Observe(float64(entries))
}

// ObserveSnapshot records the time one snapshot took.
func (m *Metrics) ObserveSnapshot(d time.Duration) {
	if m == nil {
		return
	}
	m.snapshotTime.Observe(float64(d.Milliseconds()))
	m.snapDuration.Observe(d.Seconds())
}

// ObserveDBInit records the time loading the data took at start.
func (m *Metrics) ObserveDBInit(d time.Duration) {
	if m == nil {
		return
	}
	m.dbInitTime.Observe(float64(d.Milliseconds()))
}

// sourceCollector reads the gauges from the server at each scrape (as
// ZooKeeper samples its gauges before serving /metrics): mntr's numeric
// values under their own names, and raft's state.
type sourceCollector struct {
	src     Source
	version string
}

var (
	descTerm          = prometheus.NewDesc("warren_raft_term", "Current raft term.", nil, nil)
	descCommit        = prometheus.NewDesc("warren_raft_commit_index", "Highest raft log index known committed (as persisted).", nil, nil)
	descApplied       = prometheus.NewDesc("warren_raft_applied_index", "Highest raft log index applied to the tree.", nil, nil)
	descApplyLag      = prometheus.NewDesc("warren_raft_apply_lag_entries", "Committed entries not yet applied (commit index minus applied index).", nil, nil)
	descLeaderChanges = prometheus.NewDesc("warren_raft_leader_changes_seen_total", "Raft leaders this server has seen since it started.", nil, nil)
	descHasLeader     = prometheus.NewDesc("warren_raft_has_leader", "1 if this server knows a raft leader.", nil, nil)
	descIsLeader      = prometheus.NewDesc("warren_raft_is_leader", "1 if this server is the raft leader.", nil, nil)
	descServing       = prometheus.NewDesc("warren_serving", "1 while this server serves clients (what /readyz reports).", nil, nil)
	descBuildInfo     = prometheus.NewDesc("warren_build_info", "Always 1; the version label is what srvr and mntr report.", []string{"version"}, nil)
)

// Describe sends nothing: the gauges present depend on the server's role
// (the leader's come and go with leadership, as in ZooKeeper), so the
// collector is unchecked.
func (c *sourceCollector) Describe(chan<- *prometheus.Desc) {}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descBuildInfo, prometheus.GaugeValue, 1, c.version)
	if !c.src.Up() {
		ch <- prometheus.MustNewConstMetric(descServing, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descServing, prometheus.GaugeValue, b2f(c.src.Serving()))
	for _, f := range c.src.Monitor().Values {
		v, ok := number(f.Value)
		if !ok {
			continue // version, server_state, peer_state
		}
		desc := prometheus.NewDesc(f.Key, "mntr's zk_"+f.Key+" (ZooKeeper's gauge "+f.Key+").", nil, nil)
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v)
	}
	r := c.src.Raft()
	lag := uint64(0)
	if r.Commit > r.Applied {
		lag = r.Commit - r.Applied
	}
	ch <- prometheus.MustNewConstMetric(descTerm, prometheus.GaugeValue, float64(r.Term))
	ch <- prometheus.MustNewConstMetric(descCommit, prometheus.GaugeValue, float64(r.Commit))
	ch <- prometheus.MustNewConstMetric(descApplied, prometheus.GaugeValue, float64(r.Applied))
	ch <- prometheus.MustNewConstMetric(descApplyLag, prometheus.GaugeValue, float64(lag))
	ch <- prometheus.MustNewConstMetric(descLeaderChanges, prometheus.CounterValue, float64(r.LeaderChanges))
	ch <- prometheus.MustNewConstMetric(descHasLeader, prometheus.GaugeValue, b2f(r.Leader != 0))
	ch <- prometheus.MustNewConstMetric(descIsLeader, prometheus.GaugeValue, b2f(r.IsLeader))
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// MetricsEnabled reports whether a zoo.cfg asks for the Prometheus
// endpoint: metricsProvider.className is ZooKeeper's
// PrometheusMetricsProvider (ZooKeeper's rule), or Warren's own key
// warren.metrics is true (to have it without naming a Java class).
func MetricsEnabled(className string, props map[string]string) bool {
	return className == PrometheusProvider || strings.EqualFold(strings.TrimSpace(props["warren.metrics"]), "true")
}
