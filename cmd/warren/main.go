// Command warren is a ZooKeeper-compatible coordination service.
//
//	warren server [-t] [-log-format text|json] [-log-level info] [zoo.cfg | port dataDir [tickTime [maxClientCnxns]]]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/server"
)

const usage = `usage: warren <command> [arguments]

commands:
  server   run a server (standalone, or a member of an ensemble)
  dump     print a data directory's log and snapshots
  purge    delete old snapshots and the log segments only they needed
  bench    generate load against a ZooKeeper-protocol server, report ops/s and latency
  cli      a zkCli-compatible shell: -server host:port[,host:port…][/chroot] [command args…]

Run 'warren <command> -h' for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		os.Exit(runServer(os.Args[2:], os.Stdout, os.Stderr))
	case "dump":
		os.Exit(runDump(os.Args[2:], os.Stdout, os.Stderr))
	case "purge":
		os.Exit(runPurge(os.Args[2:], os.Stdout, os.Stderr))
	case "bench":
		os.Exit(runBench(os.Args[2:], os.Stdout, os.Stderr))
	case "cli":
		os.Exit(runCLI(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "warren: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}

func runServer(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("t", false, "check the configuration, print every problem and exit")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for performance work)")
	memProfile := fs.String("memprofile", "", "write a heap profile (live and allocated bytes, by allocating code) to this file at exit (for performance work)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: warren server [flags] [zoo.cfg | port dataDir [tickTime [maxClientCnxns]]]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "warren: bad -log-level %q\n", *logLevel)
		return 2
	}
	var h slog.Handler
	switch *logFormat {
	case "text":
		h = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})
	case "json":
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl})
	default:
		fmt.Fprintf(stderr, "warren: bad -log-format %q (text or json)\n", *logFormat)
		return 2
	}
	log := slog.New(h)

	cfg, problems := loadConfig(fs.Args())
	for _, p := range problems {
		if *check {
			fmt.Fprintln(stdout, p.String())
		} else if p.Fatal {
			log.Error("config", "problem", p.String())
		} else {
			log.Warn("config", "problem", p.String())
		}
	}
	if *check {
		if config.HasFatal(problems) {
			return 1
		}
		fmt.Fprintln(stdout, "configuration OK")
		return 0
	}
	if config.HasFatal(problems) {
		return 1
	}
	if cfg.ClientPort == 0 {
		log.Error("no clientPort configured")
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			log.Error("cannot start the CPU profile", "err", err)
			return 1
		}
		defer stopProfile()
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err != nil {
			log.Error("cannot create the heap profile", "err", err)
			return 1
		}
		defer func() {
			runtime.GC() // the profile is as of the last collection
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				log.Error("cannot write the heap profile", "err", err)
			}
			f.Close()
		}()
	}
	// Bound the heap's growth between collections for a large tree
	// (internal/server/gctune.go); GOGC in the environment overrides.
	server.TuneGC()
	// At least two Ps, so that a thread waiting in fdatasync does not stop
	// the server on a one-CPU machine (internal/server/procs.go).
	if n := runtime.GOMAXPROCS(0); server.TuneProcs() != n {
		log.Info("raised GOMAXPROCS so that a blocking fdatasync does not stop the server", "from", n, "to", runtime.GOMAXPROCS(0))
	}
	srv := server.New(cfg, server.Options{Logger: log})
	if err := srv.Start(ctx); err != nil {
		log.Error("cannot start server", "err", err)
		return 1
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
		srv.Stop()
		return 0
	case err := <-srv.Fatal():
		// A failed log write or fsync leaves the disk state unknown: never
		// retry, exit and let recovery sort it out on restart.
		log.Error("exiting after a fatal error", "err", err)
		return 1
	}
}

func loadConfig(args []string) (*config.Config, []config.Problem) {
	switch {
	case len(args) == 0:
		return config.Default(), nil
	case len(args) == 1:
		return config.Load(args[0])
	default:
		if _, err := strconv.Atoi(args[0]); err == nil {
			return config.FromArgs(args)
		}
		return nil, []config.Problem{{Msg: "expected a zoo.cfg path or 'port dataDir [tickTime [maxClientCnxns]]'", Fatal: true}}
	}
}
