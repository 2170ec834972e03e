// Package orttest holds the test helpers shared by every package whose tests need native files
// that are fetched, not committed: the ONNX Runtime library (ORT_LIB) and the test photograph
// (NNRP_TEST_IMAGE).
//
// The rule: a test that needs such a file is skipped when the variable is unset or names a
// missing file — except under CI (CI=true), where it fails, so that a CI run can never pass by
// skipping.
package orttest

import (
	"os"
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
)

// RequireFile returns the path named by the environment variable env, applying the rule above;
// fetch tells the reader how to provide it (e.g. "make ort").
func RequireFile(t testing.TB, env, fetch string) string {
	t.Helper()
	p := os.Getenv(env)
	why := env + " is not set"
	if p != "" {
		why = ""
		if _, err := os.Stat(p); err != nil {
			why = env + "=" + p + ": " + err.Error()
		}
	}
	if why == "" {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: tests that need it fail instead of skipping; %s)", why, fetch)
	}
	t.Skipf("%s; %s to run this test", why, fetch)
	return ""
}

// Init makes sure the ONNX Runtime environment is up (ORT_LIB, see RequireFile) and returns the
// library path.
func Init(t testing.TB) string {
	t.Helper()
	p := RequireFile(t, ortexec.LibraryEnv, "run `make ort` and export ORT_LIB (the Makefile does both)")
	if err := ortexec.Init(p); err != nil {
		t.Fatalf("ortexec.Init: %v", err)
	}
	return p
}
