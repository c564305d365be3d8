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

## test: every Go test, with the race detector (installs xmlsec1 and zeep first: WS-Security tests check against them)
test: test-deps
	$(GO) test -race -count=1 ./...

test-deps:
	CRMSOAP_INTEROP_ONLY="zeep xmlsec" bash interop/run.sh --install-only

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

## lint: gofmt, go vet, and the dependency rules (soap and store never import the CRM packages; service no transport)
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	@! $(GO) list -deps ./soap/... | grep -E 'crmsoap/(service|store|wsdl)$$' || { echo "soap must not import service, store or wsdl"; exit 1; }
	@! $(GO) list -deps ./store/... | grep -E 'crmsoap/(service|soap|wsdl)' || { echo "store must not import service, soap or wsdl"; exit 1; }
	@! $(GO) list -deps ./store ./store/storetest | grep -E '^(database/sql|github.com/mattn/go-sqlite3)$$' || { echo "store and store/storetest hold no SQL: drivers only in store/<backend>"; exit 1; }
	@! $(GO) list -deps ./service/... | grep -E '^(net/http|github.com/hooklift/.*|github.com/crmsoap/crmsoap/(soap|wsdl).*)$$' || { echo "service must stay transport-neutral: no net/http, gowsdl, soap or wsdl"; exit 1; }

## interop: third-party clients (zeep, PHP SoapClient, node-soap, xmlsec1) against a real server
interop:
	bash interop/run.sh

BENCH_FLAGS ?= --duration 10s --conns 64,8

## bench: Go benchmarks of the hot path, then the load generator against a real server (docs/BENCHMARKS.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) build -o $(BIN) ./cmd/crmsoap
	$(BIN) bench $(BENCH_FLAGS)

## fuzz: each fuzz target for FUZZTIME executions (or a duration such as 30s)
fuzz:
	bash .ci/fuzz.sh $(FUZZTIME)

## ci: what CI runs
ci:
	bash .ci/run
