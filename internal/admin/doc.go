// Package admin is Warren's AdminServer (ZooKeeper's Jetty AdminServer,
// over net/http) and its Prometheus metrics. It reads the server through
// Source, which internal/server implements with the same values its
// four-letter words print.
//
// # AdminServer
//
// zoo.cfg keys as ZooKeeper reads them: admin.enableServer (default true),
// admin.serverAddress (0.0.0.0), admin.serverPort (8080; 0 picks a free
// port), admin.commandURL (/commands). Endpoints:
//
//   - GET <commandURL>: an HTML list of the commands' primary names, sorted,
//     each `<a href="<commandURL>/<name>">name</a>` then `<br/>`.
//   - GET <commandURL>/<name>[?key=value]: the command's response as JSON
//     with ZooKeeper's snake_case keys, laid out as Jackson's pretty
//     printer does, with "command" (the primary name) and "error" (null or
//     a message), always HTTP 200. An unknown name gives
//     "Unknown command: <name>"; a command that needs a serving server
//     gives "This ZooKeeper instance is not currently serving requests"
//     while the server does not serve (both with "command" = the name as
//     asked). Commands: connection_stat_reset/crst,
//     configuration/conf/config, connections/cons, dirs, dump,
//     environment/env/envi, get_trace_mask/gtmk, hash,
//     initial_configuration/icfg, is_read_only/isro, last_snapshot/lsnp,
//     leader/lead, monitor/mntr, observer_connection_stat_reset/orst,
//     observers/obsr, ruok, server_stats/srvr, set_trace_mask/stmk
//     (?traceMask=N), stat_reset/srst, stats/stat, voting_view,
//     watch_summary/wchs, watches/wchc, watches_by_path/wchp, zabstate.
//     ZooKeeper's system_properties (JVM properties) has no counterpart.
//   - GET /healthz: 200 "ok" while the process runs (from the first moment
//     of Start, also while the data loads): a liveness probe.
//   - GET /readyz: 200 "ok" only while the server serves clients (it knows
//     a leader and has caught up with it), else 503: a readiness probe and
//     a load balancer's health check.
//   - /debug/pprof/: net/http/pprof, only with warren.pprof=true in the
//     zoo.cfg or server.Options.Pprof (off by default: it exposes the
//     process's internals).
//
// Where Warren departs from ZooKeeper 3.8: monitor and zabstate also answer
// while the server is not serving (ZooKeeper answers monitor with an HTTP
// 500 NullPointerException then, and zabstate as if standalone); watches
// and watches_by_path are bounded as wchc and wchp are, and add
// "truncated": true when they are cut short; the observers command lists
// each observer's remote_socket_address (its configured peer address),
// sid and queued_packets only (Warren's observers are raft learners, not
// LearnerHandler connections); configuration has ZooKeeper's keys in an
// ensemble too (ZooKeeper 3.8 prints no quorum keys there either).
//
// # Metrics
//
// Prometheus metrics are served at /metrics on metricsProvider.httpHost
// (0.0.0.0) : metricsProvider.httpPort (7000) when
// metricsProvider.className is
// org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider, as in
// ZooKeeper, or when Warren's key warren.metrics=true (so Warren can export
// them without naming a Java class); metricsProvider.exportJvmInfo=false
// drops the go_* and process_* metrics. Each server has a registry of its
// own. See Metrics for the names. The AdminServer failing to bind its port
// is logged and the server goes on (as a ZooKeeper ensemble member does);
// the metrics endpoint failing to bind fails the start (as ZooKeeper fails
// without its metrics provider).
package admin
