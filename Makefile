# nnrp-gpu — the CI contract. `make test` and `make run` do all set-up themselves:
# native libraries are fetched from npm, pinned by version and sha256, into
# third_party/ (ignored by git).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
TP        := $(CURDIR)/third_party
BIN       := $(CURDIR)/bin

# ONNX Runtime 1.29.0 (matches onnxruntime_go v1.35.0, API 29), from npm
# onnxruntime-node; no install scripts run. See research/dependencies.md §2.
ORT_VERSION    := 1.29.0
ORT_TGZ_SHA256 := cfdfb45ec4044b1fdca43e5d2e180fb6817e649ff8ad1e0dfc90e18e51b67037
ORT_SO_SHA256  := 89688f5cf51c7e31befbb7b9101bc027799009b18d1baa9a5b1146a72e69538d
ORT_LIB        := $(TP)/onnxruntime/libonnxruntime.so.$(ORT_VERSION)

# The official NNRP runtime (SDK 1.0.0-preview.4.22, C ABI 4.4.0), used only by
# the interop tests. See nnrp/INTEROP.md.
NNRP_FFI_VERSION        := 1.0.0-preview.4.4
NNRP_TCP_TGZ_SHA256     := 67f3c156ca023f70fa370b3365f825e18401c0f7ac4d730b4445587bd1b5d83c
NNRP_TCP_SO_SHA256      := 5648618801a46a6fbe60da54d78a2b6ebae54a886d8e858bd1ec8298a6e3cc5f
NNRP_QUIC_TGZ_SHA256    := 9f7ad42e7ad852ce3dc51ee1915998e0358a81e76f16cea23586b2a7170f0e91
NNRP_QUIC_SO_SHA256     := 772b1904c503ba4ace4c0ff4955beb28b978b38596dd288207090a3cd6fd946d
NNRP_FFI_TCP_LIB        := $(TP)/nnrp-ffi/tcp/libnnrp_ffi.so
NNRP_FFI_QUIC_LIB       := $(TP)/nnrp-ffi/quic/libnnrp_ffi.so

GOLANGCI_VERSION := v2.15.0
GOLANGCI         := $(BIN)/golangci-lint-$(GOLANGCI_VERSION)

# Packages whose tests run with -race (the concurrent ones).
RACE_PKGS := ./nnrp/... ./runtime/... ./gpu/...
FUZZTIME  ?= 30s

export ORT_LIB NNRP_FFI_TCP_LIB NNRP_FFI_QUIC_LIB

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# fetch_npm_file PACKAGE@VERSION TGZ_SHA256 PATH_IN_TGZ DEST DEST_SHA256
define fetch_npm_file
	if [ -f "$(4)" ] && echo "$(5)  $(4)" | sha256sum -c --quiet 2>/dev/null; then exit 0; fi; \
	echo "fetching $(1) → $(4)"; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack --silent "$(1)" >/dev/null); \
	tgz=$$(ls "$$tmp"/*.tgz); \
	echo "$(2)  $$tgz" | sha256sum -c --quiet || { echo "sha256 mismatch for $(1)" >&2; exit 1; }; \
	tar -xzf "$$tgz" -C "$$tmp" "$(3)"; \
	mkdir -p "$$(dirname "$(4)")"; \
	install -m 0644 "$$tmp/$(3)" "$(4)"; \
	echo "$(5)  $(4)" | sha256sum -c --quiet || { echo "sha256 mismatch for $(4)" >&2; exit 1; }
endef

.PHONY: ort
ort: $(ORT_LIB) ## fetch the ONNX Runtime shared library (pinned, sha256-checked)
$(ORT_LIB):
	@$(call fetch_npm_file,onnxruntime-node@$(ORT_VERSION),$(ORT_TGZ_SHA256),package/bin/napi-v6/linux/x64/libonnxruntime.so.1,$@,$(ORT_SO_SHA256))

.PHONY: nnrp-runtime
nnrp-runtime: $(NNRP_FFI_TCP_LIB) $(NNRP_FFI_QUIC_LIB) ## fetch the official NNRP runtime libraries (interop tests)
$(NNRP_FFI_TCP_LIB):
	@$(call fetch_npm_file,@nnrp/transport-tcp@$(NNRP_FFI_VERSION),$(NNRP_TCP_TGZ_SHA256),package/native/linux-x86_64/libnnrp_ffi.so,$@,$(NNRP_TCP_SO_SHA256))
$(NNRP_FFI_QUIC_LIB):
	@$(call fetch_npm_file,@nnrp/transport-quic@$(NNRP_FFI_VERSION),$(NNRP_QUIC_TGZ_SHA256),package/native/linux-x86_64/libnnrp_ffi.so,$@,$(NNRP_QUIC_SO_SHA256))

.PHONY: deps
deps: ort nnrp-runtime ## fetch every native dependency
	@$(GO) mod download

.PHONY: build
build: ## build the nnrp-gpu binary into bin/
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/nnrp-gpu ./cmd/nnrp-gpu

.PHONY: test
test: deps ## vet, then every test (race detector on the concurrent packages), brief fuzzing under CI
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./nnrp/...
	$(GO) test -race -count=1 $(RACE_PKGS)
	$(GO) test -count=1 $$($(GO) list ./... | grep -v -E '/(nnrp|runtime|gpu)(/|$$)')
	@if [ "$${CI:-}" = "true" ]; then $(MAKE) --no-print-directory fuzz FUZZTIME=10s; fi

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 30s)
	@for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)' $$dir/*_test.go 2>/dev/null | awk '{print $$2}'); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

.PHONY: bench
bench: deps ## run the Go benchmarks (allocations reported)
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./...

$(GOLANGCI):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	mv $(BIN)/golangci-lint $@

.PHONY: lint
lint: $(GOLANGCI) ## golangci-lint (staticcheck, errorlint, depguard layer rules), gofmt
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed" >&2; exit 1; }
	$(GOLANGCI) run ./...

.PHONY: clean
clean: ## remove build outputs (keeps fetched libraries)
	rm -rf $(BIN)
