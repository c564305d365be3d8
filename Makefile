# crmsoap: the two commands a newcomer needs are `make run` and `make test`.

GO        ?= go
BIN       ?= bin/crmsoap
RUN_FLAGS ?= --insecure-no-auth
FUZZTIME  ?= 10000x
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: run test test-deps build generate check-generate golden lint interop bench fuzz ci

## run: start the server on 127.0.0.1:8080 with ./crm.db (development mode: no signature checks)
run:
	$(GO) run ./cmd/crmsoap serve $(RUN_FLAGS)

## test: every Go test, with the race detector (installs xmlsec1 and zeep first: WS-Security tests check against them;
##       and PostgreSQL, whose tests start a throwaway server, or use CRMSOAP_TEST_POSTGRES=postgres://...)
test: test-deps
	$(GO) test -race -count=1 ./...

test-deps:
	CRMSOAP_INTEROP_ONLY="zeep xmlsec" bash interop/run.sh --install-only
	bash .ci/debian.sh postgresql nats-server

## build: the binary in bin/, stamped with the version (`crmsoap version`, the start log line)
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/crmsoap

## generate: regenerate the Go types from wsdl/crmsoap.wsdl (gowsdl, pinned in go.mod)
generate:
	$(GO) generate ./wsdl

## check-generate: fail when the committed generated code differs from a fresh generation
check-generate: generate
	git diff --exit-code -- wsdl/

## golden: rewrite the golden envelopes (soap, end to end) from the current behaviour; review the diff
golden:
	$(GO) test -count=1 -run 'Golden' ./soap -update
	$(GO) test -count=1 ./cmd/crmsoap -run 'Golden' -update

## lint: gofmt, go vet, staticcheck (pinned in go.mod), and the dependency table of every package (.ci/depcheck)
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./... ./.ci/depcheck
	$(GO) tool staticcheck ./... ./.ci/depcheck
	$(GO) test -count=1 ./.ci/depcheck
	$(GO) run ./.ci/depcheck

## interop: third-party clients (zeep, PHP SoapClient, node-soap, xmlsec1) and clients generated from the served WSDL (Mono wsdl, gSOAP, KDSoap, Perl SOAP::WSDL) against a real server
interop:
	bash interop/run.sh

BENCH_FLAGS ?= --duration 10s --conns 64,8

## bench: Go benchmarks of the hot path, then the load generator against a real server (docs/BENCHMARKS.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) build -o $(BIN) ./cmd/crmsoap
	$(GO) build -o $(BIN)-bench ./cmd/crmsoap-bench
	$(BIN)-bench --server-bin $(BIN) $(BENCH_FLAGS)

## fuzz: each fuzz target for FUZZTIME executions (or a duration such as 30s)
fuzz:
	bash .ci/fuzz.sh $(FUZZTIME)

## ci: what CI runs
ci:
	bash .ci/run
