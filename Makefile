# zwfw — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
PKGS := ./...
# Real Redis when one answers (REDIS_URL or 127.0.0.1:6379), embedded miniredis otherwise:
# platform/testenv decides per test binary.
TEST_FLAGS ?= -count=1 -timeout 12m
# The packages whose tests touch Redis (platform/testenv's Redis).
REDIS_PKGS := ./identity/... ./province/... ./booking/... ./wxapi/... ./platform/... ./bff/...

.PHONY: run sandbox build test chromium test-embedded-redis test-redis-cluster config-table bench load lint lint-api fmt vet clean

## run: the whole service on the embedded default (FerretDB, miniredis, sandbox, demo data) on 127.0.0.1:8080
run:
	$(GO) run ./cmd/zwfw

## sandbox: the outside-system fakes alone on 127.0.0.1:8090
sandbox:
	$(GO) run ./cmd/sandbox

build:
	$(GO) build -o bin/zwfw ./cmd/zwfw
	$(GO) build -o bin/sandbox ./cmd/sandbox

## test: unit, integration and HTTP journey tests (embedded MongoDB; real Redis if it answers),
## and the staff console's journeys in headless Chromium
test: lint chromium
	@if (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then echo "tests use the real Redis at 127.0.0.1:6379"; else echo "no Redis on 127.0.0.1:6379: tests use embedded miniredis"; fi
	$(GO) test $(TEST_FLAGS) $(PKGS)
	cd api && $(GO) test $(TEST_FLAGS) ./... # the released API's contract (a module of its own: oasdiff)

## chromium: Debian's Chromium and a Chinese font for the staff console's browser tests,
## installed with apt-get when missing (as root, or through sudo)
chromium:
	@if [ -x /usr/bin/chromium ] && fc-list :lang=zh family 2>/dev/null | grep -q .; then exit 0; fi; \
	  sudo=; if [ "$$(id -u)" != 0 ]; then sudo=sudo; fi; \
	  echo "installing Debian's chromium and fonts-wqy-microhei with apt-get"; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei

## test-embedded-redis: the Redis-touching tests again, forced onto miniredis
test-embedded-redis:
	ZWFW_TEST_REDIS=embedded $(GO) test $(TEST_FLAGS) $(REDIS_PKGS)

## test-redis-cluster: the Redis-touching tests against a real three-master Redis Cluster
## (redis-server processes in cluster mode on loopback ports, torn down afterwards)
test-redis-cluster:
	$(GO) run ./platform/testenv/rediscluster -masters 3 -- $(GO) test $(TEST_FLAGS) $(REDIS_PKGS)

## chaos: the fault suite (cmd/chaos): the real zwfw (ZWFW_SANDBOX=off), the standalone sandbox and
## redis-server on loopback, killed and faulted on purpose; prints what was lost or duplicated,
## counted in the store and at the sandbox, and fails if anything was (a few minutes)
chaos: redis-server
	$(GO) run ./cmd/chaos -go $(GO)

## chaos-short: the fault suite's short version (CI, a minute or two): fewer rounds and copies,
## the scenarios side by side
chaos-short: redis-server
	$(GO) run ./cmd/chaos -go $(GO) -short

## redis-server: the machine's redis-server, installed with apt-get when missing (as root, or through sudo)
redis-server:
	@if command -v redis-server >/dev/null; then exit 0; fi; \
	  sudo=; if [ "$$(id -u)" != 0 ]; then sudo=sudo; fi; \
	  echo "installing redis-server with apt-get"; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server

.PHONY: chaos chaos-short redis-server

## config-table: rewrite README.md's configuration table from bff/config_table.go
config-table:
	$(GO) run ./cmd/zwfw -write-config-table README.md

## bench: benchmarks; HTTP figures are ratios against a bare Fiber handler measured in the same run
bench:
	@set -o pipefail; { \
	  $(GO) test -run '^$$' -bench . -benchtime 3000x -count 3 -timeout 40m ./bff/ && \
	  $(GO) test -run '^$$' -bench . -benchtime 2s -count 1 ./pii/ ./province/ ./payments/... ./logistics/... ./notify/... && \
	  $(GO) test -run '^$$' -bench BookVsRawGuarded -benchtime 300x -count 3 ./booking/ && \
	  $(GO) test -run '^$$' -bench . -skip Hotline -benchtime 1000x -count 3 ./console/ && \
	  $(GO) test -run '^$$' -bench Hotline -benchtime 300x -count 3 -timeout 30m ./console/ && \
	  $(GO) test -run '^$$' -bench . -benchtime 200x -count 1 ./platform/... ; } | tee bench.out

## load: the load harness (cmd/load, docs/load.md): the real zwfw over loopback against a bare Fiber
## handler in the same run, embedded default and a real Redis; about 10 minutes; not part of test or CI.
## LOAD_QUICK=1 for a smoke check; LOAD_FLAGS passes flags (go run ./cmd/load -h)
load:
	$(GO) run ./cmd/load -go $(GO) $(LOAD_FLAGS)

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	cd api && $(GO) vet ./...

# The API's Node tools (Redocly CLI, openapi-typescript, TypeScript), pinned by
# tools/node/package-lock.json and installed there on first use.
NODE_TOOLS := tools/node/node_modules/.bin
NODE_TOOLS_STAMP := tools/node/node_modules/.package-lock.json
REDOCLY := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(NODE_TOOLS)/redocly
$(NODE_TOOLS_STAMP): tools/node/package.json tools/node/package-lock.json
	cd tools/node && npm ci --no-audit --no-fund

## lint-api: Redocly CLI's recommended rules on bff/openapi.yaml; fails on any error or warning
lint-api: $(NODE_TOOLS_STAMP)
	@set -o pipefail; $(REDOCLY) lint --config redocly.yaml --format stylish --max-problems 1000 bff/openapi.yaml 2>&1 \
	  | grep -v '[║╔╚]' | tee /tmp/zwfw-lint-api.$$$$.out; rc=$$?; \
	  if grep -Eq '^ +[0-9]+:[0-9]+ +warning ' /tmp/zwfw-lint-api.$$$$.out; then echo "lint-api: warnings are failures here"; rc=1; fi; \
	  rm -f /tmp/zwfw-lint-api.$$$$.out; exit $$rc

.PHONY: api-spec api-release examples client client-types client-staleness-test

## api-spec: rewrite openapi.yaml's generated ErrorCode list from the code (apperr)
api-spec:
	$(GO) run ./cmd/apispec -error-codes

## api-release: keep the working spec as the released v1 (api/openapi.v1.yaml) that make test
## guards against breaking changes; run at a release, with its CHANGELOG.md entry
api-release:
	cp bff/openapi.yaml api/openapi.v1.yaml

## examples: record one real request/response per operation from the bff tests, then write them
## into openapi.yaml as examples (idempotent; a failing test only loses that test's recordings)
EXAMPLES_DIR ?= $(CURDIR)/data/api-examples
examples: api-spec
	rm -rf $(EXAMPLES_DIR)
	ZWFW_RECORD_EXAMPLES=$(EXAMPLES_DIR) $(GO) test -count=1 -timeout 20m -skip '^TestEveryOperationHasExamples$$' ./bff/ \
	  || echo "examples: some bff tests failed; writing the examples the others recorded"
	$(GO) run ./cmd/apispec -examples $(EXAMPLES_DIR)

## client: regenerate clients/ts/src/schema.ts from openapi.yaml (fails when the committed one
## was stale: commit the regenerated file), type-check the client and its README example, and
## show that the staleness check catches a changed spec
CLIENT_TS := clients/ts
OPENAPI_TS := $(NODE_TOOLS)/openapi-typescript
API_SPEC ?= bff/openapi.yaml
CLIENT_SCHEMA ?= $(CLIENT_TS)/src/schema.ts
client: client-types client-staleness-test
	@mkdir -p $(CLIENT_TS)/.build && awk '/^```ts$$/{f=1;next} /^```$$/{f=0} f' $(CLIENT_TS)/README.md > $(CLIENT_TS)/.build/readme-example.ts
	$(NODE_TOOLS)/tsc -p $(CLIENT_TS)/tsconfig.json
	@echo "client: types match bff/openapi.yaml; tsc --noEmit passed"

client-types: $(NODE_TOOLS_STAMP)
	@if ! $(OPENAPI_TS) $(API_SPEC) -o $(CLIENT_SCHEMA) --check >/dev/null 2>&1; then \
	  $(OPENAPI_TS) $(API_SPEC) -o $(CLIENT_SCHEMA) >/dev/null && \
	  echo "client: $(CLIENT_SCHEMA) was stale and has been regenerated from $(API_SPEC): commit it" && exit 1; fi

# A spec with one more response field must make client-types fail on the committed types
# (and pass once they are regenerated); run on copies, the committed files untouched.
client-staleness-test: $(NODE_TOOLS_STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && cp $(CLIENT_SCHEMA) $$tmp/schema.ts && \
	  sed -E 's/^( *)status: \{type: string, enum: \[ok\]/\1uptime_s: {type: integer}\n&/' $(API_SPEC) > $$tmp/openapi.yaml && \
	  ! cmp -s $(API_SPEC) $$tmp/openapi.yaml && \
	  if $(MAKE) --no-print-directory -s client-types API_SPEC=$$tmp/openapi.yaml CLIENT_SCHEMA=$$tmp/schema.ts >/dev/null 2>&1; then \
	    echo "client-staleness-test: a changed spec was not caught"; exit 1; fi && \
	  $(MAKE) --no-print-directory -s client-types API_SPEC=$$tmp/openapi.yaml CLIENT_SCHEMA=$$tmp/schema.ts && \
	  grep -q 'uptime_s' $$tmp/schema.ts && echo "client-staleness-test: a changed spec makes the committed types stale (caught)"

fmt:
	gofmt -w .

clean:
	rm -rf bin data bench.out
