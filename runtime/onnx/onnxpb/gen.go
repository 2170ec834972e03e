// Package onnxpb holds the Go types of the ONNX protobuf schema (onnx.proto, proto2, IR version 8),
// generated from the onnx.proto that Debian's libonnx-dev 1.12.0 ships. It is used to write ONNX
// models (runtime/modelgen) and to read what a model file declares (runtime/ortexec).
//
// onnx.pb.go is generated and committed, so building needs no protoc. To regenerate it
// byte-for-byte (Debian 12; needs apt-get, dpkg-deb, sha256sum and network access to the Debian
// archive and the Go module proxy):
//
//	apt-get install protobuf-compiler       # 3.21.12-3+deb12u1; the version is printed into onnx.pb.go
//	go generate ./runtime/onnx/onnxpb
//
// go generate runs regen.sh, which:
//  1. downloads libonnx-dev 1.12.0-2+b4 with `apt-get download` and unpacks it with `dpkg-deb -x`;
//  2. checks /usr/include/onnx/onnx.proto against sha256
//     a96f50c0fe1ff9180b6025843d4f7efcf53b024c83db55a36cd24a1e44345182;
//  3. installs protoc-gen-go v1.36.12 into a temporary GOBIN
//     (`GOFLAGS= go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12`);
//  4. runs `protoc -I <dir> --go_out=. --go_opt=paths=source_relative
//     --go_opt=Monnx.proto=github.com/nnrp-gpu/nnrp-gpu/runtime/onnx/onnxpb onnx.proto`.
//
// With protoc 3.21.12 and protoc-gen-go v1.36.12 the result has sha256
// 99e3f545be1fa8c19a4876b8da2d6fbe7389775a12fa13b8c7fd7e1b9dc8ccaa.
package onnxpb

//go:generate bash regen.sh
