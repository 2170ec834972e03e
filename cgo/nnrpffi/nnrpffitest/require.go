// Package nnrpffitest holds test support around the official NNRP runtime:
// loading the library from the environment the Makefile sets up, an official
// echo server with scripted replies, and an echo load driver for benchmarks
// that compare servers under the same official client.
package nnrpffitest

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi"
)

// EnvVar is the environment variable that names the library carrying t:
// NNRP_FFI_TCP_LIB (TCP and TLS) or NNRP_FFI_QUIC_LIB (QUIC). `make` exports
// both.
func EnvVar(t nnrpffi.Transport) string {
	if t == nnrpffi.TransportQUIC {
		return "NNRP_FFI_QUIC_LIB"
	}
	return "NNRP_FFI_TCP_LIB"
}

// RequireLib loads the official library that carries transport which. When
// its environment variable is unset or names no file the test is skipped,
// except under CI=true, where that is a failure. A library that exists but
// does not load, or does not carry the transport, always fails the test.
func RequireLib(tb testing.TB, which nnrpffi.Transport) *nnrpffi.Lib {
	tb.Helper()
	env := EnvVar(which)
	path := os.Getenv(env)
	missing := ""
	switch {
	case which != nnrpffi.TransportTCP && which != nnrpffi.TransportQUIC:
		tb.Fatalf("nnrpffitest: no official library carries transport %s", which)
		return nil
	case path == "":
		missing = env + " is not set (run the tests through make, which fetches the library)"
	default:
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			missing = env + "=" + path + " does not exist (run `make nnrp-runtime`)"
		} else if err != nil {
			tb.Fatalf("nnrpffitest: %s: %v", env, err)
			return nil
		}
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("nnrpffitest: official NNRP runtime required under CI: %s", missing)
		} else {
			tb.Skipf("nnrpffitest: official NNRP runtime not available: %s", missing)
		}
		return nil
	}
	lib, err := nnrpffi.Load(path)
	if err != nil {
		tb.Fatalf("nnrpffitest: %s: %v", env, err)
		return nil
	}
	if !lib.Capabilities().Supports(which) {
		tb.Fatalf("nnrpffitest: %s=%s does not carry %s (slots 0x%x)", env, path, which, lib.Capabilities().TransportSlots)
		return nil
	}
	return lib
}
