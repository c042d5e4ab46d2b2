package shell

import (
	"bufio"
	"context"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultServer is zkCli's default connect string.
const DefaultServer = "localhost:2181"

// DefaultTimeout is zkCli's default session timeout.
const DefaultTimeout = 30 * time.Second

// Options configure a Shell.
type Options struct {
	// Server is the connect string: host:port[,host:port…][/chroot].
	Server string
	// Timeout is the session timeout asked for (zkCli's -timeout); it also
	// bounds the wait for a connection and for each request.
	Timeout time.Duration
	// WaitForConnection makes Start (and connect) wait for the session, as
	// zkCli's -waitforconnection does.
	WaitForConnection bool
	// Connect starts a session (see ConnectFunc). Required.
	Connect ConnectFunc
	// Stdout and Stderr receive what zkCli prints on System.out and
	// System.err. Each line is written with one Write call.
	Stdout, Stderr io.Writer
	// Location is the time zone of printed dates (default time.Local).
	Location *time.Location
	// Version is what "version" prints after "ZooKeeper CLI version: ".
	Version string
}

// Shell is a zkCli-compatible command interpreter: zkCli's ZooKeeperMain
// and its CliCommands, with the same parsing, output and exit codes. It is
// driven by one goroutine (Start, then RunCommand, RunScript or
// RunInteractive); watch notifications are printed from another.
type Shell struct {
	opts Options
	loc  *time.Location
	zone string // IANA name of loc

	outMu sync.Mutex // one writer at a time on Stdout and Stderr

	mu           sync.Mutex
	printWatches bool
	sess         *session

	// Used only by the driving goroutine.
	history  map[int]string
	count    int
	exitCode int
	host     string
	lastArgs []string // ZooKeeperMain's cl: kept when a line has no words
}

// New returns a Shell; nothing happens until Start.
func New(opts Options) *Shell {
	if opts.Server == "" {
		opts.Server = DefaultServer
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	loc, zone := opts.Location, ""
	if loc == nil {
		loc, zone = time.Local, localZoneName()
	} else {
		zone = loc.String()
	}
	return &Shell{opts: opts, loc: loc, zone: zone, printWatches: true, history: map[int]string{}}
}

// exitError ends the program with code: quit, and the errors that kill
// zkCli's JVM (fatal is then the "Exception in thread "main" …" text).
type exitError struct {
	code  int
	fatal string
}

func (e *exitError) Error() string { return "exit " + strconv.Itoa(e.code) }

func fatal(msg string) error { return &exitError{code: 1, fatal: msg} }

// Start prints "Connecting to …" and starts the session. It returns an
// error only when zkCli would die: -waitforconnection and no session.
func (s *Shell) Start() error {
	s.outln("Connecting to " + s.opts.Server)
	return s.connectTo(s.opts.Server)
}

// RunCommand runs one command given as arguments (zkCli's one-shot mode)
// and returns the exit code: 0, 1 on error, 127 for an unknown command.
func (s *Shell) RunCommand(args []string) int {
	s.lastArgs = args
	err := s.processCmd(args)
	s.flushEvents()
	code, ok := s.Exit(err)
	s.shutdown()
	if ok {
		return code
	}
	return s.exitCode
}

// RunScript reads commands from r, one a line, as zkCli does when its
// standard input is not a terminal, and returns the exit status of the last
// command (or of quit, or 1 after an error that kills zkCli).
func (s *Shell) RunScript(r io.Reader) int {
	s.outln("Welcome to ZooKeeper!")
	s.outln("JLine support is disabled")
	lines := newJavaLineReader(r)
	for {
		line, err := lines.readLine()
		if err != nil {
			break
		}
		if code, ok := s.Exit(s.ExecuteLine(line)); ok {
			s.shutdown()
			return code
		}
	}
	s.shutdown()
	return s.exitCode
}

// LineReader reads lines with editing, history and completion (a terminal).
type LineReader interface {
	// Prompt shows prompt and returns the line typed, io.EOF at the end of
	// input, or ErrAborted when the line was abandoned (Ctrl-C).
	Prompt(prompt string) (string, error)
	// AppendHistory adds a line to the history.
	AppendHistory(line string)
}

// ErrAborted is returned by LineReader.Prompt for an abandoned line.
var ErrAborted = errors.New("line aborted")

// RunInteractive is the REPL on a terminal: zkCli with JLine. An error
// that would kill zkCli is printed, and the shell goes on.
func (s *Shell) RunInteractive(lr LineReader) int {
	s.outln("Welcome to ZooKeeper!")
	s.outln("JLine support is enabled")
	for {
		line, err := lr.Prompt(s.Prompt())
		if errors.Is(err, ErrAborted) {
			continue
		}
		if err != nil {
			break
		}
		line = JavaString([]byte(line))
		if strings.TrimSpace(line) != "" {
			lr.AppendHistory(line)
		}
		err = s.ExecuteLine(line)
		var ee *exitError
		if errors.As(err, &ee) && ee.fatal == "" {
			s.shutdown()
			return ee.code
		}
		if err != nil {
			s.Exit(err) // prints the message
		}
	}
	s.shutdown()
	return s.exitCode
}

// Exit prints an error that kills zkCli and reports whether err (from Start
// or ExecuteLine) ends the program, with which exit code.
func (s *Shell) Exit(err error) (int, bool) {
	var ee *exitError
	if !errors.As(err, &ee) {
		return 0, false
	}
	if ee.fatal != "" {
		s.errln("Exception in thread \"main\" " + ee.fatal)
	}
	return ee.code, true
}

// Prompt is zkCli's prompt: "[zk: host(STATE) N] ".
func (s *Shell) Prompt() string {
	return "[zk: " + s.host + "(" + s.javaState() + ") " + strconv.Itoa(s.count) + "] "
}

// ExecuteLine runs one line, as ZooKeeperMain.executeLine does. The error
// is non-nil only when the program must end (quit, or an error that kills
// zkCli).
func (s *Shell) ExecuteLine(line string) error {
	if line == "" {
		return nil
	}
	if args := SplitLine(line); len(args) > 0 {
		s.lastArgs = args
	}
	s.history[s.count] = line
	err := s.processCmd(s.lastArgs)
	s.flushEvents()
	s.count++
	return err
}

// processCmd is ZooKeeperMain.processCmd: run, print a CliException.
func (s *Shell) processCmd(args []string) error {
	err := s.processZKCmd(args)
	var ce *cliError
	switch {
	case err == nil:
		s.exitCode = 0
	case errors.As(err, &ce):
		s.exitCode = ce.code
		s.errln(ce.msg)
	default:
		return err
	}
	return nil
}

// cliError is zkCli's CliException: its message goes to stderr and its
// code becomes the exit code.
type cliError struct {
	msg  string
	code int
}

func (e *cliError) Error() string { return e.msg }

func cliErr(msg string) error { return &cliError{msg: msg, code: 1} }

func (s *Shell) processZKCmd(args []string) error {
	if len(args) < 1 {
		s.usage()
		return cliErr("No command entered")
	}
	cmd := args[0]
	c := commands[cmd]
	if c == nil && !localCommands[cmd] {
		s.usage()
		return &cliError{msg: "Command not found: Command not found " + cmd, code: 127}
	}
	switch {
	case cmd == "quit":
		s.closeSession(true)
		return &exitError{code: s.exitCode}
	case cmd == "redo" && len(args) >= 2:
		i, err := javaDecode(args[1])
		if err != nil {
			return fatal(err.Error())
		}
		if int64(s.count) <= i || i < 0 {
			return cliErr("Command index out of range")
		}
		line, ok := s.history[int(i)]
		redo := SplitLine(line)
		if len(redo) > 0 {
			s.lastArgs = redo
		}
		if !ok {
			return fatal("java.lang.NullPointerException")
		}
		if s.lastArgs[0] == "redo" {
			return cliErr("No redoing redos")
		}
		s.history[s.count] = line
		if err := s.processCmd(s.lastArgs); err != nil {
			return err
		}
	case cmd == "history":
		for i := s.count - 10; i <= s.count; i++ {
			if i < 0 {
				continue
			}
			h, ok := s.history[i]
			if !ok {
				h = "null"
			}
			s.outln(strconv.Itoa(i) + " - " + h)
		}
	case cmd == "printwatches":
		s.mu.Lock()
		if len(args) == 1 {
			on := "off"
			if s.printWatches {
				on = "on"
			}
			s.mu.Unlock()
			s.outln("printwatches is " + on)
		} else {
			s.printWatches = args[1] == "on"
			s.mu.Unlock()
		}
	case cmd == "connect":
		host := s.host
		if len(args) >= 2 {
			host = args[1]
		}
		if err := s.connectTo(host); err != nil {
			return err
		}
	}
	if !alive(s.javaState()) {
		s.outln("Not connected")
		return nil
	}
	if c != nil {
		return c.run(s, args)
	}
	return nil
}

// usage is ZooKeeperMain.usage.
func (s *Shell) usage() {
	var b strings.Builder
	b.WriteString("ZooKeeper -server host:port -client-configuration properties-file cmd args\n")
	for _, name := range CommandNames() {
		b.WriteString("\t" + name + " " + usageOptions[name] + "\n")
	}
	s.write(s.opts.Stderr, b.String())
}

// CommandNames returns every command, sorted as zkCli sorts them.
func CommandNames() []string {
	names := make([]string, 0, len(usageOptions))
	for n := range usageOptions {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return javaLess(names[i], names[j]) })
	return names
}

// --- output ---

// write prints text for the driving goroutine: first the notifications
// that have arrived (as zkCli's event thread would have printed them by
// now), then text.
func (s *Shell) write(w io.Writer, text string) {
	s.flushEvents()
	s.rawWrite(w, text)
}

func (s *Shell) rawWrite(w io.Writer, text string) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	io.WriteString(w, text)
}

func (s *Shell) flushEvents() {
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess != nil {
		sess.flush()
	}
}

func (s *Shell) outln(line string) { s.write(s.opts.Stdout, line+"\n") }
func (s *Shell) errln(line string) { s.write(s.opts.Stderr, line+"\n") }

// --- sessions ---

// javaState is ZooKeeper.getState() as zkCli shows it.
func (s *Shell) javaState() string {
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess == nil {
		return "CLOSED"
	}
	return sess.javaState()
}

func alive(state string) bool { return state != "CLOSED" && state != "AUTH_FAILED" }

// connectTo is ZooKeeperMain.connectToZK.
func (s *Shell) connectTo(host string) error {
	if alive(s.javaState()) {
		s.closeSession(true)
	}
	s.host = host
	sess := newSession(s, host)
	s.mu.Lock()
	s.sess = sess
	s.mu.Unlock()
	sess.start()
	if s.opts.WaitForConnection {
		if _, err := sess.wait(false); err != nil {
			s.closeSession(true)
			return fatal("java.io.IOException: org.apache.zookeeper.KeeperException$ConnectionLossException: KeeperErrorCode = ConnectionLoss")
		}
	}
	return nil
}

// closeSession closes the current session; printClosed says whether the
// Closed notification is printed (not at exit: zkCli just exits).
func (s *Shell) closeSession(printClosed bool) {
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess != nil {
		sess.close(printClosed)
	}
}

// shutdown ends the session without a word, as zkCli's System.exit does.
func (s *Shell) shutdown() { s.closeSession(false) }

// Close ends the session (if any) without printing anything.
func (s *Shell) Close() { s.shutdown() }

// client waits for the session (zkCli queues requests while connecting) and
// returns it, or zk.ErrConnectionLoss when an attempt to connect failed or
// the timeout passed first.
func (s *Shell) client() (Client, error) {
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	return sess.wait(true)
}

func (s *Shell) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.opts.Timeout)
}

// --- reading scripts ---

// javaLineReader is BufferedReader.readLine over UTF-8 input: lines end at
// \n, \r or \r\n; a last line without a terminator counts.
type javaLineReader struct{ r *bufio.Reader }

func newJavaLineReader(r io.Reader) *javaLineReader { return &javaLineReader{bufio.NewReader(r)} }

func (l *javaLineReader) readLine() (string, error) {
	var b []byte
	for {
		c, err := l.r.ReadByte()
		if err != nil {
			if len(b) > 0 {
				return JavaString(b), nil
			}
			return "", err
		}
		switch c {
		case '\n':
			return JavaString(b), nil
		case '\r':
			if n, err := l.r.Peek(1); err == nil && n[0] == '\n' {
				l.r.ReadByte()
			}
			return JavaString(b), nil
		}
		b = append(b, c)
	}
}
