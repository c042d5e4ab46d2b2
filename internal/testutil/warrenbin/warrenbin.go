// Package warrenbin builds the warren binary (./cmd/warren) for tests that
// run it as a separate process (crash and robustness suites).
package warrenbin

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

const modulePath = "github.com/warren-zk/warren"

// Build compiles ./cmd/warren (with the race detector if race) into a new
// temporary directory and returns the binary's path and that directory (the
// caller removes it). It also opens every source file of the binary so that
// go test's result cache is invalidated when the server changes: the build
// runs in another process, which the cache does not see.
func Build(race bool, tmpPrefix string) (bin, dir string, err error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", "", err
	}
	dir, err = os.MkdirTemp("", tmpPrefix)
	if err != nil {
		return "", "", err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin = filepath.Join(dir, "warren")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/warren")
	cmd := exec.Command(goTool, args...)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", dir, fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), root, err, out.String())
	}
	if err := recordInputs(goTool, root); err != nil {
		return "", dir, err
	}
	return bin, dir, nil
}

// ModuleRoot walks up from the working directory (a package directory under
// go test) to the directory whose go.mod declares this module.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of " + modulePath + " above the working directory")
		}
		dir = parent
	}
}

// recordInputs opens every source file of the server binary (and the
// directories holding them, and go.sum), so go test's cache keys on them.
func recordInputs(goTool, root string) error {
	cmd := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./cmd/warren")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go list -deps ./cmd/warren: %v", err)
	}
	open := func(p string) []string {
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		names, _ := f.Readdirnames(-1)
		return names
	}
	open(filepath.Join(root, "go.sum"))
	for _, dir := range strings.Fields(string(out)) {
		if rel, err := filepath.Rel(root, dir); err != nil || strings.HasPrefix(rel, "..") {
			continue // a dependency outside the module: go.sum pins it
		}
		for _, name := range open(dir) {
			if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
				open(filepath.Join(dir, name))
			}
		}
	}
	return nil
}
