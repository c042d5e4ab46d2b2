// Package deps finds the external programs and jars that Warren's cross-process tests use: the
// Apache ZooKeeper 3.8 server and Java client, Curator, zkCli.sh, the C client's cli_mt and Python's
// kazoo, all from Debian packages (see DESIGN.md §6 and the Makefile's deps target).
//
// Every helper takes the test and returns a path (or a Java classpath). When the thing is missing
// the test is skipped with a loud message, or, when the environment has CI=true, failed: CI must
// never pass by skipping the compatibility suites. `make deps` installs everything.
package deps

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Where the Debian (bookworm) packages put things.
const (
	javaDir = "/usr/share/java"

	// ZkCliPath is zkCli.sh from the Debian package zookeeper.
	ZkCliPath = "/usr/share/zookeeper/bin/zkCli.sh"
	// CliMTPath is the C client's multi-threaded shell from the Debian package zookeeper-bin.
	CliMTPath = "/usr/lib/zookeeper/bin/cli_mt"
	// DebianPython3 is the interpreter Debian's python3-* packages install modules for.
	DebianPython3 = "/usr/bin/python3"
)

// jar is one jar in /usr/share/java and the Debian package to install when it is missing.
type jar struct{ name, pkg string }

// zkJars is what QuorumPeerMain, ZooKeeperMain (zkCli) and the Java client need. zookeeper.jar's
// manifest Class-Path names its other dependencies (netty, jetty, jackson, commons-cli, …) by
// absolute path, so the JVM finds them without listing them here. The Debian package ships no
// SLF4J binding on that classpath (its scripts log nothing: "SLF4J: Defaulting to no-operation
// (NOP) logger"), so we add slf4j-log4j12 + log4j 1.2 — the backend the package's
// /etc/zookeeper/conf/log4j.properties and its liblog4j1.2-java dependency are meant for.
var zkJars = []jar{
	{"zookeeper.jar", "zookeeper (libzookeeper-java)"},
	{"zookeeper-jute.jar", "zookeeper (libzookeeper-java)"},
	{"slf4j-api.jar", "zookeeper (libslf4j-java)"},
	{"slf4j-log4j12.jar", "zookeeper (libslf4j-java)"},
	{"log4j-1.2.jar", "zookeeper (liblog4j1.2-java)"},
	{"commons-cli.jar", "zookeeper (libcommons-cli-java)"},
	{"commons-io.jar", "zookeeper (libcommons-io-java)"},
	{"metrics-core.jar", "zookeeper (libdropwizard-metrics-java)"},
	{"netty-buffer.jar", "zookeeper (libnetty-java)"},
	{"netty-common.jar", "zookeeper (libnetty-java)"},
	{"netty-handler.jar", "zookeeper (libnetty-java)"},
	{"netty-transport.jar", "zookeeper (libnetty-java)"},
	{"netty-transport-native-epoll.jar", "zookeeper (libnetty-java)"},
	{"netty-transport-native-unix-common.jar", "zookeeper (libnetty-java)"},
	{"netty-resolver.jar", "zookeeper (libnetty-java)"},
	{"netty-codec.jar", "zookeeper (libnetty-java)"},
	{"snappy-java.jar", "zookeeper (libsnappy-java)"},
}

// curatorJars come before zkJars on the Curator classpath.
var curatorJars = []jar{
	{"curator-client.jar", "libcurator-framework-java (libcurator-client-java)"},
	{"curator-framework.jar", "libcurator-framework-java"},
	{"curator-recipes.jar", "libcurator-recipes-java"},
	{"guava.jar", "libcurator-framework-java (libguava-java)"},
	{"jackson-databind.jar", "libcurator-framework-java (libjackson2-databind-java)"},
	{"jackson-core.jar", "libcurator-framework-java (libjackson2-core-java)"},
	{"jackson-annotations.jar", "libcurator-framework-java (libjackson2-annotations-java)"},
}

// lookup is the cached outcome of finding one thing: a value, or the Debian package to install
// and why it is needed.
type lookup struct {
	once   sync.Once
	value  string
	pkg    string // Debian package that provides it, when missing
	reason string // what was looked for and not found
}

func (l *lookup) get(t testing.TB, find func() (value, pkg, reason string)) string {
	t.Helper()
	l.once.Do(func() { l.value, l.pkg, l.reason = find() })
	if l.reason != "" {
		Missing(t, l.pkg, l.reason)
	}
	return l.value
}

// Missing stops the test because Debian package pkg is not installed (reason says what was
// looked for): t.Fatalf when the environment has CI=true, otherwise a loud t.Skipf.
func Missing(t testing.TB, pkg, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("MISSING DEPENDENCY (CI=true, so this fails instead of skipping): Debian package %s "+
			"is not installed: %s. `make deps` (part of `make test`) installs it.", pkg, reason)
		return
	}
	t.Skipf("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"+
		"SKIPPING: Debian package %s is not installed (%s);\n"+
		"run `make deps` (or `apt-get install %s`) to run this test.\n"+
		"!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
		pkg, reason, firstWord(pkg))
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

var (
	javaLookup, zkCPLookup, curatorCPLookup, zkCliLookup, cliMTLookup, kazooLookup lookup
)

// Java returns the path of a working java (JRE 11+; Debian bookworm has OpenJDK 17).
// Missing → Debian package default-jre-headless.
func Java(t testing.TB) string {
	t.Helper()
	return javaLookup.get(t, findJava)
}

func findJava() (string, string, string) {
	var candidates []string
	if jh := os.Getenv("JAVA_HOME"); jh != "" {
		candidates = append(candidates, filepath.Join(jh, "bin", "java"))
	}
	if p, err := exec.LookPath("java"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/java")
	var failures []string
	for _, c := range candidates {
		if !isExecutable(c) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, c, "-version").CombinedOutput()
		cancel()
		if err == nil {
			return c, "", ""
		}
		failures = append(failures, fmt.Sprintf("%s -version: %v: %s", c, err, strings.TrimSpace(string(out))))
	}
	reason := "no `java` on PATH or at /usr/bin/java"
	if len(failures) > 0 {
		reason = "no working java: " + strings.Join(failures, "; ")
	}
	return "", "default-jre-headless", reason
}

// ZooKeeperClasspath returns a Java classpath with the ZooKeeper 3.8 server
// (org.apache.zookeeper.server.quorum.QuorumPeerMain), the Java client and zkCli
// (org.apache.zookeeper.ZooKeeperMain), with SLF4J bound to log4j 1.2. Pass
// -Dlog4j.configuration=file:… (see Log4jConfig) to get logs; without it log4j prints a
// two-line "no appenders" warning on stderr and logs nothing.
// Missing → Debian package zookeeper.
func ZooKeeperClasspath(t testing.TB) string {
	t.Helper()
	return zkCPLookup.get(t, func() (string, string, string) { return classpath(zkJars) })
}

// CuratorClasspath returns a Java classpath with Apache Curator 5.4 (client, framework, recipes),
// guava, jackson, and everything in ZooKeeperClasspath.
// Missing → Debian packages libcurator-framework-java / libcurator-recipes-java.
func CuratorClasspath(t testing.TB) string {
	t.Helper()
	return curatorCPLookup.get(t, func() (string, string, string) {
		return classpath(append(append([]jar(nil), curatorJars...), zkJars...))
	})
}

func classpath(jars []jar) (string, string, string) {
	paths := make([]string, 0, len(jars))
	for _, j := range jars {
		p := filepath.Join(javaDir, j.name)
		if _, err := os.Stat(p); err != nil {
			return "", j.pkg, fmt.Sprintf("%s not found", p)
		}
		paths = append(paths, p)
	}
	return strings.Join(paths, string(os.PathListSeparator)), "", ""
}

// ZkCli returns the path of Debian's zkCli.sh (/usr/share/zookeeper/bin/zkCli.sh). It runs
// org.apache.zookeeper.ZooKeeperMain with the package's classpath, which has no SLF4J binding
// (it prints three "SLF4J: …NOP…" lines on stderr). For control over the JVM, run
// `java -cp ZooKeeperClasspath(t) org.apache.zookeeper.ZooKeeperMain …` instead.
// Missing → Debian package zookeeper.
func ZkCli(t testing.TB) string {
	t.Helper()
	return zkCliLookup.get(t, func() (string, string, string) {
		if !isExecutable(ZkCliPath) {
			return "", "zookeeper", ZkCliPath + " not found"
		}
		return ZkCliPath, "", ""
	})
}

// CliMT returns the path of the C client's shell, cli_mt (/usr/lib/zookeeper/bin/cli_mt; it is
// not on PATH). Usage: cli_mt -h host:port [-c "cmd"] — see `cli_mt` without arguments.
// Missing → Debian package zookeeper-bin.
func CliMT(t testing.TB) string {
	t.Helper()
	return cliMTLookup.get(t, func() (string, string, string) {
		if !isExecutable(CliMTPath) {
			return "", "zookeeper-bin", CliMTPath + " not found"
		}
		return CliMTPath, "", ""
	})
}

// Python3Kazoo returns a python3 interpreter that can `import kazoo`. Debian's python3-kazoo
// installs into /usr/bin/python3's dist-packages, which is tried first: a python3 earlier on PATH
// (pyenv, a virtualenv) usually cannot see it.
// Missing → Debian package python3-kazoo.
func Python3Kazoo(t testing.TB) string {
	t.Helper()
	return kazooLookup.get(t, findKazoo)
}

func findKazoo() (string, string, string) {
	candidates := []string{DebianPython3}
	if p, err := exec.LookPath("python3"); err == nil && p != DebianPython3 {
		candidates = append(candidates, p)
	}
	var failures []string
	for _, c := range candidates {
		if !isExecutable(c) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, c, "-c", "import kazoo.client").CombinedOutput()
		cancel()
		if err == nil {
			return c, "", ""
		}
		msg := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		failures = append(failures, fmt.Sprintf("%s: %s", c, msg))
	}
	reason := "no python3 found"
	if len(failures) > 0 {
		reason = "`import kazoo` fails: " + strings.Join(failures, "; ")
	}
	return "", "python3-kazoo", reason
}

// Log4jConfig writes a log4j 1.2 properties file into dir that sends everything at INFO and
// above to logFile, and returns the JVM flag that selects it
// ("-Dlog4j.configuration=file:…"). Use it with ZooKeeperClasspath or CuratorClasspath.
func Log4jConfig(dir, logFile string) (string, error) {
	path := filepath.Join(dir, "log4j.properties")
	// Properties files treat '\' as an escape; escape it (and ':'/'=' are fine in values).
	escaped := strings.ReplaceAll(logFile, `\`, `\\`)
	text := "# Written by internal/testutil/deps.Log4jConfig.\n" +
		"log4j.rootLogger=INFO, FILE\n" +
		"log4j.appender.FILE=org.apache.log4j.FileAppender\n" +
		"log4j.appender.FILE.File=" + escaped + "\n" +
		"log4j.appender.FILE.Append=true\n" +
		"log4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n" +
		"log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return "", err
	}
	return "-Dlog4j.configuration=file:" + path, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}
