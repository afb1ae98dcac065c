# kamreg: `make demo` runs the demo, `make test` runs every test.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all deps build test check unit fuzz-short fuzz integration compose-test images demo bench bench-db bench-load bench-flush bench-authflood bench-watch clean

all: build

deps:
	@scripts/deps.sh

# The version stamped into the binary: the nearest tag, else the commit.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/kamreg ./cmd/kamreg

# The whole suite: formatting, vet, unit tests, then the integration tests
# against real PostgreSQL, Kamailio and sipp, then the compose smoke test.
test: deps check unit fuzz-short integration compose-test

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...

unit:
	$(GO) test -count=1 ./...

# Every fuzz target with its seed corpus (testdata/fuzz), briefly in
# `make test` (a count of inputs, not a time: a short time limit on a busy
# machine can end a worker mid-input and fail with "context deadline
# exceeded"), longer with `make fuzz` (FUZZTIME=60s by default).
FUZZ_TARGETS := ./adapter:FuzzParseURI ./adapter:FuzzAppendJSON ./rest:FuzzStartKey ./rest:FuzzListOptions \
	./auth:FuzzToken ./kamailio:FuzzDecodeDump ./jsontext:FuzzString
FUZZTIME ?= 60s

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=20000x

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME); \
	done

# Every package with the integration tag: the e2e suite, and the SQL of
# store/ and kamailio/ against a throwaway PostgreSQL.
integration:
	$(GO) test -tags integration -count=1 -timeout 20m -v ./...

# docker-compose.yml for real: dockerd (started when none runs), the base
# images (scripts/images.sh builds them when they cannot be pulled), the
# stack on 127.0.0.1, sipp phones, the API, restarts, down -v.
compose-test:
	$(GO) vet -tags compose ./e2e/
	$(GO) test -tags compose -count=1 -timeout 25m -v -run TestComposeSmoke ./e2e/

# The base images the Dockerfiles name, built locally when missing.
images:
	scripts/images.sh

# PostgreSQL, Kamailio and a few sipp phones on loopback, kamreg on
# 127.0.0.1:8000; Ctrl-C stops everything.
demo: deps build
	$(GO) run ./testbed/demo --kamreg bin/kamreg

# Benchmarks (bench/README.md has the figures).
bench: bench-db bench-load bench-flush bench-authflood bench-watch

bench-db: deps build
	@command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(GO) run ./bench/db --kamreg bin/kamreg

bench-load: deps build
	$(GO) run ./bench/load --kamreg bin/kamreg

bench-flush: deps build
	$(GO) run ./bench/flush --kamreg bin/kamreg

bench-authflood: deps build
	$(GO) run ./bench/authflood --kamreg bin/kamreg

bench-watch: deps build
	$(GO) run ./bench/watch --kamreg bin/kamreg

clean:
	rm -rf bin
