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

# Anime4K CNN 2x S weights (MIT, npm @websr/websr) for `make models`; a copy
# is committed next to the converter's tests (runtime/modelgen/testdata).
WEBSR_VERSION     := 0.0.15
WEBSR_TGZ_SHA256  := 306586dcaceae60a5fe6a399eedd1d0c6ac9d8a7139fb5cf167df3095a81b214
WEBSR_JSON_SHA256 := 28f9853f8a4640dbc2bef0617e8dc5929590f46c16c5a5fd50a9de2502f8724b
WEBSR_WEIGHTS     := $(TP)/websr/cnn-2x-s-rl.json

# A real photograph shipped in a Debian package (skimage's astronaut, public
# domain), used by the super-resolution quality test; never committed.
TEST_IMAGE_DEB    := python3-skimage=0.19.3-8
TEST_IMAGE_SHA256 := 88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5
NNRP_TEST_IMAGE   := $(TP)/testdata/astronaut.png

GOLANGCI_VERSION := v2.15.0
GOLANGCI         := $(BIN)/golangci-lint-$(GOLANGCI_VERSION)

# Packages whose tests run with -race (the concurrent ones).
RACE_PKGS := $(foreach d,nnrp runtime gpu,$(if $(wildcard $(d)),./$(d)/...))
FUZZTIME  ?= 30s

export ORT_LIB NNRP_FFI_TCP_LIB NNRP_FFI_QUIC_LIB NNRP_TEST_IMAGE

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

.PHONY: weights
weights: $(WEBSR_WEIGHTS) ## fetch the Anime4K S weights (MIT, npm @websr/websr, sha256-checked)
$(WEBSR_WEIGHTS):
	@$(call fetch_npm_file,@websr/websr@$(WEBSR_VERSION),$(WEBSR_TGZ_SHA256),package/weights/anime4k/cnn-2x-s-rl.json,$@,$(WEBSR_JSON_SHA256))

.PHONY: test-image
test-image: $(NNRP_TEST_IMAGE) ## fetch the test photograph from Debian's python3-skimage (sha256-checked)
$(NNRP_TEST_IMAGE):
	@echo "fetching $(TEST_IMAGE_DEB) → $@"; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; chmod 755 "$$tmp"; \
	get() { (cd "$$tmp" && apt-get download -q "$(TEST_IMAGE_DEB)" >/dev/null 2>&1); }; \
	get || { apt-get update -qq >/dev/null && get; } || { echo "apt-get download $(TEST_IMAGE_DEB) failed" >&2; exit 1; }; \
	dpkg-deb --fsys-tarfile "$$tmp"/python3-skimage_*.deb | tar -x -C "$$tmp" ./usr/lib/python3/dist-packages/skimage/data/astronaut.png; \
	mkdir -p "$(@D)"; install -m 0644 "$$tmp/usr/lib/python3/dist-packages/skimage/data/astronaut.png" "$@"; \
	echo "$(TEST_IMAGE_SHA256)  $@" | sha256sum -c --quiet || { rm -f "$@"; echo "sha256 mismatch for $@" >&2; exit 1; }

.PHONY: deps
deps: ort nnrp-runtime test-image ## fetch every native dependency and test input
	@$(GO) mod download

.PHONY: build
build: ## build the nnrp-gpu binary into bin/
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/nnrp-gpu ./cmd/nnrp-gpu

# Where `make run` listens; override on the command line (make run RUN_FLAGS=...).
RUN_FLAGS ?= --tcp 127.0.0.1:7700 --quic 127.0.0.1:7701 --unix $(CURDIR)/bin/nnrp.sock
.PHONY: run
run: ort build ## serve the shipped default model (anime4k-s-2x) on TCP, QUIC and a Unix socket
	$(BIN)/nnrp-gpu serve --models models --default-model anime4k-s-2x $(RUN_FLAGS)

.PHONY: models
models: weights ## regenerate models/ from the pinned weights (byte-reproducible: git diff shows nothing)
	$(GO) run ./cmd/nnrp-gpu models build --weights $(WEBSR_WEIGHTS) --out models
	$(GO) run ./cmd/nnrp-gpu models validate models

.PHONY: test
test: deps ## vet, then every test (race detector on the concurrent packages), brief fuzzing under CI
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./nnrp/...
	$(GO) test -race -count=1 $(RACE_PKGS)
	$(GO) test -count=1 $$($(GO) list ./... | grep -v -E '/(nnrp|runtime|gpu)(/|$$)')
	$(GO) run ./cmd/nnrp-gpu models build --check --out models
	$(GO) run ./cmd/nnrp-gpu models validate models
	@if [ "$${CI:-}" = "true" ]; then $(MAKE) --no-print-directory fuzz FUZZTIME=10s; fi

.PHONY: fuzz
# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline
# exceeded" when -fuzztime ends (golang/go#75804, fixed in Go 1.27). Such a
# run wrote no failing input; only a run that wrote one (testdata/fuzz/<Target>/)
# or failed for another reason fails here.
fuzz: ## run every fuzz target for FUZZTIME each (default 30s)
	@for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)' $$dir/*_test.go 2>/dev/null | awk '{print $$2}'); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    before=$$( (ls $$dir/testdata/fuzz/$$f 2>/dev/null || true) | wc -l); \
	    out=$$(mktemp); \
	    if $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg >$$out 2>&1; then \
	      tail -n 2 $$out; rm -f $$out; continue; \
	    fi; \
	    after=$$( (ls $$dir/testdata/fuzz/$$f 2>/dev/null || true) | wc -l); \
	    if [ "$$after" = "$$before" ] && grep -q 'context deadline exceeded' $$out && ! grep -q -E 'panic|Failing input written' $$out; then \
	      echo "fuzz $$f: ignoring the Go 1.26 fuzztime-deadline race (no failing input written)"; rm -f $$out; continue; \
	    fi; \
	    cat $$out; rm -f $$out; exit 1; \
	  done; \
	done

.PHONY: bench
bench: deps ## run the Go benchmarks (allocations reported)
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./...

ROUNDS     ?= 5
BENCH_TIME ?= 2s
.PHONY: bench-official
bench-official: deps ## official client → our server vs → official server, each server in its own process: ROUNDS paired runs (BENCH_TIME per case), median ratios
	$(GO) test -c -o $(BIN)/nnrpffi.test ./cgo/nnrpffi
	@rm -f $(BIN)/bench-official.txt
	@for i in $$(seq $(ROUNDS)); do \
		echo "bench-official: round $$i of $(ROUNDS)" >&2; \
		$(BIN)/nnrpffi.test -test.run='^$$' -test.bench='^BenchmarkOfficialClientProcess$$' -test.benchtime=$(BENCH_TIME) >> $(BIN)/bench-official.txt || exit 1; \
	done
	$(GO) run ./cgo/nnrpffi/nnrpffitest/benchpair < $(BIN)/bench-official.txt

$(GOLANGCI):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	mv $(BIN)/golangci-lint $@

.PHONY: lint
lint: $(GOLANGCI) ## golangci-lint (staticcheck, errorlint, depguard layer rules), gofmt
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed" >&2; exit 1; }
	$(GOLANGCI) run ./...

.PHONY: onnxpb
onnxpb: ## regenerate runtime/onnx/onnxpb/onnx.pb.go (needs Debian protobuf-compiler)
	$(GO) generate ./runtime/onnx/onnxpb

.PHONY: clean
clean: ## remove build outputs (keeps fetched libraries)
	rm -rf $(BIN)
