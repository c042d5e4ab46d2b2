package shell

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/peterh/liner"
)

// Complete is zkCli's JLineZNodeCompleter: the word before pos is a znode
// path (completed from the children of its parent) if it starts with "/",
// else a command name. It returns the line up to the completed word, the
// candidates (which replace the word) and the rest of the line.
func (s *Shell) Complete(line string, pos int) (head string, completions []string, tail string) {
	if pos > len(line) {
		pos = len(line)
	}
	buffer, tail := line[:pos], line[pos:]
	token := ""
	if !strings.HasSuffix(buffer, " ") {
		if f := strings.Split(buffer, " "); len(f) > 0 {
			token = f[len(f)-1]
		}
	}
	head = buffer[:len(buffer)-len(token)]
	if !strings.HasPrefix(token, "/") {
		for _, c := range CommandNames() {
			if strings.HasPrefix(c, token) {
				completions = append(completions, c+" ")
			}
		}
		return head, completions, tail
	}
	idx := strings.LastIndexByte(token, '/') + 1
	prefix, dir := token[idx:], "/"
	if idx > 1 {
		dir = token[:idx-1]
	}
	kids, err := s.completionChildren(dir)
	if err != nil {
		return head, nil, tail
	}
	sortJava(kids)
	for _, k := range kids {
		if strings.HasPrefix(k, prefix) {
			completions = append(completions, token[:idx]+k)
		}
	}
	return head, completions, tail
}

// completionChildren lists dir for completion, without waiting long.
func (s *Shell) completionChildren(dir string) ([]string, error) {
	if ValidatePath(dir) != nil {
		return nil, errors.New("bad path")
	}
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess == nil {
		return nil, errors.New("no session")
	}
	select {
	case <-sess.ready:
	default:
		return nil, errors.New("not connected")
	}
	if sess.client == nil || !alive(sess.javaState()) {
		return nil, errors.New("not connected")
	}
	ctx, cancel := s.ctx()
	defer cancel()
	return sess.client.Children(ctx, dir)
}

// Terminal is a LineReader on the process's terminal (peterh/liner), with
// the history kept in a file.
type Terminal struct {
	st          *liner.State
	historyFile string
	mu          sync.Mutex
}

// TerminalSupported reports whether standard input and output are a
// terminal that line editing works on.
func TerminalSupported() bool {
	return liner.TerminalSupported() && isTerminal(os.Stdin) && isTerminal(os.Stdout)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// HistoryFile is where the REPL keeps its history: ~/.warren_cli_history.
func HistoryFile() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".warren_cli_history")
}

// NewTerminal puts the terminal under line editing, with completion by sh
// and the history of historyFile ("" for none).
func NewTerminal(sh *Shell, historyFile string) *Terminal {
	t := &Terminal{st: liner.NewLiner(), historyFile: historyFile}
	t.st.SetCtrlCAborts(true)
	t.st.SetTabCompletionStyle(liner.TabPrints)
	t.st.SetWordCompleter(sh.Complete)
	if historyFile != "" {
		if f, err := os.Open(historyFile); err == nil {
			t.st.ReadHistory(f)
			f.Close()
		}
	}
	return t
}

// Prompt implements LineReader.
func (t *Terminal) Prompt(prompt string) (string, error) {
	line, err := t.st.Prompt(prompt)
	switch {
	case errors.Is(err, liner.ErrPromptAborted):
		return "", ErrAborted
	case errors.Is(err, io.EOF):
		return "", io.EOF
	}
	return line, err
}

// AppendHistory implements LineReader; the history file is rewritten.
func (t *Terminal) AppendHistory(line string) {
	t.st.AppendHistory(line)
	t.saveHistory()
}

func (t *Terminal) saveHistory() {
	if t.historyFile == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tmp := t.historyFile + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return
	}
	_, werr := t.st.WriteHistory(f)
	if cerr := f.Close(); werr == nil && cerr == nil {
		os.Rename(tmp, t.historyFile)
	} else {
		os.Remove(tmp)
	}
}

// Close gives the terminal back.
func (t *Terminal) Close() error {
	t.saveHistory()
	return t.st.Close()
}

// CRLFWriter writes to a terminal that may be in raw mode (while a line is
// being edited, the terminal does not turn "\n" into "\r\n"): it does.
type CRLFWriter struct{ W io.Writer }

func (c CRLFWriter) Write(p []byte) (int, error) {
	if _, err := c.W.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(string(p), "\r\n", "\n"), "\n", "\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
