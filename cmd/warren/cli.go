package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/shell"
	"github.com/warren-zk/warren/zk"
)

const cliUsage = `usage: warren cli [-server host:port[,host:port…][/chroot]] [-timeout ms] [-r]
                  [-waitforconnection] [-client-configuration file] [command args…]

A ZooKeeper shell with zkCli's commands, flags, output and exit codes. With a
command it runs it and exits (0 on success, 1 on error, 127 for an unknown
command); without one it reads commands from the terminal (line editing,
history in ~/.warren_cli_history, Tab completion of commands and znode paths)
or, when standard input is not a terminal, from standard input.

  -server               connect string (default localhost:2181)
  -timeout              session timeout in ms (default 30000)
  -r                    allow connecting to a read-only server
  -waitforconnection    wait for the session before running anything
  -client-configuration Java properties file of client settings
`

// cliLocation is the time zone of printed dates (nil: the local one, as the
// JVM finds it); tests set it.
var cliLocation *time.Location

// cliOptions are zkCli's command-line options.
type cliOptions struct {
	server, timeout, clientConfig string
	readOnly, waitForConnection   bool
	command                       []string
	help                          bool
}

// parseCLIArgs is ZooKeeperMain.MyCommandOptions.parseOptions: the options
// come first, anything else starting with "-" is ignored, and the first
// other word starts the command. A missing option value is reported and
// the defaults stay.
func parseCLIArgs(args []string, stderr io.Writer) cliOptions {
	o := cliOptions{server: shell.DefaultServer, timeout: "30000"}
	for i := 0; i < len(args); i++ {
		opt := args[i]
		next := func(dst *string) bool {
			if i+1 >= len(args) {
				fmt.Fprintln(stderr, "Error: no argument found for option "+opt)
				return false
			}
			i++
			*dst = args[i]
			return true
		}
		switch opt {
		case "-server":
			if !next(&o.server) {
				return o
			}
		case "-timeout":
			if !next(&o.timeout) {
				return o
			}
		case "-client-configuration":
			if !next(&o.clientConfig) {
				return o
			}
		case "-r":
			o.readOnly = true
		case "-waitforconnection":
			o.waitForConnection = true
		case "-h", "-help", "--help":
			o.help = true
		}
		if !strings.HasPrefix(opt, "-") {
			o.command = args[i:]
			return o
		}
	}
	return o
}

// clientProps are the -client-configuration properties warren cli uses.
type clientProps struct {
	maxBuffer int
}

// readClientConfig reads a Java properties file. Properties that have no
// meaning for warren cli (SASL, TLS, socket implementations, …) are
// reported and ignored.
func readClientConfig(path string, stderr io.Writer) (clientProps, error) {
	var p clientProps
	f, err := os.Open(path)
	if err != nil {
		return p, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		k, v := line, ""
		if i := strings.IndexAny(line, "=:"); i >= 0 {
			k, v = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		}
		switch k {
		case "jute.maxbuffer":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				fmt.Fprintf(stderr, "warren cli: ignoring %s=%s: not a positive number\n", k, v)
				continue
			}
			p.maxBuffer = n
		default:
			fmt.Fprintf(stderr, "warren cli: ignoring client configuration property %s (not supported)\n", k)
		}
	}
	return p, sc.Err()
}

// runCLI is `warren cli`.
func runCLI(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o := parseCLIArgs(args, stderr)
	if o.help {
		fmt.Fprint(stdout, cliUsage)
		return 0
	}
	var props clientProps
	if o.clientConfig != "" {
		var err error
		if props, err = readClientConfig(o.clientConfig, stderr); err != nil {
			fmt.Fprintf(stderr, "org.apache.zookeeper.server.quorum.QuorumPeerConfig$ConfigException: Error processing %s\n", o.clientConfig)
			return 2
		}
	}

	interactive := false
	if f, ok := stdin.(*os.File); ok && f == os.Stdin && len(o.command) == 0 && shell.TerminalSupported() {
		interactive = true
		stdout, stderr = shell.CRLFWriter{W: stdout}, shell.CRLFWriter{W: stderr}
	}
	ms, err := strconv.ParseInt(o.timeout, 10, 32)
	if err != nil {
		fmt.Fprintln(stdout, "Connecting to "+o.server)
		fmt.Fprintf(stderr, "Exception in thread \"main\" java.lang.NumberFormatException: For input string: \"%s\"\n", o.timeout)
		return 1
	}
	timeout := time.Duration(ms) * time.Millisecond
	connect := func(ctx context.Context, servers string, dialFailed func(error)) (shell.Client, error) {
		var d net.Dialer
		opts := []zk.Option{
			zk.WithSessionTimeout(timeout),
			zk.WithReadOnly(o.readOnly),
			zk.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, addr)
				if err != nil && dialFailed != nil {
					dialFailed(err)
				}
				return c, err
			}),
		}
		if props.maxBuffer > 0 {
			opts = append(opts, zk.WithMaxBufferSize(props.maxBuffer))
		}
		c, err := zk.Connect(ctx, servers, opts...)
		if err != nil {
			return nil, err
		}
		return shell.NewConnClient(c), nil
	}
	if timeout <= 0 {
		timeout = shell.DefaultTimeout
	}
	sh := shell.New(shell.Options{
		Server:            o.server,
		Timeout:           timeout,
		WaitForConnection: o.waitForConnection,
		Connect:           connect,
		Stdout:            stdout,
		Stderr:            stderr,
		Location:          cliLocation,
		Version:           server.Version,
	})
	if err := sh.Start(); err != nil {
		code, _ := sh.Exit(err)
		return code
	}
	switch {
	case len(o.command) > 0:
		return sh.RunCommand(o.command)
	case interactive:
		t := shell.NewTerminal(sh, shell.HistoryFile())
		defer t.Close()
		return sh.RunInteractive(t)
	default:
		return sh.RunScript(stdin)
	}
}
