# borderid: two commands matter — `make run` and `make test` (see README.md).
SHELL := /bin/bash
GO    ?= go
BIN   := bin/borderid
HOME_DIR ?= $(CURDIR)/var
export BORDERID_HOME ?= $(HOME_DIR)

.PHONY: all setup build run run-specimen test test-short vet fmt fuzz bench bench-read bench-auth bench-pa bench-enrol bench-crossborder pcscd clean

all: build

# Debian packages (as root) and Go modules, when missing.
setup:
	@scripts/setup

build:
	$(GO) build -o $(BIN) ./cmd/borderid

# pcscd with the vpcd virtual readers; one per machine, started once.
pcscd:
	@scripts/pcscd-up

# The demo of the main job, the whole story on real components: a state is
# made (HSM keys, certificates, database), a citizen is enrolled and a chip
# issued over the HTTPS API, and a border post reads the chip in a virtual
# reader against the state's signed trust snapshot (verdict GENUINE).
run: setup build pcscd
	@scripts/demo $(BIN)

# The reader alone: a specimen chip (synthetic data) read with a master list.
run-specimen: setup build pcscd
	@scripts/demo-specimen $(BIN)

# Everything, against the real components (pcscd + vpcd).
test: pcscd vet
	$(GO) test -count=1 -timeout 15m ./...

test-short:
	$(GO) test -short ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# Short run of every fuzz target (FUZZTIME per target).
FUZZTIME ?= 10s
fuzz:
	@scripts/fuzz-all $(FUZZTIME)

bench: build pcscd
	$(GO) test -run '^$$' -bench . -benchmem ./reader/... ./hardware/... ./internal/... ./cmd/...

# The numbers of BENCHMARKS.md "Reading a chip".
bench-read: pcscd
	@scripts/bench-read

# The numbers of BENCHMARKS.md "Access control and authentication" (in process).
bench-auth:
	@scripts/bench-auth

# The numbers of BENCHMARKS.md "Passive Authentication": verify.BenchmarkPA
# beside `openssl speed ecdsabrp256r1`, in the same run.
bench-pa:
	@scripts/bench-pa

# The numbers of BENCHMARKS.md "Enrolment": enrolments per second with
# encryption and audit beside raw INSERTs of the same bytes, same run.
bench-enrol:
	@scripts/bench-enrol

# The numbers of BENCHMARKS.md "Cross-border status": status queries per
# second and p50/p99 at 1, 16, 64 keep-alive connections (single and
# batches of 100) beside pgbench -S on the same cluster, one run (~2 min).
bench-crossborder: build
	@scripts/bench-crossborder

clean:
	rm -rf bin
