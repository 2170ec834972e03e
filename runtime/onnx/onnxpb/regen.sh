#!/usr/bin/env bash
# Regenerates onnx.pb.go from Debian's onnx.proto. Run through `go generate` (see gen.go).
set -euo pipefail

ONNX_DEB_VERSION=1.12.0-2+b4
PROTO_SHA256=a96f50c0fe1ff9180b6025843d4f7efcf53b024c83db55a36cd24a1e44345182
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_VERSION="libprotoc 3.21.12"
GO_PACKAGE=github.com/nnrp-gpu/nnrp-gpu/runtime/onnx/onnxpb

out=$(pwd)
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
if [ "$(protoc --version)" != "$PROTOC_VERSION" ]; then
	echo "protoc is '$(protoc --version)', want '$PROTOC_VERSION' (its version is written into onnx.pb.go)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download "libonnx-dev=$ONNX_DEB_VERSION" >/dev/null)
dpkg-deb -x "$tmp"/libonnx-dev_*.deb "$tmp/root"
proto_dir="$tmp/root/usr/include/onnx"
echo "$PROTO_SHA256  $proto_dir/onnx.proto" | sha256sum -c --quiet ||
	{ echo "onnx.proto from libonnx-dev $ONNX_DEB_VERSION has an unexpected sha256" >&2; exit 1; }

GOBIN="$tmp/bin" GOFLAGS= go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
PATH="$tmp/bin:$PATH" protoc -I "$proto_dir" --go_out="$out" --go_opt=paths=source_relative \
	--go_opt="Monnx.proto=$GO_PACKAGE" onnx.proto
sha256sum "$out/onnx.pb.go"
