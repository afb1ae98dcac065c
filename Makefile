# kamreg: `make demo` runs the demo, `make test` runs every test.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all deps build test check unit fuzz-short fuzz integration integration-kamailio integration-kamailio-run kamailio-image compose-test images demo bench bench-db bench-load bench-flush bench-authflood bench-watch clean

all: build

deps:
	@scripts/deps.sh

# The version stamped into the binary: the nearest tag, else the commit.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/kamreg ./cmd/kamreg

# The whole suite: formatting, vet, unit tests, then the integration tests
# against real PostgreSQL, Kamailio and sipp, then the compose smoke test.
test: deps check unit fuzz-short integration integration-kamailio compose-test

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

# The integration suite against the other verified Kamailio: the host's
# Debian ships one (5.6 on Debian 12, 6.0 on Debian 13), a container of
# kamailio/Dockerfile built on the other release runs the other, on the
# host's network and bound to 127.0.0.1 (testbed's kamailioImage). The e2e
# suite runs whole on both; the SQL tests of store/ and kamailio/ and the
# app/ tests run no Kamailio and run once, in `integration`.
HOST_DEBIAN := $(shell . /etc/os-release 2>/dev/null && echo $${VERSION_ID%%.*})
OTHER_DEBIAN := $(if $(filter 13,$(HOST_DEBIAN)),12,13)
OTHER_KAMAILIO := $(if $(filter 13,$(OTHER_DEBIAN)),6.0,5.6)
KAMAILIO_IMAGE ?= kamreg-kamailio:debian$(OTHER_DEBIAN)

integration-kamailio:
	scripts/with-dockerd.sh $(MAKE) --no-print-directory kamailio-image integration-kamailio-run

kamailio-image:
	scripts/images.sh
	docker build -q -f kamailio/Dockerfile --build-arg DEBIAN=$(OTHER_DEBIAN) -t $(KAMAILIO_IMAGE) . >/dev/null

integration-kamailio-run:
	@echo "integration suite against Kamailio $(OTHER_KAMAILIO) ($(KAMAILIO_IMAGE))"
	KAMREG_TEST_KAMAILIO_IMAGE=$(KAMAILIO_IMAGE) KAMREG_TEST_KAMAILIO_MAJOR=$(OTHER_KAMAILIO) \
		$(GO) test -tags integration -count=1 -timeout 20m -v ./e2e/; \
		status=$$?; ids=$$(docker ps -aq --filter label=kamreg-testbed); \
		[ -z "$$ids" ] || docker rm -f $$ids >/dev/null; exit $$status

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
