# Warren — build, test and CI entry points. `make test` is what CI runs (through .ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
# The steps of `test` must run in order, even under `make -j`.
.NOTPARALLEL:

GO ?= go
FUZZTIME ?= 10s
# Minimizing a new input may take 60 s per input by default, stalling short runs.
FUZZMINIMIZETIME ?= 1x
TEST_TIMEOUT ?= 15m

# Reference server and clients for the cross-process tests (DESIGN.md §6).
# internal/testutil/deps finds what they install.
DEB_PACKAGES := zookeeper zookeeper-bin python3-kazoo libcurator-framework-java libcurator-recipes-java
JRE_PACKAGE := default-jre-headless

.PHONY: deps build test fmt-check vet generate-check fuzz-short clean

## deps: install the missing Debian packages (apt-get only when something is missing), then go mod download.
deps:
	@if ! command -v dpkg >/dev/null 2>&1; then \
	  echo "!!! make deps: no dpkg: not a Debian system, cannot install $(DEB_PACKAGES)."; \
	  echo "!!! Tests that need them will be SKIPPED (or fail with CI=true)."; \
	else \
	  missing=""; \
	  for p in $(DEB_PACKAGES); do \
	    dpkg -s "$$p" 2>/dev/null | grep -q '^Status: install ok installed$$' || missing="$$missing $$p"; \
	  done; \
	  if ! command -v java >/dev/null 2>&1; then missing="$$missing $(JRE_PACKAGE)"; fi; \
	  if [ -n "$$missing" ]; then \
	    echo "make deps: installing Debian packages:$$missing"; \
	    sudo=""; \
	    if [ "$$(id -u)" -ne 0 ]; then \
	      command -v sudo >/dev/null 2>&1 || { echo "make deps: not root and no sudo; install:$$missing" >&2; exit 1; }; \
	      sudo="sudo"; \
	    fi; \
	    $$sudo apt-get update; \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	  else \
	    echo "make deps: Debian packages present: $(DEB_PACKAGES)"; \
	  fi; \
	fi
	$(GO) mod download

## build: the warren binary in bin/.
build:
	$(GO) build -o bin/warren ./cmd/warren

## fmt-check: fail if gofmt would change any Go file (testdata and vendor excepted, as the go tool does).
fmt-check:
	@files="$$(find . -type d \( -name testdata -o -name vendor -o -name '.?*' -o -name '_*' \) -prune \
	  -o -type f -name '*.go' -print)"; \
	unformatted="$$( [ -z "$$files" ] || gofmt -l $$files )"; \
	if [ -n "$$unformatted" ]; then \
	  echo "gofmt: these files are not formatted (run gofmt -w):"; echo "$$unformatted"; exit 1; \
	fi

vet:
	$(GO) vet ./...

## generate-check: go generate must not change any generated file (*_gen.go).
## Compares `git status` and the contents of *_gen.go before and after go generate; on a clean
## checkout (CI) any change or new file fails. Under CI=true the tree must also be clean afterwards.
generate-check:
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "generate-check needs a git work tree" >&2; exit 1; }; \
	snapshot() { \
	  git status --porcelain --untracked-files=all -- '*_gen.go'; \
	  git ls-files -z --cached --others --exclude-standard -- '*_gen.go' | xargs -0r sha256sum 2>&1 || true; \
	}; \
	before="$$(snapshot)"; \
	$(GO) generate ./...; \
	after="$$(snapshot)"; \
	status="$$(git status --porcelain --untracked-files=all -- '*_gen.go')"; \
	if [ "$$before" != "$$after" ] || { [ "$${CI:-}" = true ] && [ -n "$$status" ]; }; then \
	  echo "generate-check: generated files (*_gen.go) are out of date; run 'go generate ./...' and commit:"; \
	  echo "$$status"; \
	  git --no-pager diff --stat -- '*_gen.go'; \
	  exit 1; \
	fi; \
	echo "generate-check: generated files are up to date"

## test: everything CI checks.
test: deps fmt-check vet generate-check
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

## fuzz-short: run every fuzz target (func FuzzXxx in a _test.go file) for FUZZTIME each.
## Go's fuzzing engine sometimes ends a run with "context deadline exceeded" and no failing input
## (a toolchain flake under load); only that case is retried once. A real crasher writes its input
## under testdata/fuzz and fails.
fuzz-short:
	@n=0; \
	while IFS= read -r file; do \
	  dir="$$(dirname "$$file")"; \
	  for name in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$$file"); do \
	    echo "==> $$dir: $$name ($(FUZZTIME))"; \
	    log="$$(mktemp)"; \
	    if ! $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZETIME) "$$dir" 2>&1 | tee "$$log"; then \
	      if grep -q 'context deadline exceeded' "$$log" && ! grep -q 'Failing input written' "$$log"; then \
	        echo "fuzz-short: $$name ended with the engine's deadline flake (no failing input); retrying once"; \
	        $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZETIME) "$$dir" || { rm -f "$$log"; exit 1; }; \
	      else rm -f "$$log"; exit 1; fi; \
	    fi; \
	    rm -f "$$log"; \
	    n=$$((n+1)); \
	  done; \
	done < <(grep -rlE --include='*_test.go' --exclude-dir=testdata --exclude-dir=vendor --exclude-dir='.?*' \
	  '^func Fuzz[A-Za-z0-9_]*\(' . | sort); \
	echo "fuzz-short: ran $$n fuzz targets"

## bench-compare: Warren vs Apache ZooKeeper 3.8.0 side by side (docs/performance.md); the defaults are
## the full comparison (about 30 minutes on 2 CPUs). Pass flags with BENCH_COMPARE_FLAGS, e.g. a quick look:
## make bench-compare BENCH_COMPARE_FLAGS='-modes standalone -pairs 1 -duration 3s -znodes 100000'
.PHONY: bench-compare
BENCH_COMPARE_FLAGS ?=
bench-compare:
	$(GO) run ./tools/benchcompare $(BENCH_COMPARE_FLAGS)

## robustness: the long robustness suite (tests/robustness/doc.go): Warren 3, 3+1, 5+1 and the ZooKeeper 3.8
## control, 24 nemesis rounds each. Every run prints its seed; replay one with
## make robustness ROBUSTNESS_FLAGS='-run ^TestWarren3$$ -robustness.seed=N'
.PHONY: robustness
ROBUSTNESS_FLAGS ?=
robustness:
	WARREN_ROBUSTNESS=long $(GO) test -count=1 -timeout 3h -v ./tests/robustness $(ROBUSTNESS_FLAGS)

clean:
	rm -rf bin
