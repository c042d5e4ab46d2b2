package deps

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookups(t *testing.T) {
	t.Parallel()
	paths := map[string]func(testing.TB) string{
		"Java":         Java,
		"ZkCli":        ZkCli,
		"CliMT":        CliMT,
		"Python3Kazoo": Python3Kazoo,
	}
	for name, f := range paths {
		t.Run(name, func(t *testing.T) {
			p := f(t)
			if !isExecutable(p) {
				t.Fatalf("%s() = %q, not an executable file", name, p)
			}
			t.Logf("%s: %s", name, p)
		})
	}
	classpaths := map[string]func(testing.TB) string{
		"ZooKeeperClasspath": ZooKeeperClasspath,
		"CuratorClasspath":   CuratorClasspath,
	}
	for name, f := range classpaths {
		t.Run(name, func(t *testing.T) {
			cp := f(t)
			for _, p := range filepath.SplitList(cp) {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			if !strings.Contains(cp, "zookeeper.jar") {
				t.Errorf("%s lacks zookeeper.jar: %s", name, cp)
			}
		})
	}
}

func TestLog4jConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	flag, err := Log4jConfig(dir, filepath.Join(dir, "x.log"))
	if err != nil {
		t.Fatal(err)
	}
	if flag != "-Dlog4j.configuration=file:"+filepath.Join(dir, "log4j.properties") {
		t.Errorf("flag = %q", flag)
	}
	b, err := os.ReadFile(filepath.Join(dir, "log4j.properties"))
	if err != nil || !strings.Contains(string(b), "log4j.appender.FILE.File="+filepath.Join(dir, "x.log")+"\n") {
		t.Errorf("log4j.properties = %q, %v", b, err)
	}
}

// recorder captures Skipf and Fatalf instead of stopping the test.
type recorder struct {
	testing.TB
	skip, fatal string
}

func (r *recorder) Skipf(format string, args ...any)  { r.skip = fmt.Sprintf(format, args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func TestMissing(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			r := &recorder{TB: t}
			Missing(r, "zookeeper-bin", "/usr/lib/zookeeper/bin/cli_mt not found")
			msg := r.skip
			if ci == "true" {
				if r.skip != "" || r.fatal == "" {
					t.Fatalf("CI=true: skip=%q fatal=%q; want a failure", r.skip, r.fatal)
				}
				msg = r.fatal
			} else if r.fatal != "" || !strings.Contains(r.skip, "SKIPPING: Debian package zookeeper-bin is not installed") {
				t.Fatalf("skip=%q fatal=%q; want a loud skip", r.skip, r.fatal)
			}
			for _, want := range []string{"zookeeper-bin", "make deps", "cli_mt not found"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
		})
	}
}
